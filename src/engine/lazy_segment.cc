#include "engine/lazy_segment.h"

#include <fmt/format.h>

#include "engine/segment_format.h"

namespace ark {
namespace {

std::atomic<uint64_t> g_column_decodes{0};

}  // namespace

Result<std::shared_ptr<LazySegment>> LazySegment::Open(Env* env, const std::string& path,
                                                       const CollectionSchema& schema) {
  ARK_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, env->MapFileLazily(path));
  ARK_ASSIGN_OR_RETURN(SegmentContents layout, DecodeSegmentLayout(file->data(), path));
  ARK_RETURN_IF_ERROR(CheckSegmentMatchesSchema(layout, schema, path));
  std::shared_ptr<LazySegment> seg(new LazySegment());
  seg->path_ = path;
  seg->num_rows_ = layout.num_rows;
  const SegmentColumnInfo lsn_info = layout.columns.back();
  layout.columns.pop_back();  // "$lsn" is kept as lsns_, not as a column
  seg->infos_ = std::move(layout.columns);
  const size_t n = seg->infos_.size();
  seg->rows_ = std::make_shared<RowBatch>();
  seg->rows_->num_rows = layout.num_rows;
  seg->rows_->columns.resize(n);
  for (size_t i = 0; i < n; ++i) {
    seg->rows_->columns[i].type = seg->infos_[i].type;
    seg->rows_->columns[i].dim = seg->infos_[i].dim;
  }
  seg->state_.reset(new std::atomic<uint8_t>[n]);
  for (size_t i = 0; i < n; ++i) seg->state_[i].store(0, std::memory_order_relaxed);
  seg->errors_.resize(n);
  seg->pending_ = n;
  seg->file_ = std::move(file);

  std::lock_guard<std::mutex> lock(seg->mu_);
  {
    g_column_decodes.fetch_add(1, std::memory_order_relaxed);
    ARK_ASSIGN_OR_RETURN(Column lsns, DecodeSegmentColumn(seg->file_->data(), lsn_info, seg->num_rows_, path));
    seg->lsns_.assign(lsns.ints.begin(), lsns.ints.end());
  }
  // Needed to open: the key map, the delete marks, partition scoping.
  ARK_RETURN_IF_ERROR(seg->DecodeLocked(schema.PrimaryKeyIndex()));
  if (schema.PartitionColumn() >= 0) {
    ARK_RETURN_IF_ERROR(seg->DecodeLocked(static_cast<size_t>(schema.PartitionColumn())));
  }
  return seg;
}

Status LazySegment::DecodeLocked(size_t column) const {
  if (state_[column].load(std::memory_order_relaxed) == 1) return Status::OK();
  if (!errors_[column].ok()) return errors_[column];
  g_column_decodes.fetch_add(1, std::memory_order_relaxed);
  auto decoded = DecodeSegmentColumn(file_->data(), infos_[column], num_rows_, path_);
  if (!decoded.ok()) {
    errors_[column] = decoded.status();
    return errors_[column];
  }
  rows_->columns[column] = std::move(decoded).value();
  state_[column].store(1, std::memory_order_release);
  if (--pending_ == 0) file_.reset();  // every column is owned now
  return Status::OK();
}

Status LazySegment::EnsureColumn(size_t column) const {
  if (column >= infos_.size()) {
    return Status::Internal(fmt::format("segment file {}: no column {}", path_, column));
  }
  if (state_[column].load(std::memory_order_acquire) == 1) return Status::OK();
  std::lock_guard<std::mutex> lock(mu_);
  return DecodeLocked(column);
}

Status LazySegment::EnsureAll() const {
  for (size_t i = 0; i < infos_.size(); ++i) ARK_RETURN_IF_ERROR(EnsureColumn(i));
  return Status::OK();
}

bool LazySegment::mapped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return file_ != nullptr;
}

uint64_t LazySegment::ColumnDecodes() { return g_column_decodes.load(std::memory_order_relaxed); }

}  // namespace ark
