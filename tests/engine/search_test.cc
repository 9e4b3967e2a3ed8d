// Search, query, count, delete by filter and background index builds,
// checked against a brute-force oracle computed here from the rows.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/database.h"
#include "engine/manifest.h"
#include "index/lazy_vector_index.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

using ::testing::HasSubstr;

constexpr uint32_t kDim = 8;

// Rows [first, first+n): title "g<id % 3>", score = id, tags {"k": id % 5},
// a random embedding (seeded by id), and $meta {"lang": "en"|"fr"} when dynamic.
RowBatch RandomRows(const CollectionSchema& schema, int64_t first, size_t n) {
  RowBatch b = RowBatch::Empty(schema);
  for (size_t i = 0; i < n; ++i) {
    int64_t id = first + static_cast<int64_t>(i);
    std::mt19937 rng(static_cast<uint32_t>(id * 7919 + 13));
    std::normal_distribution<float> g;
    b.columns[0].ints.push_back(id);
    b.columns[1].strings.push_back("g" + std::to_string(id % 3));
    b.columns[2].doubles.push_back(static_cast<double>(id));
    b.columns[3].strings.push_back("{\"k\":" + std::to_string(id % 5) + "}");
    for (uint32_t d = 0; d < kDim; ++d) b.columns[4].floats.push_back(g(rng));
    if (schema.enable_dynamic_field) {
      b.columns[5].strings.push_back(id % 2 ? "{\"lang\":\"en\"}" : "{\"lang\":\"fr\"}");
    }
    ++b.num_rows;
  }
  return b;
}

std::vector<float> Query(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> q(kDim);
  for (auto& v : q) v = g(rng);
  return q;
}

double Score(Metric m, const float* a, const float* b) {
  double ip = 0, l2 = 0, na = 0, nb = 0;
  for (uint32_t d = 0; d < kDim; ++d) {
    ip += double(a[d]) * b[d];
    l2 += (double(a[d]) - b[d]) * (double(a[d]) - b[d]);
    na += double(a[d]) * a[d];
    nb += double(b[d]) * b[d];
  }
  if (m == Metric::kL2) return l2;
  if (m == Metric::kIp) return ip;
  return ip / std::sqrt(na * nb);
}

// Keys of the visible rows matching `keep`, best first by `metric`.
std::vector<int64_t> Oracle(const CollectionSnapshot& snap, Metric metric, const std::vector<float>& q,
                            const std::function<bool(const RowBatch&, size_t)>& keep) {
  QueryRequest all;
  auto rows = snap.Query(all);
  EXPECT_TRUE(rows.ok());
  std::vector<std::pair<double, int64_t>> scored;
  for (size_t r = 0; r < rows->num_rows; ++r) {
    if (!keep(*rows, r)) continue;
    double s = Score(metric, q.data(), rows->columns[4].floats.data() + r * kDim);
    scored.push_back({LargerIsCloser(metric) ? -s : s, rows->columns[0].ints[r]});
  }
  std::sort(scored.begin(), scored.end());
  std::vector<int64_t> out;
  for (auto& [s, k] : scored) out.push_back(k);
  return out;
}

std::vector<int64_t> Keys(const SearchHits& hits) { return hits.rows.columns[0].ints; }

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    options_.index_build_threads = 0;  // builds run when the test says so
    Reopen();
    schema_ = testing::TestSchema(kDim, false, /*dynamic=*/true);
    ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  }
  void Reopen() {
    db_.reset();
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  }
  std::shared_ptr<const CollectionSnapshot> Snap() { return *db_->GetSnapshot("", "docs"); }
  SearchRequest Req(const std::vector<float>& q, size_t limit) {
    SearchRequest r;
    r.vectors = q;
    r.num_queries = 1;
    r.limit = limit;
    return r;
  }
  // Two sealed segments, a growing one, and deletes in each.
  void LoadThreeSegments() {
    ASSERT_OK(db_->Insert("", "docs", RandomRows(schema_, 0, 300)).status());
    ASSERT_OK(db_->Flush("", "docs"));
    ASSERT_OK(db_->Insert("", "docs", RandomRows(schema_, 300, 300)).status());
    ASSERT_OK(db_->Flush("", "docs"));
    ASSERT_OK(db_->Insert("", "docs", RandomRows(schema_, 600, 200)).status());
    std::vector<PrimaryKey> dead;
    for (int64_t k = 0; k < 800; k += 7) dead.emplace_back(k);
    ASSERT_OK(db_->Delete("", "docs", dead).status());
  }

  testing::TempDir dir_;
  DatabaseOptions options_;
  std::unique_ptr<Database> db_;
  CollectionSchema schema_;
};

