#include "engine/collection_snapshot.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "expr/bitmap.h"

namespace ark {

std::vector<std::string> CollectionSnapshot::PartitionNames() const {
  std::vector<std::string> out{std::string(kDefaultPartition)};
  for (const auto& [name, id] : *partitions_) out.push_back(name);
  return out;
}

Result<int64_t> CollectionSnapshot::PartitionId(std::string_view name) const {
  if (name == kDefaultPartition) return kDefaultPartitionId;
  auto it = partitions_->find(name);
  if (it == partitions_->end()) {
    return Status::NotFound(fmt::format("partition not found[partition={}]", name));
  }
  return it->second;
}

Result<std::shared_ptr<const CollectionSnapshot>> CollectionSnapshot::Restrict(
    const std::vector<std::string>& partitions) const {
  auto copy = std::make_shared<CollectionSnapshot>(*this);
  copy->scope_.clear();
  for (const auto& name : partitions) {
    ARK_ASSIGN_OR_RETURN(int64_t id, PartitionId(name));
    copy->scope_.push_back(id);
  }
  std::sort(copy->scope_.begin(), copy->scope_.end());
  copy->scope_.erase(std::unique(copy->scope_.begin(), copy->scope_.end()), copy->scope_.end());
  return std::shared_ptr<const CollectionSnapshot>(std::move(copy));
}

bool CollectionSnapshot::InScope(const RowBlock& block, size_t row) const {
  if (scope_.empty()) return true;
  const int col = schema_->PartitionColumn();
  const int64_t id = col < 0 ? kDefaultPartitionId : block.rows().columns[col].ints[row];
  return std::binary_search(scope_.begin(), scope_.end(), id);
}

size_t CollectionSnapshot::ScopeBits(const RowBlock& block, expr::Bitmap* out) const {
  *out = expr::Bitmap(block.num_rows(), false);
  size_t n = 0;
  for (size_t r = 0; r < block.num_rows(); ++r) {
    if (InScope(block, r)) {
      out->Set(r, true);
      ++n;
    }
  }
  return n;
}

void CollectionSnapshot::ForEachVisibleRow(
    const std::function<void(const RowBlock&, size_t)>& fn) const {
  for (const auto& block : *sealed_) {
    for (size_t r = 0; r < block->num_rows(); ++r) {
      if (block->VisibleAt(r, lsn_) && InScope(*block, r)) fn(*block, r);
    }
  }
  for (const auto& g : growing_) {
    for (size_t i = 0; i < g.count; ++i) {
      const RowBlock& block = *g.segment->at(i);
      for (size_t r = 0; r < block.num_rows(); ++r) {
        if (block.VisibleAt(r, lsn_) && InScope(block, r)) fn(block, r);
      }
    }
  }
}

uint64_t CollectionSnapshot::CountRows() const {
  uint64_t n = 0;
  ForEachVisibleRow([&](const RowBlock&, size_t) { ++n; });
  return n;
}

Result<RowBatch> CollectionSnapshot::Get(const std::vector<PrimaryKey>& keys) const {
  struct Hit {
    const RowBlock* block = nullptr;
    size_t row = 0;
  };
  std::unordered_map<PrimaryKey, Hit> wanted;
  for (const auto& k : keys) wanted.emplace(k, Hit{});
  const size_t pk = schema_->PrimaryKeyIndex();
  for (const auto& block : *sealed_) {
    for (auto& [key, hit] : wanted) {
      auto it = block->pk_index().find(key);
      if (it != block->pk_index().end() && block->VisibleAt(it->second, lsn_)) {
        hit = {block.get(), it->second};
      }
    }
  }
  for (const auto& g : growing_) {
    for (size_t i = 0; i < g.count; ++i) {
      const RowBlock& block = *g.segment->at(i);
      const Column& keys_col = block.rows().columns[pk];
      for (size_t r = 0; r < block.num_rows(); ++r) {
        if (!block.VisibleAt(r, lsn_)) continue;
        auto it = wanted.find(PrimaryKeyAt(keys_col, r));
        if (it != wanted.end()) it->second = {&block, r};
      }
    }
  }
  RowBatch out = RowBatch::Empty(*schema_);
  for (const auto& k : keys) {
    auto it = wanted.find(k);
    if (it == wanted.end() || it->second.block == nullptr) continue;
    if (!InScope(*it->second.block, it->second.row)) continue;
    ARK_RETURN_IF_ERROR(it->second.block->EnsureColumns());  // decoded on first use
    out.AppendRow(it->second.block->rows(), it->second.row);
    it->second.block = nullptr;  // a key asked twice is returned once
  }
  return out;
}

}  // namespace ark
