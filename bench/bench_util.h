// Helpers shared by the vector benchmarks (index_bench, search_bench):
// clustered synthetic data with fixed seeds, exact ground truth by FAISS
// IndexFlatIP, recall@k and a best-of-N QPS measurement.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <random>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/impl/IDSelector.h>

#include "index/vector_index.h"

namespace ark::bench {

using Clock = std::chrono::steady_clock;
using ark::RowBitmap;

constexpr size_t kK = 10;

inline double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

inline double RssMiB() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return double(resident) * 4096.0 / (1024.0 * 1024.0);
}

// rows x dim unit vectors around `clusters` centres; the first `nq` rows of a
// second draw are the queries.
inline std::vector<float> Clustered(uint64_t rows, uint32_t dim, uint32_t clusters, uint32_t seed,
                             const std::vector<float>& centres) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.35f);
  std::uniform_int_distribution<uint32_t> pick(0, clusters - 1);
  std::vector<float> data(rows * dim);
  for (uint64_t r = 0; r < rows; ++r) {
    uint32_t c = pick(rng);
    double norm = 0;
    for (uint32_t j = 0; j < dim; ++j) {
      float v = centres[uint64_t{c} * dim + j] + noise(rng);
      data[r * dim + j] = v;
      norm += double(v) * v;
    }
    float inv = float(1.0 / std::sqrt(norm));
    for (uint32_t j = 0; j < dim; ++j) data[r * dim + j] *= inv;
  }
  return data;
}

// Exact top-k ids by FAISS flat IP, optionally restricted to `allowed`.
inline std::vector<int64_t> Truth(const std::vector<float>& data, uint64_t n, uint32_t dim, const std::vector<float>& q,
                           size_t nq, const RowBitmap* allowed = nullptr) {
  faiss::IndexFlatIP flat(dim);
  flat.add(static_cast<faiss::Index::idx_t>(n), data.data());
  std::vector<float> d(nq * kK);
  std::vector<faiss::Index::idx_t> ids(nq * kK);
  faiss::IDSelectorBitmap sel((n + 7) / 8, allowed ? allowed->view().bytes : nullptr);
  faiss::SearchParameters params;
  params.sel = allowed ? &sel : nullptr;
  flat.search(static_cast<faiss::Index::idx_t>(nq), q.data(), kK, d.data(), ids.data(), allowed ? &params : nullptr);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

inline double Recall(const std::vector<int64_t>& got, const std::vector<int64_t>& truth, size_t nq) {
  size_t found = 0, total = 0;
  for (size_t q = 0; q < nq; ++q) {
    for (size_t i = 0; i < kK; ++i) {
      int64_t want = truth[q * kK + i];
      if (want < 0) continue;
      ++total;
      for (size_t j = 0; j < kK; ++j) found += got[q * kK + j] == want ? 1 : 0;
    }
  }
  return total ? double(found) / double(total) : 1.0;
}

// Runs `search(q, out_ids)` for every query, best QPS of `reps` runs.
struct Measured {
  double qps = 0;
  double recall = 0;
};
inline Measured Measure(size_t nq, const std::vector<int64_t>& truth, int reps,
                 const std::function<void(size_t, int64_t*)>& search) {
  Measured m;
  std::vector<int64_t> got(nq * kK, -1);
  for (int r = 0; r < reps; ++r) {
    auto start = Clock::now();
    for (size_t q = 0; q < nq; ++q) search(q, &got[q * kK]);
    m.qps = std::max(m.qps, double(nq) / Seconds(start));
  }
  m.recall = Recall(got, truth, nq);
  return m;
}

}  // namespace ark::bench
