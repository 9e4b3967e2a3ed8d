#include "index/exact_search.h"

#include <cmath>
#include <queue>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "index/distance.h"

namespace ark {

using index_internal::ForEachAllowed;

Result<SearchResult> ExactSearch(Metric metric, uint32_t dim, const float* rows, uint64_t num_rows,
                                 const float* queries, size_t num_queries, size_t k,
                                 const FilterBitmap* filter) {
  if (k == 0) return Status::InvalidArgument("exact search: k must be at least 1");
  if (dim == 0) return Status::InvalidArgument("exact search: dimension must be at least 1");
  SearchResult out = index_internal::EmptyResult(metric, num_queries, k);
  if (num_rows == 0 || num_queries == 0) return out;

  // hnswlib's kernels (SIMD chosen by our flags): L2 = squared distance,
  // IP = 1 - <q, x>. Both "smaller is closer".
  hnswlib::L2Space l2(dim);
  hnswlib::InnerProductSpace ip(dim);
  auto l2_fn = l2.get_dist_func();
  auto ip_fn = ip.get_dist_func();
  void* l2_param = l2.get_dist_func_param();
  void* ip_param = ip.get_dist_func_param();

  std::vector<float> inv_norm;  // COSINE: 1 / |x| per row (0 for zero rows)
  if (metric == Metric::kCosine) {
    inv_norm.resize(num_rows);
    auto norm_of = [&](uint64_t r) {
      const float* x = rows + r * dim;
      float n2 = 1.0f - ip_fn(x, x, ip_param);
      inv_norm[r] = n2 > 0 ? 1.0f / std::sqrt(n2) : 0.0f;
    };
    if (filter != nullptr) {
      ForEachAllowed(*filter, num_rows, norm_of);
    } else {
      for (uint64_t r = 0; r < num_rows; ++r) norm_of(r);
    }
  }

  std::vector<float> query(dim);
  for (size_t q = 0; q < num_queries; ++q) {
    std::copy(queries + q * dim, queries + (q + 1) * dim, query.begin());
    if (metric == Metric::kCosine) index_internal::NormalizeRows(query.data(), 1, dim);
    // Max-heap of (closeness cost, row): the worst kept hit on top.
    std::priority_queue<std::pair<float, int64_t>> top;
    auto consider = [&](uint64_t r) {
      const float* x = rows + r * dim;
      float cost;
      if (metric == Metric::kL2) {
        cost = l2_fn(query.data(), x, l2_param);
      } else if (metric == Metric::kIp) {
        cost = ip_fn(query.data(), x, ip_param);  // 1 - ip
      } else {
        cost = 1.0f - (1.0f - ip_fn(query.data(), x, ip_param)) * inv_norm[r];
      }
      if (std::isnan(cost)) return;
      if (top.size() < k) {
        top.emplace(cost, static_cast<int64_t>(r));
      } else if (cost < top.top().first) {
        top.pop();
        top.emplace(cost, static_cast<int64_t>(r));
      }
    };
    if (filter != nullptr) {
      ForEachAllowed(*filter, num_rows, consider);
    } else {
      for (uint64_t r = 0; r < num_rows; ++r) consider(r);
    }
    for (size_t i = top.size(); i-- > 0;) {
      out.ids[q * k + i] = top.top().second;
      out.distances[q * k + i] = index_internal::ToMilvusScore(metric, top.top().first);
      top.pop();
    }
  }
  return out;
}

}  // namespace ark
