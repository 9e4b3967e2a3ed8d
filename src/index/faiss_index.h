// FaissIndex: the FAISS-backed index types — FLAT (IndexFlat), IVF_FLAT
// (IndexIVFFlat), IVF_SQ8 (IndexIVFScalarQuantizer, 8 bits) and IVF_PQ
// (IndexIVFPQ) — behind VectorIndex. Internal to index/; callers use
// VectorIndex::Build/Load.
//
// Filtering: FLAT answers a filtered search by an exact scan of the allowed
// rows (hnswlib's SIMD kernels, compiled with our flags); IVF types pass the
// bitmap to FAISS as an IDSelector (SearchParametersIVF::sel, FAISS >= 1.7.3)
// and, when the filter keeps few rows, probe every list (nprobe = nlist) so
// that rare allowed rows are not missed.
//
// FAISS throws; every call is wrapped and turned into a Status here.
// Thread-safety: immutable after Build/Load; Search is safe concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "index/vector_index.h"

namespace faiss {
struct Index;
}  // namespace faiss

namespace ark {

// Fraction of allowed rows at or below which a filtered IVF search probes
// every list. Chosen from bench/index_bench.cc (docs/benchmarks/index.md).
inline constexpr double kIvfExactFilterFraction = 0.05;

class FaissIndex final : public VectorIndex {
 public:
  ~FaissIndex() override;

  static Result<std::unique_ptr<FaissIndex>> Build(const IndexSpec& spec, const float* data,
                                                   uint64_t num_rows, const BuildOptions& options);
  // `payload` is faiss::write_index output; checked against spec/num_rows.
  static Result<std::unique_ptr<FaissIndex>> LoadPayload(const IndexSpec& spec, uint64_t num_rows,
                                                         std::string_view payload, std::string_view name);

  Result<SearchResult> Search(const float* queries, size_t num_queries, size_t k,
                              const SearchParams& params, const FilterBitmap* filter) const override;
  uint64_t MemoryBytes() const override;

 protected:
  Result<std::string> SerializePayload() const override;

 private:
  FaissIndex(const IndexSpec& spec, uint64_t num_rows, std::unique_ptr<faiss::Index> index);
  Status SearchFlatFiltered(const float* queries, size_t num_queries, size_t k,
                            const FilterBitmap& filter, SearchResult* out) const;

  std::unique_ptr<faiss::Index> index_;
  // hnswlib's kernels for FLAT's filtered exact scan (defined in the .cc:
  // hnswlib is private to each translation unit, see hnswlib_private.h).
  struct Kernel;
  std::unique_ptr<Kernel> kernel_;
};

}  // namespace ark
