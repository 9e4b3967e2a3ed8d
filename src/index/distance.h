// Internal to index/ (include from .cc files only: it pulls in
// hnswlib_private.h): distance kernels and the exact (brute-force) scan over
// the rows an allow-filter keeps, shared by FLAT and HNSW.
//
// The kernels are hnswlib's (SSE/AVX/AVX-512 chosen at compile time from our
// flags, so they use -march=native in release builds). They work in "hnswlib
// units", smaller is closer: L2 = squared distance, IP/COSINE = 1 - ip.
// ToMilvusScore converts to what callers see.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <queue>
#include <utility>
#include <vector>


#include "index/hnswlib_private.h"
#include "index/index_spec.h"
#include "index/vector_index.h"

namespace ark::index_internal {

// hnswlib's space for `metric` (IP for COSINE: vectors are normalised).
inline std::unique_ptr<hnswlib::SpaceInterface<float>> MakeSpace(Metric metric, uint32_t dim) {
  if (metric == Metric::kL2) return std::make_unique<hnswlib::L2Space>(dim);
  return std::make_unique<hnswlib::InnerProductSpace>(dim);
}

inline float ToMilvusScore(Metric metric, float hnsw_distance) {
  return metric == Metric::kL2 ? hnsw_distance : 1.0f - hnsw_distance;
}

inline float PaddingScore(Metric metric) {
  return metric == Metric::kL2 ? std::numeric_limits<float>::infinity()
                               : -std::numeric_limits<float>::infinity();
}

// Scales each row to unit L2 norm in place; all-zero rows stay zero.
inline void NormalizeRows(float* data, uint64_t rows, uint32_t dim) {
  for (uint64_t r = 0; r < rows; ++r) {
    float* v = data + r * dim;
    double norm2 = 0;
    for (uint32_t j = 0; j < dim; ++j) norm2 += double(v[j]) * v[j];
    if (norm2 <= 0) continue;
    float inv = static_cast<float>(1.0 / std::sqrt(norm2));
    for (uint32_t j = 0; j < dim; ++j) v[j] *= inv;
  }
}

// A result shaped num_queries x k, all padding.
inline SearchResult EmptyResult(Metric metric, size_t num_queries, size_t k) {
  SearchResult r;
  r.num_queries = num_queries;
  r.k = k;
  r.ids.assign(num_queries * k, -1);
  r.distances.assign(num_queries * k, PaddingScore(metric));
  return r;
}

// Calls f(i) for every set bit i of `filter`, in increasing order.
template <typename F>
void ForEachAllowed(const FilterBitmap& filter, uint64_t limit, F&& f) {
  uint64_t n = std::min(filter.num_rows, limit);
  uint64_t full_words = n / 64;
  for (uint64_t w = 0; w < full_words; ++w) {
    uint64_t word;
    std::memcpy(&word, filter.bytes + w * 8, 8);  // little-endian: bit i = row 64w+i
    while (word != 0) {
      int bit = __builtin_ctzll(word);
      f(w * 64 + static_cast<uint64_t>(bit));
      word &= word - 1;
    }
  }
  for (uint64_t i = full_words * 64; i < n; ++i) {
    if (filter.Test(i)) f(i);
  }
}

// Exact top-k over the allowed rows. row(i) returns the stored (already
// normalised for COSINE) vector of local id i. Writes k ids/scores (Milvus
// units, padded) at out_ids/out_scores.
template <typename RowFn>
void ExactScanAllowed(const hnswlib::SpaceInterface<float>& space, Metric metric, const float* query,
                      size_t k, const FilterBitmap& filter, uint64_t num_rows, RowFn&& row,
                      int64_t* out_ids, float* out_scores) {
  auto dist = const_cast<hnswlib::SpaceInterface<float>&>(space).get_dist_func();
  void* param = const_cast<hnswlib::SpaceInterface<float>&>(space).get_dist_func_param();
  std::priority_queue<std::pair<float, int64_t>> top;  // max-heap: worst on top
  ForEachAllowed(filter, num_rows, [&](uint64_t i) {
    float d = dist(query, row(i), param);
    if (top.size() < k) {
      top.emplace(d, static_cast<int64_t>(i));
    } else if (d < top.top().first) {
      top.pop();
      top.emplace(d, static_cast<int64_t>(i));
    }
  });
  for (size_t i = 0; i < k; ++i) {
    out_ids[i] = -1;
    out_scores[i] = PaddingScore(metric);
  }
  for (size_t i = top.size(); i-- > 0;) {
    out_ids[i] = top.top().second;
    out_scores[i] = ToMilvusScore(metric, top.top().first);
    top.pop();
  }
}

}  // namespace ark::index_internal
