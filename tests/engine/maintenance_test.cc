// The maintenance loop seals idle collections (so the WAL checkpoint moves
// and old WAL segments can go) and runs by itself once started.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "engine/database.h"
#include "engine/database_maintenance.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

class MaintenanceTest : public ::testing::Test {
 protected:
  void Open(uint64_t seal_age_micros) {
    DatabaseOptions options;
    options.auto_seal = false;  // only the maintenance pass seals
    options.index_build_threads = 0;
    options.seal_age_micros = seal_age_micros;
    options.wal.segment_size_bytes = 4096;  // many WAL segments, so removal shows
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options));
    ASSERT_OK(db_->CreateCollection("", "docs", testing::TestSchema(4)).status());
    for (int i = 0; i < 20; ++i) ASSERT_OK(db_->Insert("", "docs", testing::TestRows(testing::TestSchema(4), i * 10, 10)).status());
  }
  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(MaintenanceTest, AnIdleCollectionIsSealedAndReleasesTheWal) {
  Open(/*seal_age_micros=*/1);
  const size_t segments_before = db_->wal()->SegmentFiles().size();
  ASSERT_GT(segments_before, 2u);
  EXPECT_LT(db_->CurrentManifest().checkpoint, db_->wal()->LastPosition()) << "unsealed rows hold the checkpoint";
  DatabaseMaintenance maintenance(db_.get(), std::chrono::hours(1));
  ASSERT_OK(maintenance.RunOnce());
  const Manifest m = db_->CurrentManifest();
  ASSERT_EQ(m.collections.size(), 1u);
  EXPECT_EQ(m.collections[0].segments.size(), 1u);
  EXPECT_EQ(m.collections[0].segments[0].rows, 200u);
  EXPECT_EQ(m.checkpoint, m.applied);
  EXPECT_LT(db_->wal()->SegmentFiles().size(), segments_before);
}

TEST_F(MaintenanceTest, YoungRowsWaitForTheirAge) {
  Open(/*seal_age_micros=*/3600ull * 1000000);
  DatabaseMaintenance maintenance(db_.get(), std::chrono::hours(1));
  ASSERT_OK(maintenance.RunOnce());
  EXPECT_TRUE(db_->CurrentManifest().collections[0].segments.empty());
}

TEST_F(MaintenanceTest, TheLoopRunsByItselfAndStops) {
  Open(/*seal_age_micros=*/1);
  DatabaseMaintenance maintenance(db_.get(), std::chrono::milliseconds(1));
  maintenance.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (db_->CurrentManifest().collections[0].segments.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  maintenance.Stop();
  EXPECT_EQ(db_->CurrentManifest().collections[0].segments.size(), 1u);
  EXPECT_GE(maintenance.passes(), 1u);
}

}  // namespace
}  // namespace ark
