// HnswSqIndex: HNSW_SQ — an HNSW graph whose nodes hold scalar-quantized
// codes (SQ8, SQ6 or FP16) instead of float vectors, with optional
// re-ranking ("refine") of the candidates against the segment's own float
// vectors. Milvus's HNSW_SQ, built from FAISS pieces. Internal to index/;
// callers use VectorIndex::Build/Load.
//
// Why: a float HNSW graph stores a second copy of every vector (3 KB per
// 768-d vector) beside the segment's. Here the graph holds dim bytes (SQ8)
// per vector, and the exact re-ranking reads the segment's vectors, which
// the engine keeps anyway (SearchParams::raw_vectors), for only
// ceil(k * refine_k) rows per query. Nothing is stored twice.
//
// Build: the graph is built by hnswlib on the float vectors (HnswIndex: the
// same graph HNSW gets, so the two types differ only in what the nodes
// hold, and the build reuses Ark's tested, cancellable, multi-threaded
// hnswlib build); its links are then copied into a
// faiss::IndexHNSWSQ whose storage is a faiss::IndexScalarQuantizer trained
// and filled with the vectors. The floats are dropped. No quantization is
// hand-written: training, encoding and query-to-code distances are FAISS's.
//
// Search: faiss::HNSW::search with per-call SearchParametersHNSW (FAISS
// 1.7.3's IndexHNSW::search keeps ef in a member, unsafe with concurrent
// searches of different ef), one query at a time with a DistanceComputer
// over the codes: for SQ8 Ark's own vectorised loop (FAISS's values; the
// generic FAISS build's kernel was 4.5-6x slower), else FAISS's. Filtering: FAISS 1.7.3's HNSW has no
// IDSelector hook, so a filter that keeps few rows (HnswPrefersExactScan)
// scans the allowed rows' codes; otherwise the graph is asked for enough
// extra candidates (k / selectivity, twice) to keep k allowed ones, and the
// scan is the fallback if it still finds fewer.
//
// Payload: faiss::write_index of the IndexHNSWSQ (docs/formats/index.md,
// version 2). Loading checks every structure a search touches (levels,
// offsets, neighbour ids, entry point, code sizes) against the header.
//
// Thread-safety: immutable after Build/Load; Search is safe concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "index/vector_index.h"

namespace faiss {
struct IndexHNSW;
}  // namespace faiss

namespace ark {

class HnswSqIndex final : public VectorIndex {
 public:
  ~HnswSqIndex() override;

  static Result<std::unique_ptr<HnswSqIndex>> Build(const IndexSpec& spec, const float* data,
                                                    uint64_t num_rows, const BuildOptions& options);
  static Result<std::unique_ptr<HnswSqIndex>> LoadPayload(const IndexSpec& spec, uint64_t num_rows,
                                                          std::string_view payload, std::string_view name);

  // With spec().refine and params.raw_vectors set, the returned distances are
  // exact (computed from raw_vectors); otherwise they are the codes'
  // approximations.
  Result<SearchResult> Search(const float* queries, size_t num_queries, size_t k,
                              const SearchParams& params, const FilterBitmap* filter) const override;
  // Codes + graph links + quantizer ranges (what the index allocates).
  uint64_t MemoryBytes() const override;

 protected:
  Result<std::string> SerializePayload() const override;

 private:
  HnswSqIndex(const IndexSpec& spec, uint64_t num_rows, std::unique_ptr<faiss::IndexHNSW> index);

  std::unique_ptr<faiss::IndexHNSW> index_;
};

}  // namespace ark