TEST_F(SearchTest, ExactSearchMergesSegmentsAndMatchesOracleForEveryMetric) {
  LoadThreeSegments();
  auto snap = Snap();
  for (Metric m : {Metric::kL2, Metric::kIp, Metric::kCosine}) {
    for (uint32_t seed = 1; seed <= 5; ++seed) {
      auto q = Query(seed);
      SearchRequest req = Req(q, 10);
      req.metric = m;
      ASSERT_OK_AND_ASSIGN(SearchResponse res, snap->Search(req));
      ASSERT_EQ(res.queries.size(), 1u);
      auto want = Oracle(*snap, m, q, [](const RowBatch&, size_t) { return true; });
      want.resize(10);
      EXPECT_EQ(Keys(res.queries[0]), want) << MetricName(m) << " seed " << seed;
      for (int64_t k : Keys(res.queries[0])) EXPECT_NE(k % 7, 0) << "deleted row " << k << " returned";
      const auto& sc = res.queries[0].scores;
      EXPECT_TRUE(LargerIsCloser(m) ? std::is_sorted(sc.rbegin(), sc.rend()) : std::is_sorted(sc.begin(), sc.end()));
    }
  }
}

TEST_F(SearchTest, OffsetSkipsTheBestHitsAndSeveralQueriesAnswerIndependently) {
  LoadThreeSegments();
  auto snap = Snap();
  auto q1 = Query(11), q2 = Query(12);
  SearchRequest req;
  req.vectors = q1;
  req.vectors.insert(req.vectors.end(), q2.begin(), q2.end());
  req.num_queries = 2;
  req.limit = 5;
  req.offset = 3;
  req.metric = Metric::kL2;
  ASSERT_OK_AND_ASSIGN(SearchResponse res, snap->Search(req));
  ASSERT_EQ(res.queries.size(), 2u);
  auto all = [](const RowBatch&, size_t) { return true; };
  auto w1 = Oracle(*snap, Metric::kL2, q1, all), w2 = Oracle(*snap, Metric::kL2, q2, all);
  EXPECT_EQ(Keys(res.queries[0]), std::vector<int64_t>(w1.begin() + 3, w1.begin() + 8));
  EXPECT_EQ(Keys(res.queries[1]), std::vector<int64_t>(w2.begin() + 3, w2.begin() + 8));
}

TEST_F(SearchTest, FilteredSearchReturnsOnlyMatchingRows) {
  LoadThreeSegments();
  auto snap = Snap();
  auto q = Query(21);
  SearchRequest req = Req(q, 20);
  req.metric = Metric::kIp;
  req.filter = "title == 'g1' and score > 100 and tags['k'] in [1, 2] and lang == 'en'";
  ASSERT_OK_AND_ASSIGN(SearchResponse res, snap->Search(req));
  auto want = Oracle(*snap, Metric::kIp, q, [](const RowBatch& b, size_t r) {
    int64_t id = b.columns[0].ints[r];
    return id % 3 == 1 && id > 100 && (id % 5 == 1 || id % 5 == 2) && id % 2 == 1;
  });
  ASSERT_GE(want.size(), 20u);
  want.resize(20);
  EXPECT_EQ(Keys(res.queries[0]), want);
}

