// VectorIndex: the one interface the engine uses to search a sealed
// segment's vectors.
//
// An index is built from a contiguous row-major float matrix (n x dim); row i
// gets local id i within its segment. Search takes several queries at once,
// k, SearchParams (ef, nprobe) and an optional allow-filter: a bitmap over
// local ids (pre-filtering: only allowed rows can be returned, and with
// HNSW/IVF the filter is applied inside the index walk, not after it).
//
// Results follow Milvus: L2 returns squared distances, ascending; IP returns
// inner products and COSINE cosine similarities, descending.
//
// Implementations (chosen per type by measurement, docs/benchmarks/index.md):
//   FLAT              FAISS IndexFlat (BLAS for batches); filtered: exact scan
//   HNSW              hnswlib 0.6.2 graph, Ark's own (filter-aware) search loop
//   IVF_FLAT/SQ8/PQ   FAISS IndexIVF* with an IDSelectorBitmap
//
// Serialize() gives the bytes of an index file (docs/formats/index.md):
// Ark's header around the library's own serialization; Load() verifies and
// reverses it. A loaded index answers exactly like the one that was built.
//
// Thread-safety: a built or loaded index is immutable; Search(), Serialize()
// and the accessors are safe to call from many threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "index/index_spec.h"

namespace ark {

// A non-owning view of an allow-bitmap over local ids: row i is allowed iff
// bit (i % 8) of bytes[i / 8] is set (LSB first, the layout FAISS's
// IDSelectorBitmap uses, so it is passed through without copying). Rows at or
// beyond num_rows are not allowed. The bytes must outlive the search call.
struct FilterBitmap {
  const uint8_t* bytes = nullptr;
  uint64_t num_rows = 0;

  bool Test(uint64_t i) const { return i < num_rows && ((bytes[i >> 3] >> (i & 7)) & 1) != 0; }
  // Number of allowed rows (popcount).
  uint64_t Count() const;
};

// An owning bitmap, for callers and tests that need to build one.
class RowBitmap {
 public:
  explicit RowBitmap(uint64_t num_rows, bool value = false);
  void Set(uint64_t i, bool value = true);
  bool Test(uint64_t i) const { return view().Test(i); }
  uint64_t num_rows() const { return num_rows_; }
  FilterBitmap view() const { return {bytes_.data(), num_rows_}; }

 private:
  uint64_t num_rows_;
  std::vector<uint8_t> bytes_;
};

// Row-major num_queries x k. Query q's hits are ids[q*k .. q*k+k), best first;
// when fewer than k rows qualify the tail is padded with id -1 and distance
// +inf (L2) or -inf (IP, COSINE).
struct SearchResult {
  size_t num_queries = 0;
  size_t k = 0;
  std::vector<int64_t> ids;
  std::vector<float> distances;

  int64_t id(size_t q, size_t i) const { return ids[q * k + i]; }
  float distance(size_t q, size_t i) const { return distances[q * k + i]; }
  // Number of real hits (non-padding) of query q.
  size_t Count(size_t q) const;
};

struct BuildOptions {
  // Threads used to build (HNSW insertion, IVF training/assignment). The
  // build pool runs one build per worker, so the default is 1.
  int threads = 1;
  // If set and raised while building, Build stops early with Cancelled
  // (HNSW checks it per inserted row, FAISS between training and adding).
  const std::atomic<bool>* cancel = nullptr;
};

// An index file's header (docs/formats/index.md), parsed and verified.
struct IndexFileHeader {
  IndexSpec spec;
  uint64_t num_rows = 0;
  uint64_t payload_size = 0;
  uint64_t payload_checksum = 0;  // XXH3-64 of the payload
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  // Builds an index of `spec` over `num_rows` rows of spec.dim floats at
  // `data` (not retained). InvalidArgument for a bad spec or one that does
  // not fit the data (nlist > rows, ...); Internal if the library fails.
  static Result<std::unique_ptr<VectorIndex>> Build(const IndexSpec& spec, const float* data,
                                                    uint64_t num_rows, const BuildOptions& options = {});

  // Reverses Serialize(). `name` (usually the file path) is used in error
  // messages. Corruption naming `name` and the offset for a bad magic,
  // version, checksum or payload; NotSupported for a newer format version.
  static Result<std::unique_ptr<VectorIndex>> Load(std::string_view bytes, std::string_view name);
  // The header checks of Load() alone: `bytes` is the whole file, of which
  // only the header is read (its size is checked against payload_size).
  // Reads no payload byte, so it costs the same for any index size.
  static Result<IndexFileHeader> ParseHeader(std::string_view bytes, std::string_view name);

  // Whether the index structures are in memory. Indexes opened lazily
  // (LazyVectorIndex) load them on first Search; MakeResident loads them
  // now and returns the load's error (Corruption naming the file).
  virtual bool resident() const { return true; }
  virtual Status MakeResident() const { return Status::OK(); }

  // Searches num_queries queries of dim floats at `queries`. `filter`, if not
  // null, restricts results to allowed local ids (its num_rows should equal
  // num_rows(); rows beyond it count as not allowed). k must be >= 1.
  virtual Result<SearchResult> Search(const float* queries, size_t num_queries, size_t k,
                                      const SearchParams& params,
                                      const FilterBitmap* filter = nullptr) const = 0;

  // The index file bytes (header + library payload + checksums).
  Result<std::string> Serialize() const;

  const IndexSpec& spec() const { return spec_; }
  uint64_t num_rows() const { return num_rows_; }
  // Bytes of memory held by the index structures (approximate).
  virtual uint64_t MemoryBytes() const = 0;

 protected:
  VectorIndex(IndexSpec spec, uint64_t num_rows) : spec_(spec), num_rows_(num_rows) {}
  // The library's serialized bytes (the payload of the index file).
  virtual Result<std::string> SerializePayload() const = 0;

 private:
  IndexSpec spec_;
  uint64_t num_rows_;
};

}  // namespace ark
