#include "index/vector_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <tuple>

#include "index/test_data.h"
#include "support/test_util.h"

namespace ark {
namespace {

using testing::ClusteredData;
using testing::ExactTopK;
using testing::Recall;
using testing::Truth;

constexpr uint64_t kRows = 500;
constexpr uint32_t kDim = 16;
constexpr size_t kQueries = 12;
constexpr size_t kK = 10;

bool Near(double a, double b) { return std::abs(a - b) <= 2e-3 * std::max(1.0, std::abs(b)); }

// The result must be the exact top-k: same number of hits, and at every rank
// a row whose true score equals the true k-th best score at that rank (ties
// may order differently), scores reported correctly, only allowed rows.
void ExpectExact(const SearchResult& r, const Truth& truth, Metric metric, const std::vector<float>& data,
                 const std::vector<float>& queries, uint32_t dim, const RowBitmap* allowed = nullptr) {
  ASSERT_EQ(r.ids.size(), r.num_queries * r.k);
  for (size_t q = 0; q < r.num_queries; ++q) {
    size_t want = 0;
    while (want < r.k && truth.ids[q * r.k + want] >= 0) ++want;
    ASSERT_EQ(r.Count(q), want) << "query " << q;
    std::set<int64_t> seen;
    for (size_t i = 0; i < want; ++i) {
      int64_t id = r.id(q, i);
      ASSERT_GE(id, 0);
      ASSERT_LT(static_cast<uint64_t>(id), data.size() / dim);
      EXPECT_TRUE(seen.insert(id).second) << "duplicate id " << id;
      EXPECT_TRUE(allowed == nullptr || allowed->Test(id)) << "row " << id << " is filtered out";
      double actual = testing::Score(metric, &queries[q * dim], &data[id * dim], dim);
      EXPECT_TRUE(Near(actual, truth.scores[q * r.k + i]))
          << "query " << q << " rank " << i << ": got row " << id << " score " << actual << ", want row "
          << truth.ids[q * r.k + i] << " score " << truth.scores[q * r.k + i];
      EXPECT_TRUE(Near(r.distance(q, i), actual)) << "reported " << r.distance(q, i) << " true " << actual;
    }
    for (size_t i = want; i < r.k; ++i) EXPECT_EQ(r.id(q, i), -1);
  }
}

IndexSpec Spec(IndexType type, Metric metric, uint32_t dim = kDim) {
  IndexSpec s;
  s.type = type;
  s.metric = metric;
  s.dim = dim;
  s.nlist = 8;
  s.pq_m = 4;
  s.pq_nbits = 4;
  return s;
}

// Search params under which each type is exact on small data.
SearchParams ExactParams() {
  SearchParams p;
  p.ef = static_cast<uint32_t>(kRows);
  p.nprobe = 8;  // = nlist
  return p;
}

class ExactIndexTest : public ::testing::TestWithParam<std::tuple<IndexType, Metric>> {};

TEST_P(ExactIndexTest, ReturnsExactTopK) {
  auto [type, metric] = GetParam();
  for (uint32_t dim : {kDim, 13u}) {  // 13: not a multiple of the SIMD width
    SCOPED_TRACE(::testing::Message() << "dim " << dim);
    auto data = ClusteredData(kRows, dim, 10, 1);
    auto queries = ClusteredData(kQueries, dim, 10, 2);
    ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(Spec(type, metric, dim), data.data(), kRows));
    EXPECT_EQ(index->num_rows(), kRows);
    ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(queries.data(), kQueries, kK, ExactParams()));
    ExpectExact(r, ExactTopK(metric, data, dim, queries, kK), metric, data, queries, dim);
  }
}