TEST_F(SearchTest, SearchErrorsNameTheProblem) {
  LoadThreeSegments();
  auto snap = Snap();
  SearchRequest req = Req(std::vector<float>(kDim - 1, 0.5f), 10);
  EXPECT_THAT(snap->Search(req).status().message(), HasSubstr("dimension 8"));
  req = Req(Query(1), 10);
  req.filter = "score >";
  auto bad = snap->Search(req);
  EXPECT_TRUE(bad.status().Is(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.status().message(), HasSubstr("collection 'docs'"));
  req.filter = "title > 3";  // type mismatch is an error, not an empty result
  EXPECT_TRUE(snap->Search(req).status().Is(StatusCode::kInvalidArgument));
  req.filter = "";
  req.anns_field = "title";
  EXPECT_THAT(snap->Search(req).status().message(), HasSubstr("not a vector field"));
  req.anns_field = "nope";
  EXPECT_THAT(snap->Search(req).status().message(), HasSubstr("does not exist"));
  req.anns_field = "";
  req.limit = 16000;
  req.offset = 1000;
  EXPECT_THAT(snap->Search(req).status().message(), HasSubstr("maximum 16384"));
  req = Req(Query(1), 10);
  req.vectors[0] = std::nanf("");
  EXPECT_THAT(snap->Search(req).status().message(), HasSubstr("NaN"));
}

TEST_F(SearchTest, QueryCountAndDeleteByFilterSurviveRestart) {
  LoadThreeSegments();
  auto snap = Snap();
  QueryRequest q;
  q.filter = "score >= 290 and score < 320";
  ASSERT_OK_AND_ASSIGN(RowBatch rows, snap->Query(q));
  std::vector<int64_t> want;
  for (int64_t k = 290; k < 320; ++k) {
    if (k % 7) want.push_back(k);
  }
  EXPECT_EQ(rows.columns[0].ints, want);  // crosses the segment boundary at 300, in order
  q.offset = 2;
  q.limit = 3;
  ASSERT_OK_AND_ASSIGN(rows, snap->Query(q));
  EXPECT_EQ(rows.columns[0].ints, std::vector<int64_t>(want.begin() + 2, want.begin() + 5));
  ASSERT_OK_AND_ASSIGN(uint64_t total, snap->Count("", nullptr));
  EXPECT_EQ(total, 800u - 115u);
  nlohmann::json params = {{"g", "g2"}};
  ASSERT_OK_AND_ASSIGN(uint64_t g2, snap->Count("title == {g}", &params));
  uint64_t expect_g2 = 0;
  for (int64_t k = 0; k < 800; ++k) expect_g2 += (k % 3 == 2 && k % 7 != 0);
  EXPECT_EQ(g2, expect_g2);

  ASSERT_OK_AND_ASSIGN(WriteResult del, db_->DeleteByFilter("", "docs", "title == 'g2' or lang == 'fr'", nullptr));
  uint64_t expect_deleted = 0;
  for (int64_t k = 0; k < 800; ++k) expect_deleted += (k % 7 != 0) && (k % 3 == 2 || k % 2 == 0);
  EXPECT_EQ(del.count, expect_deleted);
  EXPECT_EQ(*Snap()->Count("", nullptr), total - expect_deleted);
  EXPECT_TRUE(db_->DeleteByFilter("", "docs", "title ==", nullptr).status().Is(StatusCode::kInvalidArgument));
  EXPECT_EQ(*Snap()->Count("", nullptr), total - expect_deleted);  // a bad filter deletes nothing
  Reopen();  // the delete was logged as keys: replay gives the same rows
  EXPECT_EQ(*Snap()->Count("", nullptr), total - expect_deleted);
  EXPECT_EQ(*Snap()->Count("title == 'g2' or lang == 'fr'", nullptr), 0u);
}

TEST_F(SearchTest, IndexBuildsInBackgroundIsListedInManifestAndLoadedWithoutRebuild) {
  LoadThreeSegments();
  ASSERT_OK(db_->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 64}}).status());
  ASSERT_OK_AND_ASSIGN(auto infos, db_->ListIndexes("", "docs"));
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].definition.index_name, "embedding");
  EXPECT_EQ(infos[0].state, "InProgress");
  EXPECT_EQ(infos[0].pending_rows, 600u);
  // Until built, the segments are searched exactly: results already correct.
  auto q = Query(31);
  SearchRequest req = Req(q, 10);
  ASSERT_OK_AND_ASSIGN(SearchResponse before, Snap()->Search(req));
  EXPECT_EQ(before.metric, Metric::kL2);
  int builds = 0;
  while (db_->RunIndexBuild()) ++builds;
  EXPECT_EQ(builds, 2);
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].state, "Finished");
  EXPECT_EQ(infos[0].indexed_rows, 600u);
  Manifest m = db_->CurrentManifest();
  ASSERT_EQ(m.collections.size(), 1u);
  ASSERT_EQ(m.collections[0].indexes.size(), 1u);
  std::set<std::string> index_files;
  for (const auto& s : m.collections[0].segments) {
    ASSERT_EQ(s.index_files.count("embedding"), 1u);
    index_files.insert(s.index_files.at("embedding").front());
  }
  EXPECT_EQ(index_files.size(), 2u);
  for (const auto& f : index_files) EXPECT_TRUE(Env::Default()->FileExists(JoinPath(db_->FilesDir(), f)));
  ASSERT_OK_AND_ASSIGN(SearchResponse after, Snap()->Search(req));
  auto want = Oracle(*Snap(), Metric::kL2, q, [](const RowBatch&, size_t) { return true; });
  want.resize(10);
  EXPECT_EQ(Keys(after.queries[0]), want);  // 300-row HNSW segments: recall 1 here

  Reopen();
  EXPECT_FALSE(db_->RunIndexBuild()) << "a restart must not rebuild an index";
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].state, "Finished");
  EXPECT_EQ(Snap()->indexes().built.size(), 2u);
  ASSERT_OK_AND_ASSIGN(SearchResponse reopened, Snap()->Search(req));
  EXPECT_EQ(Keys(reopened.queries[0]), Keys(after.queries[0]));
  SearchRequest wrong = req;
  wrong.metric = Metric::kCosine;
  EXPECT_THAT(Snap()->Search(wrong).status().message(), HasSubstr("metric type mismatch"));

  // A new segment gets its index after the flush.
  ASSERT_OK(db_->Flush("", "docs"));
  EXPECT_TRUE(db_->RunIndexBuild());
  EXPECT_FALSE(db_->RunIndexBuild());
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 3u);

  // Drop: the definition and the files go (after the next manifest commit).
  ASSERT_OK(db_->DropIndex("", "docs", "embedding").status());
  EXPECT_TRUE(db_->DropIndex("", "docs", "embedding").status().IsNotFound());
  ASSERT_OK(db_->Insert("", "docs", RandomRows(schema_, 900, 10)).status());
  ASSERT_OK(db_->Flush("", "docs"));
  for (const auto& f : index_files) EXPECT_FALSE(Env::Default()->FileExists(JoinPath(db_->FilesDir(), f)));
  Reopen();
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_TRUE(infos.empty());
}

