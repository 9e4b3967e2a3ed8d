// Compaction: small and delete-heavy segments are rewritten without deleted
// rows, indexes come along, results do not change, files are collected only
// when no manifest or pin needs them, and it all survives a restart.
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/database.h"
#include "engine/manifest.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

constexpr uint32_t kDim = 8;

RowBatch Rows(const CollectionSchema& schema, int64_t first, size_t n) {
  RowBatch b = testing::TestRows(schema, first, n);
  for (size_t i = 0; i < n; ++i) {  // spread the vectors so nearest neighbours differ
    std::mt19937 rng(static_cast<uint32_t>(first + i));
    std::normal_distribution<float> g;
    for (uint32_t d = 0; d < kDim; ++d) b.columns[4].floats[i * kDim + d] = g(rng);
  }
  return b;
}

class CompactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    options_.index_build_threads = 0;
    options_.seal_rows = 1000;  // compaction target: segments under 500 live rows are small
    Reopen();
    schema_ = testing::TestSchema(kDim);
    ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  }
  void Reopen() {
    db_.reset();
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  }
  std::shared_ptr<const CollectionSnapshot> Snap() { return *db_->GetSnapshot("", "docs"); }
  // Five sealed segments of 100 rows, every 4th key deleted (a tombstone file).
  void FiveSmallSegments() {
    for (int s = 0; s < 5; ++s) {
      ASSERT_OK(db_->Insert("", "docs", Rows(schema_, s * 100, 100)).status());
      ASSERT_OK(db_->Flush("", "docs"));
    }
    std::vector<PrimaryKey> dead;
    for (int64_t k = 0; k < 500; k += 4) dead.emplace_back(k);
    ASSERT_OK(db_->Delete("", "docs", dead).status());
    ASSERT_OK(db_->Flush("", "docs"));
  }
  std::vector<int64_t> TopKeys(uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g;
    SearchRequest req;
    for (uint32_t d = 0; d < kDim; ++d) req.vectors.push_back(g(rng));
    req.num_queries = 1;
    req.limit = 20;
    auto res = Snap()->Search(req);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res->queries[0].rows.columns[0].ints;
  }
  std::set<std::string> FilesOnDisk() {
    auto names = Env::Default()->ListDir(db_->FilesDir());
    return {names->begin(), names->end()};
  }

  testing::TempDir dir_;
  DatabaseOptions options_;
  std::unique_ptr<Database> db_;
  CollectionSchema schema_;
};

TEST_F(CompactionTest, MergesSmallSegmentsDropsDeletedRowsAndKeepsResults) {
  FiveSmallSegments();
  ASSERT_OK(db_->CreateIndex("", "docs", "", "embedding", "FLAT", "COSINE", {}).status());
  while (db_->RunIndexBuild()) {
  }
  const Manifest before = db_->CurrentManifest();
  ASSERT_EQ(before.collections[0].segments.size(), 5u);
  ASSERT_EQ(before.collections[0].tombstone_files.size(), 1u);
  auto top_before = TopKeys(1);
  QueryRequest all;
  ASSERT_OK_AND_ASSIGN(RowBatch rows_before, Snap()->Query(all));

  ASSERT_OK_AND_ASSIGN(CompactionResult r, db_->Compact("", "docs"));
  EXPECT_EQ(r.segments_before, 5u);
  EXPECT_EQ(r.segments_after, 1u);
  EXPECT_EQ(r.rows_before, 500u);
  EXPECT_EQ(r.rows_after, 375u);
  EXPECT_EQ(r.tombstone_files_dropped, 1u);
  EXPECT_EQ(r.index_files_built, 1u);

  const Manifest after = db_->CurrentManifest();
  ASSERT_EQ(after.collections[0].segments.size(), 1u);
  EXPECT_EQ(after.collections[0].segments[0].rows, 375u);
  EXPECT_TRUE(after.collections[0].tombstone_files.empty());
  EXPECT_EQ(after.collections[0].segments[0].index_files.count("embedding"), 1u);
  EXPECT_FALSE(db_->RunIndexBuild()) << "the compacted segment's index was built by the compaction";
  // Same answers.
  EXPECT_EQ(TopKeys(1), top_before);
  ASSERT_OK_AND_ASSIGN(RowBatch rows_after, Snap()->Query(all));
  EXPECT_EQ(rows_after, rows_before);
  // Old files are gone; the new ones are there.
  auto on_disk = FilesOnDisk();
  for (const auto& f : before.LiveFiles()) EXPECT_EQ(on_disk.count(f), 0u) << f;
  for (const auto& f : after.LiveFiles()) EXPECT_EQ(on_disk.count(f), 1u) << f;

  Reopen();
  EXPECT_FALSE(db_->RunIndexBuild());
  EXPECT_EQ(TopKeys(1), top_before);
  ASSERT_OK_AND_ASSIGN(rows_after, Snap()->Query(all));
  EXPECT_EQ(rows_after, rows_before);
  // Deletes and upserts still work on compacted rows, and survive a restart.
  ASSERT_OK(db_->Delete("", "docs", {PrimaryKey{int64_t{1}}}).status());
  ASSERT_OK(db_->Upsert("", "docs", Rows(schema_, 2, 1)).status());
  Reopen();
  EXPECT_EQ(*Snap()->Count("", nullptr), 374u);
  EXPECT_EQ(*Snap()->Count("id == 1", nullptr), 0u);
  EXPECT_EQ(*Snap()->Count("id == 2", nullptr), 1u);
}