TEST_P(ExactIndexTest, FilteredSearchEqualsExactFilteredSearch) {
  auto [type, metric] = GetParam();
  auto data = ClusteredData(kRows, kDim, 10, 3);
  auto queries = ClusteredData(kQueries, kDim, 10, 4);
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(Spec(type, metric), data.data(), kRows));
  std::mt19937 rng(7);
  // Selectivities: none, one row, 1%, 10%, 50%, all.
  for (double fraction : {0.0, -1.0, 0.01, 0.1, 0.5, 1.0}) {
    RowBitmap allowed(kRows);
    if (fraction < 0) {
      allowed.Set(123);
    } else {
      std::bernoulli_distribution keep(fraction);
      for (uint64_t i = 0; i < kRows; ++i) allowed.Set(i, keep(rng));
    }
    Truth truth = ExactTopK(metric, data, kDim, queries, kK, &allowed);
    FilterBitmap view = allowed.view();
    // The default choice (-1), then each path forced: the filtered index
    // walk (0) and the exact scan (1).
    for (double exact_fraction : {-1.0, 0.0, 1.0}) {
      SCOPED_TRACE(::testing::Message() << "fraction " << fraction << " exact_fraction " << exact_fraction);
      SearchParams params = ExactParams();
      params.exact_filter_fraction = exact_fraction;
      ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(queries.data(), kQueries, kK, params, &view));
      ExpectExact(r, truth, metric, data, queries, kDim, &allowed);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    TypesAndMetrics, ExactIndexTest,
    ::testing::Combine(::testing::Values(IndexType::kFlat, IndexType::kHnsw, IndexType::kIvfFlat),
                       ::testing::Values(Metric::kL2, Metric::kIp, Metric::kCosine)),
    [](const auto& info) {
      return std::string(IndexTypeName(std::get<0>(info.param))) + "_" +
             std::string(MetricName(std::get<1>(info.param)));
    });

class QuantizedIndexTest : public ::testing::TestWithParam<std::tuple<IndexType, Metric>> {};

