// HnswIndex: HNSW on hnswlib 0.6.2's graph (header-only, so its distance
// kernels are compiled with our flags), with Ark's own search loop.
// Internal to index/; callers use VectorIndex::Build/Load.
//
// Why our own loop: hnswlib 0.6.2 has no filter hook and keeps `ef` in a
// member (setEf), which is not safe with concurrent searches using different
// ef. The loop follows hnswlib's searchKnn: greedy descent through the upper
// layers, then a best-first search of layer 0 with a candidate list of `ef`.
// With an allow-filter, rejected nodes are still traversed (the graph stays
// connected) but only allowed nodes enter the result list. When the filter
// keeps few rows (HnswPrefersExactScan, or SearchParams::exact_filter_fraction
// if set), an exact scan of the allowed rows is both faster and exact
// (crossover measured in docs/benchmarks/index.md).
//
// Serialization writes exactly the byte layout of hnswlib's saveIndex (so
// the payload is readable by hnswlib's loadIndex), into memory; loading
// parses it with bounds checks on every count and neighbour id.
//
// Thread-safety: immutable after Build/Load; Search is safe concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/vector_index.h"

namespace ark {

// Choosing between the filtered graph walk and an exact scan of the allowed
// rows. The scan costs ~allowed distance computations. The filtered walk
// costs ~kHnswFilterWalkCost * ef / s of them, where s = allowed / rows: at
// selectivity s it must expand ~1/s times more nodes to collect ef allowed
// ones. The scan wins while allowed^2 <= kHnswFilterWalkCost * ef * rows,
// i.e. up to a selectivity of sqrt(kHnswFilterWalkCost * ef / rows). The
// constant is fitted from bench/index_bench.cc (docs/benchmarks/index.md).
inline constexpr double kHnswFilterWalkCost = 48.0;
bool HnswPrefersExactScan(uint64_t allowed, uint64_t rows, size_t ef);

class HnswIndex final : public VectorIndex {
 public:
  ~HnswIndex() override;

  static Result<std::unique_ptr<HnswIndex>> Build(const IndexSpec& spec, const float* data,
                                                  uint64_t num_rows, const BuildOptions& options);
  static Result<std::unique_ptr<HnswIndex>> LoadPayload(const IndexSpec& spec, uint64_t num_rows,
                                                        std::string_view payload, std::string_view name);

  Result<SearchResult> Search(const float* queries, size_t num_queries, size_t k,
                              const SearchParams& params, const FilterBitmap* filter) const override;
  uint64_t MemoryBytes() const override;

  // The graph in local-id space, for HnswSqIndex (which keeps this graph and
  // replaces its float vectors by quantized codes). Returns the entry point
  // and the top level of every row (0 = layer 0 only); calls `visit(row,
  // level, neighbours, count)` once per row and level the row is on, with the
  // neighbours as local ids.
  struct Links {
    uint64_t entry_point = 0;
    int max_level = 0;
    std::vector<int> levels;
  };
  Links ExportLinks(
      const std::function<void(uint64_t row, int level, const uint32_t* neighbours, size_t count)>& visit) const;

 protected:
  Result<std::string> SerializePayload() const override;

 private:
  HnswIndex(const IndexSpec& spec, uint64_t num_rows);
  // Fills label -> internal id; Corruption if labels are not 0..n-1.
  Status IndexLabels(std::string_view name);
  template <bool kFiltered>
  void SearchOne(const float* query, size_t k, size_t ef, const FilterBitmap* filter, int64_t* ids,
                 float* scores) const;

  // The hnswlib space and graph (defined in the .cc: hnswlib is private to
  // each translation unit, see hnswlib_private.h).
  struct Graph;
  std::unique_ptr<Graph> graph_;
  // internal_of_label_[local id] = hnswlib internal id.
  std::vector<unsigned int> internal_of_label_;
};

}  // namespace ark