TEST_F(SearchTest, ChangedIndexParamsRebuildWhileTheOldIndexServes) {
  LoadThreeSegments();
  ASSERT_OK(db_->CreateIndex("", "docs", "vec_idx", "embedding", "HNSW", "COSINE", {{"M", 8}}).status());
  while (db_->RunIndexBuild()) {
  }
  auto old_built = Snap()->indexes().built;
  ASSERT_OK(db_->CreateIndex("", "docs", "vec_idx", "embedding", "HNSW", "COSINE", {{"M", 12}}).status());
  EXPECT_TRUE(db_->CreateIndex("", "docs", "vec_idx", "title", "HNSW", "COSINE", {}).status().Is(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(auto infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].state, "InProgress");
  EXPECT_EQ(infos[0].definition.spec.hnsw_m, 12u);
  EXPECT_EQ(Snap()->indexes().built, old_built);  // the old index still serves
  ASSERT_TRUE(db_->RunIndexBuild());
  ASSERT_TRUE(db_->RunIndexBuild());
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].state, "Finished");
  for (const auto& [seg, fields] : Snap()->indexes().built) EXPECT_EQ(fields.at("embedding")->spec().hnsw_m, 12u);
  // Same name on another vector field is refused; identical re-create is a no-op.
  ASSERT_OK(db_->CreateIndex("", "docs", "vec_idx", "embedding", "HNSW", "COSINE", {{"M", 12}}).status());
  EXPECT_FALSE(db_->RunIndexBuild());
}

TEST_F(SearchTest, TooSmallSegmentForIvfIsSearchedExactlyAndReported) {
  ASSERT_OK(db_->Insert("", "docs", RandomRows(schema_, 0, 50)).status());
  ASSERT_OK(db_->Flush("", "docs"));
  ASSERT_OK(db_->CreateIndex("", "docs", "", "embedding", "IVF_FLAT", "L2", {{"nlist", 128}}).status());
  EXPECT_TRUE(db_->RunIndexBuild());
  ASSERT_OK_AND_ASSIGN(auto infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].state, "Finished");
  EXPECT_THAT(infos[0].fail_reason, HasSubstr("nlist"));
  auto q = Query(41);
  ASSERT_OK_AND_ASSIGN(SearchResponse res, Snap()->Search(Req(q, 5)));
  auto want = Oracle(*Snap(), Metric::kL2, q, [](const RowBatch&, size_t) { return true; });
  want.resize(5);
  EXPECT_EQ(Keys(res.queries[0]), want);
}

