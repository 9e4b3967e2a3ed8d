// The DR seam: what the DR layer may use of a database, end to end — the
// tail reader's framed bytes fed to a follower's replicated append, records
// read up to a cut, files by hash, slots, and seeding a new directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "engine/database.h"
#include "engine/dr_seam.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

class DrSeamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    options_.index_build_threads = 0;
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
    schema_ = testing::TestSchema(4);
  }
  testing::TempDir dir_;
  DatabaseOptions options_;
  CollectionSchema schema_;
  std::unique_ptr<Database> db_;
};

TEST_F(DrSeamTest, FramedRecordsFromATailReaderReplicateThroughTheSeam) {
  DrSeam primary(db_.get());
  ASSERT_OK(primary.CreateSlot("follower", Position{1, 0}, 0));
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 0, 30)).status());
  ASSERT_OK(db_->Flush("", "docs"));
  ASSERT_OK(db_->Delete("", "docs", {PrimaryKey(int64_t{3})}).status());

  testing::TempDir follower_dir;
  DatabaseOptions fo = options_;
  fo.follower = true;
  fo.fetch_file = [&](const std::string& hex) -> Result<std::string> {
    ARK_ASSIGN_OR_RETURN(auto f, primary.OpenFile(hex));
    ARK_ASSIGN_OR_RETURN(uint64_t size, f->Size());
    std::string buf(size, '\0');
    std::string_view got;
    ARK_RETURN_IF_ERROR(f->Read(0, size, &got, buf.data()));
    return std::string(got);
  };
  ASSERT_OK_AND_ASSIGN(auto follower_db, Database::Open(Env::Default(), follower_dir.path(), fo));
  DrSeam follower(follower_db.get());
  ASSERT_OK_AND_ASSIGN(auto reader, primary.OpenTailReader(Position{1, 0}, "follower"));
  WalRecord record;
  std::string framed;
  while (reader->position() < primary.DurablePosition()) {
    ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&record, &framed, 0));
    ASSERT_TRUE(got);
    ASSERT_OK(follower.AppendReplicated(framed).status());
    ASSERT_OK(primary.AdvanceSlot("follower", record.position));
  }
  EXPECT_EQ(follower.LastPosition(), primary.LastPosition());
  EXPECT_EQ(follower_db->CurrentManifest().LiveFiles(), db_->CurrentManifest().LiveFiles());
  EXPECT_EQ((*follower_db->GetSnapshot("", "docs"))->CountRows(), 29u);
  ASSERT_OK_AND_ASSIGN(WalSlotInfo slot, primary.GetSlot("follower"));
  EXPECT_EQ(slot.restart, primary.LastPosition());

  // A damaged frame is refused before anything is written.
  framed[framed.size() - 1] ^= 1;
  auto bad = follower.AppendReplicated(framed);
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(follower.LastPosition(), primary.LastPosition());
}

// Failover's engine step: a follower promoted in a new epoch takes writes of
// its own (seals and index builds included), refuses replicated appends,
// records the fork in its history, and reopens as a primary.
TEST_F(DrSeamTest, APromotedFollowerStartsAnEpochAndTakesWritesOfItsOwn) {
  DrSeam primary(db_.get());
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 0, 20)).status());
  testing::TempDir follower_dir;
  DatabaseOptions fo = options_;
  fo.follower = true;
  fo.follower_primary = "http://old-primary:19530";
  ASSERT_OK_AND_ASSIGN(auto follower_db, Database::Open(Env::Default(), follower_dir.path(), fo));
  DrSeam follower(follower_db.get());
  ASSERT_OK_AND_ASSIGN(auto reader, primary.OpenTailReader(Position{1, 0}));
  WalRecord record;
  std::string framed;
  while (reader->position() < primary.DurablePosition()) {
    ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&record, &framed, 0));
    ASSERT_TRUE(got);
    ASSERT_OK(follower.AppendReplicated(framed).status());
  }
  const Position fork = follower.LastPosition();
  EXPECT_EQ(follower_db->Insert("", "docs", testing::TestRows(schema_, 100, 1)).status().code(),
            StatusCode::kFailedPrecondition);

  ASSERT_OK_AND_ASSIGN(Position started, follower_db->Promote());
  EXPECT_EQ(started, (Position{2, fork.lsn + 1}));
  EXPECT_FALSE(follower_db->IsFollower());
  ASSERT_EQ(follower_db->EpochHistory().size(), 2u);
  EXPECT_EQ(follower_db->EpochHistory().back().epoch, 2u);
  EXPECT_EQ(follower_db->EpochHistory().back().first, started);
  EXPECT_EQ(follower_db->Promote().status().code(), StatusCode::kFailedPrecondition);
  // Its own writes, a seal and an index now; the old primary's records are refused.
  ASSERT_OK(follower_db->Insert("", "docs", testing::TestRows(schema_, 100, 5)).status());
  ASSERT_OK(follower_db->Flush("", "docs"));
  EXPECT_EQ((*follower_db->GetSnapshot("", "docs"))->CountRows(), 25u);
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 500, 1)).status());
  ASSERT_OK_AND_ASSIGN(bool more, reader->Next(&record, &framed, 0));
  ASSERT_TRUE(more);
  EXPECT_EQ(follower.AppendReplicated(framed).status().code(), StatusCode::kFailedPrecondition);

  // A restart opens it as the primary it now is, epoch 2 and all.
  follower_db.reset();
  DatabaseOptions po = options_;
  ASSERT_OK_AND_ASSIGN(auto reopened, Database::Open(Env::Default(), follower_dir.path(), po));
  EXPECT_EQ(reopened->CurrentEpoch(), 2u);
  EXPECT_EQ((*reopened->GetSnapshot("", "docs"))->CountRows(), 25u);
  ASSERT_OK(reopened->Insert("", "docs", testing::TestRows(schema_, 200, 1)).status());
}

