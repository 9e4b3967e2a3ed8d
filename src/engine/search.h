// Search and query requests against a collection snapshot.
//
// Search: top-k nearest rows to each query vector over the sealed segments
// (through their index when it is built and matches the field's definition,
// exactly otherwise) and the growing segment (exactly), merged. Deleted rows
// never appear. A filter is compiled once and evaluated column-wise per
// segment into an allow-bitmap that is pushed into the index (pre-filtering;
// the index falls back to exact search when the bitmap keeps few rows).
//
// Query: the rows matching a filter, in segment order (sealed segments oldest
// first, then the growing segment in write order), after `offset`, at most
// `limit`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/row_batch.h"
#include "index/index_spec.h"

namespace ark {

// Milvus's bound on limit + offset (topK) for search and query.
inline constexpr size_t kMaxSearchWindow = 16384;

struct SearchRequest {
  std::string anns_field;       // empty: the collection's only vector field
  std::vector<float> vectors;   // num_queries x dim, row-major
  size_t num_queries = 0;
  size_t limit = 10;
  size_t offset = 0;
  std::string filter;           // Milvus expression; empty = all rows
  nlohmann::json filter_params; // `exprParams` for {name} templates; null = none
  SearchParams params;          // ef, nprobe
  // When set it must equal the field's index metric (Milvus rejects a
  // mismatch). Without an index it selects the metric (default COSINE).
  std::optional<Metric> metric;
  // Which columns of the hit rows to fill (one flag per column of the
  // collection's RowBatch); empty = every column. Columns left out stay
  // empty in SearchHits::rows, and a segment never decodes them for the hits
  // (sealed columns are decoded on first use: engine/lazy_segment.h).
  std::vector<bool> output_columns;
};

struct SearchHits {
  std::vector<float> scores;  // Milvus units: L2 ascending, IP/COSINE descending
  RowBatch rows;              // the hit rows (every column, or output_columns), parallel to scores
};

struct SearchResponse {
  Metric metric = Metric::kCosine;
  std::vector<SearchHits> queries;  // one per query vector
};

struct QueryRequest {
  std::string filter;            // empty = all rows
  nlohmann::json filter_params;  // null = none
  size_t offset = 0;
  std::optional<size_t> limit;   // nullopt = every match
};

}  // namespace ark
