#include "index/lazy_vector_index.h"

#include <fmt/format.h>

#include "core/hash.h"
#include "index/index_format.h"

namespace ark {
namespace {

std::atomic<uint64_t> g_payload_loads{0};

}  // namespace

LazyVectorIndex::LazyVectorIndex(const IndexSpec& spec, uint64_t num_rows, std::string path,
                                 std::unique_ptr<MappedFile> file)
    : VectorIndex(spec, num_rows), path_(std::move(path)), file_(std::move(file)) {}

Result<std::unique_ptr<LazyVectorIndex>> LazyVectorIndex::Open(Env* env, const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, env->MapFileLazily(path));
  ARK_ASSIGN_OR_RETURN(IndexFileHeader header, VectorIndex::ParseHeader(file->data(), path));
  return std::unique_ptr<LazyVectorIndex>(
      new LazyVectorIndex(header.spec, header.num_rows, path, std::move(file)));
}

Result<const VectorIndex*> LazyVectorIndex::Resident() const {
  if (const VectorIndex* index = loaded_.load(std::memory_order_acquire)) return index;
  std::function<void(const Status&)> notify;
  Result<const VectorIndex*> out = LoadLocked(&notify);
  if (notify) notify(out.status());  // outside the lock: the handler may take the engine's
  return out;
}

Result<const VectorIndex*> LazyVectorIndex::LoadLocked(std::function<void(const Status&)>* notify) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (index_) return index_.get();
  if (!error_.ok()) return error_;
  g_payload_loads.fetch_add(1, std::memory_order_relaxed);
  auto loaded = VectorIndex::Load(file_->data(), path_);
  if (loaded.ok() && ((*loaded)->num_rows() != num_rows() || !((*loaded)->spec() == spec()))) {
    loaded = Status::Corruption(fmt::format("index file {}: the payload describes another index than its header",
                                            path_));
  }
  if (!loaded.ok()) {
    error_ = loaded.status();
    *notify = std::move(on_failure_);
    on_failure_ = nullptr;
    return error_;
  }
  index_ = std::move(loaded).value();
  file_.reset();  // the index holds its own copy now
  loaded_.store(index_.get(), std::memory_order_release);
  return index_.get();
}

Result<SearchResult> LazyVectorIndex::Search(const float* queries, size_t num_queries, size_t k,
                                             const SearchParams& params, const FilterBitmap* filter) const {
  ARK_ASSIGN_OR_RETURN(const VectorIndex* index, Resident());
  return index->Search(queries, num_queries, k, params, filter);
}

uint64_t LazyVectorIndex::MemoryBytes() const {
  const VectorIndex* index = loaded_.load(std::memory_order_acquire);
  return index == nullptr ? 0 : index->MemoryBytes();
}

Result<std::string> LazyVectorIndex::SerializePayload() const {
  ARK_ASSIGN_OR_RETURN(const VectorIndex* index, Resident());
  ARK_ASSIGN_OR_RETURN(std::string bytes, index->Serialize());
  return bytes.substr(kIndexHeaderSize);
}

uint64_t LazyVectorIndex::PayloadLoads() { return g_payload_loads.load(std::memory_order_relaxed); }

}  // namespace ark