// Failover's fence: asked before a write and again once it is durable,
// just before the acknowledgement; a refusal at either point fails the call,
// and the second leaves the record durable but unacknowledged.
TEST_F(DrSeamTest, TheWriteFenceRefusesBeforeAWriteAndBeforeItsAcknowledgement) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  std::atomic<int> calls{0};
  std::atomic<int> refuse_from{1 << 30};
  db_->SetWriteFence([&]() -> Status {
    if (++calls >= refuse_from.load()) return Status::Unavailable("lease lapsed (test)");
    return Status::OK();
  });
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 0, 3)).status());
  EXPECT_EQ(calls.load(), 2);  // once before, once before the acknowledgement

  refuse_from = calls.load() + 1;  // refuse the very next check: nothing is written
  const Position before = db_->wal()->LastPosition();
  auto refused = db_->Insert("", "docs", testing::TestRows(schema_, 10, 1));
  ASSERT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("lease lapsed (test)"), std::string::npos);
  EXPECT_EQ(db_->wal()->LastPosition(), before);
  EXPECT_EQ(db_->CreateCollection("", "other", schema_).status().code(), StatusCode::kUnavailable);

  refuse_from = calls.load() + 2;  // pass the first check, refuse the acknowledgement
  auto unacked = db_->Insert("", "docs", testing::TestRows(schema_, 20, 1));
  ASSERT_EQ(unacked.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unacked.status().message().find("durable here but not acknowledged"), std::string::npos)
      << unacked.status().ToString();
  EXPECT_GT(db_->wal()->LastPosition(), before);  // in the log: failback's report lists such records

  refuse_from = 1 << 30;
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 30, 1)).status());
}

TEST_F(DrSeamTest, ReadRecordsStopsAtTheCutAndSeedDirectoryOpens) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 0, 20)).status());
  ASSERT_OK(db_->Flush("", "docs"));
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 20, 5)).status());
  DrSeam seam(db_.get());
  ASSERT_OK_AND_ASSIGN(ConsistentCut cut, seam.GetConsistentCut("copy", 0));
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 100, 5)).status());  // after the cut
  std::vector<WalRecord> tail;
  ASSERT_OK(seam.ReadRecords(cut.manifest.checkpoint, cut.position, [&](const WalRecord& r, std::string_view framed) {
    EXPECT_OK(DecodeFramedRecord(framed, "test").status());
    tail.push_back(r);
    return Status::OK();
  }));
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(tail.back().position, cut.position);

  // A new directory seeded with the cut opens as the database at the cut.
  testing::TempDir copy;
  const std::string target = copy.path() + "/db";
  ASSERT_OK(DrSeam::PrepareDirectory(Env::Default(), target));
  for (const auto& f : cut.manifest.LiveFiles()) {
    ASSERT_OK_AND_ASSIGN(auto in, seam.OpenFile(f));
    ASSERT_OK_AND_ASSIGN(uint64_t size, in->Size());
    std::string buf(size, '\0');
    std::string_view got;
    ASSERT_OK(in->Read(0, size, &got, buf.data()));
    ASSERT_OK_AND_ASSIGN(auto out, Env::Default()->NewWritableFile(DrSeam::FileDestination(target, f)));
    ASSERT_OK(out->Append(got));
    ASSERT_OK(out->Sync());
    ASSERT_OK(out->Close());
  }
  ASSERT_OK(DrSeam::SeedDirectory(Env::Default(), target, cut.manifest, tail));
  ASSERT_OK(seam.ReleasePin("copy"));
  ASSERT_OK_AND_ASSIGN(auto restored, Database::Open(Env::Default(), target, options_));
  EXPECT_EQ((*restored->GetSnapshot("", "docs"))->CountRows(), 25u);
  EXPECT_EQ(restored->wal()->LastPosition(), cut.position);
  // Seeding refuses a manifest whose files are not in place.
  testing::TempDir empty;
  ASSERT_OK(DrSeam::PrepareDirectory(Env::Default(), empty.path() + "/db"));
  EXPECT_EQ(DrSeam::SeedDirectory(Env::Default(), empty.path() + "/db", cut.manifest, tail).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(DrSeamTest, ATailReaderRefusesAPositionOnAForkedHistory) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 0, 5)).status());
  DrSeam seam(db_.get());
  ASSERT_OK_AND_ASSIGN(Position fork, seam.StartEpoch(2));
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 5, 5)).status());
  // A consumer that believes epoch 1 went on past the fork.
  auto r = seam.OpenTailReader(Position{1, fork.lsn + 1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("epoch 2"));
  EXPECT_OK(seam.OpenTailReader(Position{1, fork.lsn - 1}).status());
}

}  // namespace
}  // namespace ark
