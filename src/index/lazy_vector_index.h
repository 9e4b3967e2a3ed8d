// LazyVectorIndex: an index file opened without reading its graph.
//
// Open() maps the file (without populating it) and verifies only its 80-byte
// header (magic, version, header checksum, a valid spec, the library) and
// that the payload size matches the file's size: a truncated or mislabelled
// file fails at open, as before. The payload — the graph or the FAISS
// structures, the bulk of the file — is checksummed and parsed on the first
// Search() (docs/engine.md, "Opening a database"):
//
//   - once: concurrent first searches wait for one load; none loads twice;
//   - a failed load (payload checksum mismatch, a payload the library
//     rejects) returns Corruption naming the file from that Search and every
//     later one: the bytes are immutable, so it is not retried;
//   - after a successful load the mapping is dropped: the index then holds
//     exactly the memory an eagerly loaded one does;
//   - the owner may register a handler (OnLoadFailure) called once, by the
//     first failed load, outside the index's lock: the engine uses it to
//     rebuild the index from its segment (docs/index.md, "A damaged graph").
//
// Why verify at first use and not at open: a whole-file checksum at open
// would read every byte, which is what lazy opening avoids. The payload's
// single XXH3 (index format version 1) covers it at first use instead, so no
// byte of a graph is used before it is checked.
//
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "index/vector_index.h"
#include "storage/env.h"

namespace ark {

class LazyVectorIndex final : public VectorIndex {
 public:
  // Corruption naming `path` for a bad header or size; the Env's error
  // (NotFound, IOError) if the file cannot be mapped.
  static Result<std::unique_ptr<LazyVectorIndex>> Open(Env* env, const std::string& path);

  // Loads the payload on first use, then searches it.
  Result<SearchResult> Search(const float* queries, size_t num_queries, size_t k, const SearchParams& params,
                              const FilterBitmap* filter = nullptr) const override;
  // 0 until loaded.
  uint64_t MemoryBytes() const override;

  // The loaded index (loading it now if it is not yet), or the load's error.
  Result<const VectorIndex*> Resident() const;
  bool resident() const override { return loaded_.load(std::memory_order_acquire) != nullptr; }
  Status MakeResident() const override { return Resident().status(); }
  const std::string& path() const { return path_; }
  // Set before the index is shared (not thread-safe against a first load).
  void OnLoadFailure(std::function<void(const Status&)> handler) { on_failure_ = std::move(handler); }

  // Payloads loaded by every LazyVectorIndex of this process so far (tests
  // check that opening a database loads none).
  static uint64_t PayloadLoads();

 protected:
  Result<std::string> SerializePayload() const override;

 private:
  LazyVectorIndex(const IndexSpec& spec, uint64_t num_rows, std::string path, std::unique_ptr<MappedFile> file);
  // The load under mu_; a first failure hands out the handler in `notify`.
  Result<const VectorIndex*> LoadLocked(std::function<void(const Status&)>* notify) const;

  const std::string path_;
  mutable std::mutex mu_;
  mutable std::unique_ptr<MappedFile> file_;         // GUARDED_BY(mu_); dropped once loaded
  mutable std::unique_ptr<VectorIndex> index_;       // GUARDED_BY(mu_); set once
  mutable Status error_;                             // GUARDED_BY(mu_): a failed load
  mutable std::atomic<const VectorIndex*> loaded_{nullptr};  // index_.get() once loaded
  mutable std::function<void(const Status&)> on_failure_;   // GUARDED_BY(mu_); taken by the first failure
};

}  // namespace ark
