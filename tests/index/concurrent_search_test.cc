// The VectorIndex contract: a built index is immutable and Search is safe
// from many threads at once, each with its own ef/nprobe and filter.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "index/test_data.h"
#include "index/vector_index.h"
#include "support/test_util.h"

namespace ark {
namespace {

TEST(ConcurrentSearchTest, ThreadsWithDifferentParamsGetTheSingleThreadedAnswers) {
  constexpr uint64_t kRows = 600;
  constexpr uint32_t kDim = 16;
  constexpr size_t kQueries = 8;
  auto data = testing::ClusteredData(kRows, kDim, 6, 21);
  auto queries = testing::ClusteredData(kQueries, kDim, 6, 22);
  RowBitmap allowed(kRows);
  for (uint64_t i = 0; i < kRows; i += 2) allowed.Set(i);
  FilterBitmap view = allowed.view();
  for (IndexType type : {IndexType::kFlat, IndexType::kHnsw, IndexType::kIvfFlat}) {
    SCOPED_TRACE(IndexTypeName(type));
    IndexSpec spec;
    spec.type = type;
    spec.metric = Metric::kIp;
    spec.dim = kDim;
    spec.nlist = 8;
    ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(spec, data.data(), kRows));
    // Per-thread settings: ef / nprobe and filter differ between threads.
    struct Setting {
      SearchParams params;
      const FilterBitmap* filter;
    };
    std::vector<Setting> settings;
    for (uint32_t ef : {10u, 40u, 200u}) {
      for (const FilterBitmap* filter : {static_cast<const FilterBitmap*>(nullptr), static_cast<const FilterBitmap*>(&view)}) {
        SearchParams p;
        p.ef = ef;
        p.nprobe = ef / 10;
        p.exact_filter_fraction = 0;  // exercise the filtered walk
        settings.push_back({p, filter});
      }
    }
    std::vector<SearchResult> expected;
    for (const Setting& s : settings) {
      ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(queries.data(), kQueries, 10, s.params, s.filter));
      expected.push_back(std::move(r));
    }
    std::vector<int> mismatches(settings.size(), 0);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < settings.size(); ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 20; ++round) {
          auto r = index->Search(queries.data(), kQueries, 10, settings[t].params, settings[t].filter);
          if (!r.ok() || r->ids != expected[t].ids || r->distances != expected[t].distances) ++mismatches[t];
        }
      });
    }
    for (auto& th : threads) th.join();
    for (size_t t = 0; t < settings.size(); ++t) EXPECT_EQ(mismatches[t], 0) << "setting " << t;
  }
}

TEST(ConcurrentSearchTest, FilterShorterThanTheIndexExcludesTheRowsBeyondIt) {
  constexpr uint32_t kDim = 8;
  auto data = testing::ClusteredData(100, kDim, 3, 23);
  RowBitmap allowed(13, /*value=*/true);  // rows 0..12 only
  FilterBitmap view = allowed.view();
  for (IndexType type : {IndexType::kFlat, IndexType::kHnsw, IndexType::kIvfFlat}) {
    IndexSpec spec;
    spec.type = type;
    spec.metric = Metric::kL2;
    spec.dim = kDim;
    spec.nlist = 4;
    ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(spec, data.data(), 100));
    for (double exact_fraction : {0.0, 1.0}) {
      SearchParams p;
      p.ef = 100;
      p.nprobe = 4;
      p.exact_filter_fraction = exact_fraction;
      ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(data.data() + 50 * kDim, 1, 20, p, &view));
      EXPECT_EQ(r.Count(0), 13u) << IndexTypeName(type);
      for (size_t i = 0; i < r.Count(0); ++i) EXPECT_LT(r.id(0, i), 13) << IndexTypeName(type);
    }
  }
}

}  // namespace
}  // namespace ark