TEST_F(CompactionTest, NothingToDoIsANoOp) {
  ASSERT_OK_AND_ASSIGN(CompactionResult r, db_->Compact("", "docs"));
  EXPECT_EQ(r.segments_before, 0u);
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 0, 10)).status());
  ASSERT_OK(db_->Flush("", "docs"));
  uint64_t version = db_->CurrentManifest().version;
  ASSERT_OK_AND_ASSIGN(r, db_->Compact("", "docs"));  // one small clean segment
  EXPECT_EQ(r.segments_before, 0u);
  EXPECT_EQ(db_->CurrentManifest().version, version);
  EXPECT_TRUE(db_->Compact("", "nope").status().IsNotFound());
}

TEST_F(CompactionTest, PinnedFilesOutliveCompactionUntilReleased) {
  FiveSmallSegments();
  ASSERT_OK_AND_ASSIGN(ConsistentCut cut, db_->GetConsistentCut("backup-1", 0));
  ASSERT_OK(db_->Compact("", "docs").status());
  auto on_disk = FilesOnDisk();
  for (const auto& f : cut.manifest.LiveFiles()) {
    EXPECT_EQ(on_disk.count(f), 1u) << "pinned file " << f << " removed";
    EXPECT_TRUE(db_->OpenFileByHash(f).ok());
  }
  ASSERT_OK(db_->ReleasePin("backup-1"));
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 1000, 5)).status());
  ASSERT_OK(db_->Flush("", "docs"));  // the next commit collects them
  on_disk = FilesOnDisk();
  for (const auto& f : cut.manifest.LiveFiles()) EXPECT_EQ(on_disk.count(f), 0u) << f;
}

TEST_F(CompactionTest, DeleteHeavySegmentIsRewrittenAlone) {
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 0, 900)).status());
  ASSERT_OK(db_->Flush("", "docs"));
  std::vector<PrimaryKey> dead;
  for (int64_t k = 0; k < 300; ++k) dead.emplace_back(k);
  ASSERT_OK(db_->Delete("", "docs", dead).status());
  ASSERT_OK_AND_ASSIGN(CompactionResult r, db_->Compact("", "docs"));
  EXPECT_EQ(r.segments_before, 1u);
  EXPECT_EQ(r.rows_after, 600u);
  // The delete was after the last flush: it is in the WAL, not a tombstone
  // file. Replay must still find nothing to resurrect.
  Reopen();
  EXPECT_EQ(*Snap()->Count("", nullptr), 600u);
  EXPECT_EQ(*Snap()->Count("id < 300", nullptr), 0u);
}

TEST(CompactionConcurrencyTest, ConcurrentDeletesAndSearchesDuringCompaction) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.auto_seal = false;
  options.seal_rows = 10'000;
  options.index_build_threads = 1;
  auto schema = testing::TestSchema(kDim);
  std::set<int64_t> deleted;
  {
    ASSERT_OK_AND_ASSIGN(auto db, Database::Open(Env::Default(), dir.path(), options));
    ASSERT_OK(db->CreateCollection("", "docs", schema).status());
    ASSERT_OK(db->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 32}}).status());
    for (int s = 0; s < 6; ++s) {
      ASSERT_OK(db->Insert("", "docs", Rows(schema, s * 500, 500)).status());
      ASSERT_OK(db->Flush("", "docs"));
    }
    std::atomic<bool> done{false};
    std::thread deleter([&] {
      for (int64_t k = 1; k < 3000 && !done.load(); k += 3) {
        // A named vector, not `{PrimaryKey{k}}`: GCC 12 at -O3 reports a false
        // -Wmaybe-uninitialized in the initializer list's variant destructor,
        // which -Werror turns into a failed release build (`make bench`).
        const std::vector<PrimaryKey> keys(1, PrimaryKey{k});
        ASSERT_OK(db->Delete("", "docs", keys).status());
        deleted.insert(k);
      }
    });
    std::thread searcher([&] {
      SearchRequest req;
      req.vectors.assign(kDim, 0.1f);
      req.num_queries = 1;
      req.limit = 10;
      while (!done.load()) {
        auto res = (*db->GetSnapshot("", "docs"))->Search(req);
        ASSERT_TRUE(res.ok()) << res.status().ToString();
        ASSERT_EQ(res->queries[0].rows.num_rows, 10u);
      }
    });
    for (int round = 0; round < 3; ++round) {
      auto r = db->Compact("", "docs");
      ASSERT_TRUE(r.ok() || r.status().Is(StatusCode::kFailedPrecondition)) << r.status().ToString();
    }
    done.store(true);
    deleter.join();
    searcher.join();
    ASSERT_TRUE(db->WaitForIndexBuilds(std::chrono::seconds(120)));
    EXPECT_EQ(*(*db->GetSnapshot("", "docs"))->Count("", nullptr), 3000u - deleted.size());
  }
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(Env::Default(), dir.path(), options));
  auto snap = *db->GetSnapshot("", "docs");
  EXPECT_EQ(*snap->Count("", nullptr), 3000u - deleted.size());
  for (int64_t k : {int64_t{1}, int64_t{4}, int64_t{2998}}) {
    EXPECT_EQ(*snap->Count("id == " + std::to_string(k), nullptr), deleted.count(k) ? 0u : 1u) << k;
  }
}

}  // namespace
}  // namespace ark
