// ExactSearch: brute-force top-k over rows that are not (yet) indexed — a
// growing segment's blocks, or a sealed segment whose index is still being
// built — with the same result shape and Milvus metric semantics as
// VectorIndex::Search (vector_index.h), so the engine can merge both.
//
// Unlike a FLAT index it reads the caller's rows in place (no copy, no
// normalisation pass): COSINE divides by each row's norm on the fly.
// Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "index/index_spec.h"
#include "index/vector_index.h"

namespace ark {

// Searches `num_queries` queries (dim floats each) against `num_rows` rows at
// `rows` (row-major, dim floats each). `filter` (optional) restricts the
// rows considered. k >= 1. Ids are row numbers; padding as in SearchResult.
Result<SearchResult> ExactSearch(Metric metric, uint32_t dim, const float* rows, uint64_t num_rows,
                                 const float* queries, size_t num_queries, size_t k,
                                 const FilterBitmap* filter = nullptr);

}  // namespace ark