// SQ8 and PQ are lossy: with every list probed the recall is high, not 1.
TEST_P(QuantizedIndexTest, HighRecallWithAllListsProbed) {
  auto [type, metric] = GetParam();
  auto data = ClusteredData(kRows, kDim, 10, 5);
  auto queries = ClusteredData(kQueries, kDim, 10, 6);
  IndexSpec spec = Spec(type, metric);
  spec.pq_m = 8;  // 2 dimensions per sub-quantizer
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(spec, data.data(), kRows));
  ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(queries.data(), kQueries, kK, ExactParams()));
  double recall = Recall(r, ExactTopK(metric, data, kDim, queries, kK));
  EXPECT_GE(recall, type == IndexType::kIvfSq8 ? 0.9 : 0.4) << IndexTypeName(type);
  // Filtered: only allowed rows, ordered by score.
  RowBitmap allowed(kRows);
  for (uint64_t i = 0; i < kRows; i += 3) allowed.Set(i);
  FilterBitmap view = allowed.view();
  ASSERT_OK_AND_ASSIGN(SearchResult f, index->Search(queries.data(), kQueries, kK, ExactParams(), &view));
  for (size_t q = 0; q < kQueries; ++q) {
    EXPECT_EQ(f.Count(q), kK);
    for (size_t i = 0; i < f.Count(q); ++i) {
      EXPECT_TRUE(allowed.Test(f.id(q, i)));
      if (i > 0) {
        if (metric == Metric::kL2) {
          EXPECT_LE(f.distance(q, i - 1), f.distance(q, i));
        } else {
          EXPECT_GE(f.distance(q, i - 1), f.distance(q, i));
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TypesAndMetrics, QuantizedIndexTest,
                         ::testing::Combine(::testing::Values(IndexType::kIvfSq8, IndexType::kIvfPq),
                                            ::testing::Values(Metric::kL2, Metric::kIp, Metric::kCosine)),
                         [](const auto& info) {
                           return std::string(IndexTypeName(std::get<0>(info.param))) + "_" +
                                  std::string(MetricName(std::get<1>(info.param)));
                         });

// Milvus semantics, checked on hand-made vectors.
TEST(MetricSemanticsTest, L2IsSquaredAscendingIpAndCosineDescending) {
  // Rows: (1,0), (2,0), (0,3), (-1,0).  Query: (1,0).
  std::vector<float> rows = {1, 0, 2, 0, 0, 3, -1, 0};
  std::vector<float> q = {1, 0};
  for (IndexType type : {IndexType::kFlat, IndexType::kHnsw}) {
    SCOPED_TRACE(IndexTypeName(type));
    auto build = [&](Metric m) { return VectorIndex::Build(Spec(type, m, 2), rows.data(), 4); };
    ASSERT_OK_AND_ASSIGN(auto l2, build(Metric::kL2));
    ASSERT_OK_AND_ASSIGN(SearchResult r, l2->Search(q.data(), 1, 4, {}));
    EXPECT_EQ(r.ids, (std::vector<int64_t>{0, 1, 3, 2}));
    EXPECT_FLOAT_EQ(r.distances[0], 0.0f);
    EXPECT_FLOAT_EQ(r.distances[1], 1.0f);   // squared, not sqrt
    EXPECT_FLOAT_EQ(r.distances[2], 4.0f);
    EXPECT_FLOAT_EQ(r.distances[3], 10.0f);

    ASSERT_OK_AND_ASSIGN(auto ip, build(Metric::kIp));
    ASSERT_OK_AND_ASSIGN(r, ip->Search(q.data(), 1, 4, {}));
    EXPECT_EQ(r.ids, (std::vector<int64_t>{1, 0, 2, 3}));  // larger is closer
    EXPECT_NEAR(r.distances[0], 2.0f, 1e-5);
    EXPECT_NEAR(r.distances[3], -1.0f, 1e-5);

    ASSERT_OK_AND_ASSIGN(auto cosine, build(Metric::kCosine));
    std::vector<float> q2 = {5, 0};  // cosine ignores the query's length
    ASSERT_OK_AND_ASSIGN(r, cosine->Search(q2.data(), 1, 4, {}));
    EXPECT_EQ(r.Count(0), 4u);
    EXPECT_NEAR(r.distances[0], 1.0f, 1e-5);
    EXPECT_NEAR(r.distances[1], 1.0f, 1e-5);
    EXPECT_TRUE((r.ids[0] == 0 && r.ids[1] == 1) || (r.ids[0] == 1 && r.ids[1] == 0));
    EXPECT_EQ(r.ids[2], 2);
    EXPECT_NEAR(r.distances[2], 0.0f, 1e-5);
    EXPECT_EQ(r.ids[3], 3);
    EXPECT_NEAR(r.distances[3], -1.0f, 1e-5);
  }
}

TEST(VectorIndexTest, FewerRowsThanKArePaddedWithMinusOne) {
  std::vector<float> rows = {1, 0, 0, 1};
  std::vector<float> q = {1, 0};
  for (IndexType type : {IndexType::kFlat, IndexType::kHnsw}) {
    ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(Spec(type, Metric::kL2, 2), rows.data(), 2));
    ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(q.data(), 1, 5, {}));
    EXPECT_EQ(r.Count(0), 2u);
    EXPECT_EQ(r.ids, (std::vector<int64_t>{0, 1, -1, -1, -1}));
    EXPECT_TRUE(std::isinf(r.distances[4]) && r.distances[4] > 0);
  }
}

TEST(VectorIndexTest, EmptyIndexAndZeroKAreHandled) {
  std::vector<float> q = {1, 0};
  for (IndexType type : {IndexType::kFlat, IndexType::kHnsw}) {
    ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(Spec(type, Metric::kIp, 2), nullptr, 0));
    ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(q.data(), 1, 3, {}));
    EXPECT_EQ(r.Count(0), 0u);
    EXPECT_TRUE(index->Search(q.data(), 1, 0, {}).status().Is(StatusCode::kInvalidArgument));
  }
}

TEST(VectorIndexTest, DefaultParamsGiveHighRecallOnHnsw) {
  auto data = ClusteredData(2000, kDim, 20, 8);
  auto queries = ClusteredData(20, kDim, 20, 9);
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(Spec(IndexType::kHnsw, Metric::kCosine), data.data(), 2000,
                                                      BuildOptions{.threads = 2}));
  ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(queries.data(), 20, kK, {}));
  EXPECT_GE(Recall(r, ExactTopK(Metric::kCosine, data, kDim, queries, kK)), 0.95);
}

}  // namespace
}  // namespace ark