TEST_F(SearchTest, CorruptIndexFileIsRebuiltNotServedWhenLoadedAtOpen) {
  options_.load_indexes_at_open = true;
  Reopen();
  LoadThreeSegments();
  ASSERT_OK(db_->CreateIndex("", "docs", "", "embedding", "FLAT", "L2", {}).status());
  while (db_->RunIndexBuild()) {
  }
  Manifest m = db_->CurrentManifest();
  std::string victim = m.collections[0].segments[0].index_files.at("embedding").front();
  db_.reset();
  std::string path = JoinPath(JoinPath(dir_.path(), "files"), victim);
  std::string data;
  ASSERT_OK(Env::Default()->ReadFileToString(path, &data));
  data[data.size() / 2] ^= 0x40;
  ASSERT_OK(Env::Default()->WriteFileAtomic(path, data));
  Reopen();
  ASSERT_OK_AND_ASSIGN(auto infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 1u);
  EXPECT_TRUE(db_->RunIndexBuild());
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 2u);
}

class LazyOpenTest : public SearchTest {
 protected:
  // Two sealed segments with HNSW graphs and a growing one; closes the
  // database and returns the index file of the first segment.
  std::string BuildGraphsAndClose() {
    LoadThreeSegments();
    EXPECT_OK(db_->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 32}})
                  .status());
    while (db_->RunIndexBuild()) {
    }
    Manifest m = db_->CurrentManifest();
    std::string file = m.collections[0].segments[0].index_files.at("embedding").front();
    db_.reset();
    return JoinPath(JoinPath(dir_.path(), "files"), file);
  }
  std::vector<int64_t> SearchKeys(uint32_t seed) {
    auto res = Snap()->Search(Req(Query(seed), 10));
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? Keys(res->queries[0]) : std::vector<int64_t>{};
  }
};

TEST_F(LazyOpenTest, OpenReadsNoGraphAndTheFirstSearchLoadsEachOnce) {
  BuildGraphsAndClose();
  options_.load_indexes_at_open = true;
  Reopen();
  const std::vector<int64_t> want = SearchKeys(5);
  ASSERT_EQ(want.size(), 10u);
  options_.load_indexes_at_open = false;
  const uint64_t before = LazyVectorIndex::PayloadLoads();
  Reopen();
  EXPECT_EQ(LazyVectorIndex::PayloadLoads(), before);  // open read headers only
  for (const auto& [segment, fields] : Snap()->indexes().built) {
    EXPECT_FALSE(fields.at("embedding")->resident()) << segment;
  }
  EXPECT_EQ(SearchKeys(5), want);
  EXPECT_EQ(LazyVectorIndex::PayloadLoads(), before + 2);  // one per segment
  EXPECT_EQ(SearchKeys(6).size(), 10u);
  EXPECT_EQ(LazyVectorIndex::PayloadLoads(), before + 2);  // and never again
}

TEST_F(LazyOpenTest, ConcurrentFirstSearchesLoadEachGraphOnceAndAgree) {
  BuildGraphsAndClose();
  options_.load_indexes_at_open = true;
  Reopen();
  const std::vector<int64_t> want = SearchKeys(9);
  options_.load_indexes_at_open = false;
  Reopen();
  const uint64_t before = LazyVectorIndex::PayloadLoads();
  auto snap = Snap();
  std::atomic<int> ready{0};
  std::vector<std::vector<int64_t>> got(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < static_cast<int>(got.size())) {
      }  // start together
      auto res = snap->Search(Req(Query(9), 10));
      if (res.ok()) got[t] = Keys(res->queries[0]);
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
  EXPECT_EQ(LazyVectorIndex::PayloadLoads(), before + 2);
}

