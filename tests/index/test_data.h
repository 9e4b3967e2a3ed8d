// Small synthetic data and exact ground truth for the index tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "index/index_spec.h"
#include "index/vector_index.h"

namespace ark::testing {

// `rows` vectors of `dim` floats around `clusters` Gaussian centres.
inline std::vector<float> ClusteredData(uint64_t rows, uint32_t dim, uint32_t clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centres(uint64_t{clusters} * dim);
  for (float& c : centres) c = normal(rng) * 3.0f;
  std::vector<float> data(rows * dim);
  std::uniform_int_distribution<uint32_t> pick(0, clusters - 1);
  for (uint64_t r = 0; r < rows; ++r) {
    uint32_t c = pick(rng);
    for (uint32_t j = 0; j < dim; ++j) data[r * dim + j] = centres[c * dim + j] + normal(rng);
  }
  return data;
}

// Milvus score of (a, b): squared L2, inner product, or cosine.
inline double Score(Metric metric, const float* a, const float* b, uint32_t dim) {
  double dot = 0, l2 = 0, na = 0, nb = 0;
  for (uint32_t j = 0; j < dim; ++j) {
    dot += double(a[j]) * b[j];
    l2 += (double(a[j]) - b[j]) * (double(a[j]) - b[j]);
    na += double(a[j]) * a[j];
    nb += double(b[j]) * b[j];
  }
  if (metric == Metric::kL2) return l2;
  if (metric == Metric::kIp) return dot;
  return (na == 0 || nb == 0) ? 0 : dot / std::sqrt(na * nb);
}

struct Truth {
  std::vector<int64_t> ids;      // k per query (fewer if fewer allowed: padded -1)
  std::vector<double> scores;
};

// Exact top-k of each query over the rows `allowed` keeps (all if null).
inline Truth ExactTopK(Metric metric, const std::vector<float>& data, uint32_t dim, const std::vector<float>& queries,
                       size_t k, const RowBitmap* allowed = nullptr) {
  uint64_t rows = data.size() / dim;
  size_t nq = queries.size() / dim;
  Truth t;
  t.ids.assign(nq * k, -1);
  t.scores.assign(nq * k, 0);
  for (size_t q = 0; q < nq; ++q) {
    std::vector<std::pair<double, int64_t>> all;
    for (uint64_t r = 0; r < rows; ++r) {
      if (allowed != nullptr && !allowed->Test(r)) continue;
      double s = Score(metric, &queries[q * dim], &data[r * dim], dim);
      all.emplace_back(metric == Metric::kL2 ? s : -s, static_cast<int64_t>(r));
    }
    size_t m = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + m, all.end());
    for (size_t i = 0; i < m; ++i) {
      t.ids[q * k + i] = all[i].second;
      t.scores[q * k + i] = metric == Metric::kL2 ? all[i].first : -all[i].first;
    }
  }
  return t;
}

// Fraction of the true top-k ids found in the result.
inline double Recall(const SearchResult& r, const Truth& t) {
  size_t found = 0, total = 0;
  for (size_t q = 0; q < r.num_queries; ++q) {
    for (size_t i = 0; i < r.k; ++i) {
      int64_t want = t.ids[q * r.k + i];
      if (want < 0) continue;
      ++total;
      for (size_t j = 0; j < r.k; ++j) found += r.id(q, j) == want ? 1 : 0;
    }
  }
  return total == 0 ? 1.0 : double(found) / double(total);
}

}  // namespace ark::testing