TEST_F(LazyOpenTest, CorruptGraphOpensAndTheFirstSearchFallsBackToExactSearch) {
  const std::string path = BuildGraphsAndClose();
  std::string data;
  ASSERT_OK(Env::Default()->ReadFileToString(path, &data));
  data[data.size() / 2] ^= 0x40;  // the payload: its checksum no longer holds
  ASSERT_OK(Env::Default()->WriteFileAtomic(path, data));
  Reopen();  // open does not read the graph, so it does not notice
  ASSERT_OK_AND_ASSIGN(auto infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 2u);
  // The damaged graph is never used: its segment is searched exactly (and
  // the graph rebuilt: lazy_segment_test.cc), so the answer is the oracle's.
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSERT_OK_AND_ASSIGN(SearchResponse res, Snap()->Search(Req(Query(3), 10)));
    auto want = Oracle(*Snap(), Metric::kL2, Query(3), [](const RowBatch&, size_t) { return true; });
    want.resize(10);
    EXPECT_EQ(Keys(res.queries[0]), want);
  }
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 1u);  // not served until rebuilt
}

TEST_F(LazyOpenTest, TruncatedGraphIsStillFoundAtOpenAndRebuilt) {
  const std::string path = BuildGraphsAndClose();
  std::string data;
  ASSERT_OK(Env::Default()->ReadFileToString(path, &data));
  ASSERT_OK(Env::Default()->WriteFileAtomic(path, data.substr(0, data.size() - 100)));
  Reopen();  // the header's payload size no longer matches: dropped, rebuilt
  ASSERT_OK_AND_ASSIGN(auto infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 1u);
  EXPECT_TRUE(db_->RunIndexBuild());
  EXPECT_EQ(SearchKeys(4).size(), 10u);
}

TEST(SearchConcurrencyTest, ConcurrentSearchesWhileWritingSealingAndBuilding) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.seal_rows = 400;
  options.index_build_threads = 1;
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(Env::Default(), dir.path(), options));
  auto schema = testing::TestSchema(kDim, false, true);
  ASSERT_OK(db->CreateCollection("", "docs", schema).status());
  ASSERT_OK(db->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 32}}).status());
  std::atomic<bool> stop{false};
  std::atomic<int> searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      while (!stop.load()) {
        auto snap = *db->GetSnapshot("", "docs");
        SearchRequest req;
        req.vectors = Query(100 + t);
        req.num_queries = 1;
        req.limit = 5;
        req.filter = "score >= 0";
        auto res = snap->Search(req);
        ASSERT_TRUE(res.ok()) << res.status().ToString();
        // Each hit is a whole, consistent row.
        const RowBatch& rows = res->queries[0].rows;
        ASSERT_LE(rows.num_rows, 5u);
        for (size_t i = 0; i < rows.num_rows; ++i) ASSERT_EQ(rows.columns[2].doubles[i], rows.columns[0].ints[i]);
        searches.fetch_add(1);
      }
    });
  }
  for (int64_t b = 0; b < 10; ++b) {
    ASSERT_OK(db->Insert("", "docs", RandomRows(schema, b * 200, 200)).status());
    std::vector<PrimaryKey> dead;
    for (int64_t k = b * 200; k < (b + 1) * 200; ++k) {
      if (k % 11 == 10) dead.emplace_back(k);
    }
    ASSERT_OK(db->Delete("", "docs", dead).status());
  }
  while (searches.load() < 20) std::this_thread::yield();
  stop.store(true);
  for (auto& t : readers) t.join();
  ASSERT_TRUE(db->WaitForIndexBuilds(std::chrono::seconds(120)));
  ASSERT_OK_AND_ASSIGN(auto infos, db->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].pending_rows, 0u);
  EXPECT_GE(infos[0].segments, 2u);
  EXPECT_EQ(infos[0].indexed_segments, infos[0].segments);
  SearchRequest req;
  req.vectors = Query(7);
  req.num_queries = 1;
  req.limit = 50;
  ASSERT_OK_AND_ASSIGN(SearchResponse res, (*db->GetSnapshot("", "docs"))->Search(req));
  EXPECT_EQ(res.queries[0].rows.num_rows, 50u);
  for (int64_t k : res.queries[0].rows.columns[0].ints) EXPECT_NE(k % 11, 10) << "deleted row " << k;
}

}  // namespace
}  // namespace ark
