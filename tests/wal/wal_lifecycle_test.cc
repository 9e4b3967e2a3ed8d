// Rotation, epochs, retention floors, sticky failures, tail waiting.
#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

#include "storage/fault_injection_env.h"
#include "wal/wal_format.h"
#include "wal/wal_test_util.h"

namespace ark {
namespace {

using namespace wal_testing;

TEST(WalRotation, RotatesBySizeAndReplaysAcrossSegments) {
  testing::TempDir dir;
  WalOptions opts;
  opts.segment_size_bytes = 2000;
  {
    ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
    ASSERT_OK(AppendRecords(wal.get(), 100, 100, true));
    auto files = wal->SegmentFiles();
    ASSERT_GT(files.size(), 3u);
    for (size_t i = 0; i + 1 < files.size(); ++i) {
      EXPECT_LT(files[i], files[i + 1]);
      ASSERT_OK_AND_ASSIGN(uint64_t size, Env::Default()->GetFileSize(files[i]));
      EXPECT_LT(size, opts.segment_size_bytes + 200);  // rotated once over the limit
    }
    EXPECT_EQ(wal->Stats().segments_created, files.size());
  }
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  auto records = ReplayAll(*wal);
  ASSERT_EQ(records.size(), 100u);
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(records[i].body, BodyFor(i + 1, 100));
  auto tail = ReplayAll(*wal, {1, 57});
  ASSERT_EQ(tail.size(), 43u);
  EXPECT_EQ(tail.front().position.lsn, 58u);
}

TEST(WalRotation, LargeRecordBiggerThanASegment) {
  testing::TempDir dir;
  WalOptions opts;
  opts.segment_size_bytes = 4096;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  std::string big = BodyFor(1, 3 << 20);  // 1000 rows x 768 floats ~ 3 MB
  ASSERT_OK_AND_ASSIGN(Position p, wal->Append(WalOp::kInsert, 1, big));
  ASSERT_OK(wal->WaitDurable(p));
  ASSERT_OK_AND_ASSIGN(Position q, wal->Append(WalOp::kInsert, 1, "small"));
  ASSERT_OK(wal->WaitDurable(q));
  wal.reset();
  ASSERT_OK_AND_ASSIGN(wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  auto records = ReplayAll(*wal);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].body, big);
  EXPECT_EQ(records[1].body, "small");
  EXPECT_EQ(wal->SegmentFiles().size(), 2u);
}

TEST(WalRotation, BodyOverTheLimitIsRejected) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), {}));
  std::string huge(wal_format::kMaxBodySize + 1, 'x');
  auto p = wal->Append(WalOp::kInsert, 1, huge);
  EXPECT_TRUE(p.status().Is(StatusCode::kInvalidArgument)) << p.status().ToString();
  ASSERT_OK_AND_ASSIGN(Position ok, wal->Append(WalOp::kInsert, 1, "fine"));
  EXPECT_EQ(ok.lsn, 1u);
}

TEST(WalEpoch, StartEpochOpensANewSegmentAndLsnsContinue) {
  testing::TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), {}));
    ASSERT_OK(AppendRecords(wal.get(), 3, 10, true));
    ASSERT_OK_AND_ASSIGN(Position e, wal->StartEpoch(2));
    EXPECT_EQ(e, (Position{2, 4}));
    EXPECT_EQ(wal->DurablePosition(), e);
    EXPECT_EQ(wal->CurrentEpoch(), 2u);
    ASSERT_OK_AND_ASSIGN(Position p, wal->Append(WalOp::kInsert, 1, "after"));
    EXPECT_EQ(p, (Position{2, 5}));
    ASSERT_OK(wal->WaitDurable(p));
    EXPECT_TRUE(wal->StartEpoch(2).status().Is(StatusCode::kInvalidArgument));
    auto files = wal->SegmentFiles();
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(BaseName(files[1]), wal_format::SegmentFileName(2, 4));
  }
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), {}));
  EXPECT_EQ(wal->CurrentEpoch(), 2u);
  EXPECT_EQ(wal->LastPosition(), (Position{2, 5}));
  auto records = ReplayAll(*wal);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[3].op, static_cast<uint16_t>(WalOp::kEpochStart));
  EXPECT_EQ(records[3].position, (Position{2, 4}));
  EXPECT_EQ(records[2].position, (Position{1, 3}));
}

TEST(WalEpoch, StartEpochWritesBufferedOldEpochRecordsFirst) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), {}));
  ASSERT_OK_AND_ASSIGN(Position a, wal->Append(WalOp::kInsert, 1, "old epoch, not yet durable"));
  ASSERT_OK_AND_ASSIGN(Position e, wal->StartEpoch(5));
  EXPECT_EQ(a, (Position{1, 1}));
  EXPECT_EQ(e, (Position{5, 2}));
  auto records = ReplayAll(*wal);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].body, "old epoch, not yet durable");
}

class WalRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_.segment_size_bytes = 1000;
    auto wal = Wal::Open(Env::Default(), dir_.Sub("wal"), opts_);
    ASSERT_TRUE(wal.ok());
    wal_ = std::move(*wal);
    ASSERT_OK(AppendRecords(wal_.get(), 60, 100, true));
    ASSERT_GE(wal_->SegmentFiles().size(), 5u);
  }
  // First lsn of each segment, from the names.
  std::vector<uint64_t> FirstLsns() {
    std::vector<uint64_t> out;
    for (const auto& f : wal_->SegmentFiles()) {
      out.push_back(wal_format::ParseSegmentFileName(BaseName(f))->first_lsn);
    }
    return out;
  }

  testing::TempDir dir_;
  WalOptions opts_;
  std::unique_ptr<Wal> wal_;
};

TEST_F(WalRetentionTest, RemovesOnlySegmentsWhollyBeforeTheCheckpoint) {
  auto before = FirstLsns();
  // Checkpoint inside segment 2: segments 0 and 1 go, segment 2 stays.
  uint64_t checkpoint = before[2] + 1;
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, checkpoint}));
  auto after = FirstLsns();
  ASSERT_EQ(after.size(), before.size() - 2);
  EXPECT_EQ(after.front(), before[2]);
  for (uint64_t f : after) EXPECT_LE(f, std::max(checkpoint, after.back()));
  auto records = ReplayAll(*wal_, {1, checkpoint});
  EXPECT_EQ(records.size(), 60 - checkpoint);
  // Replay from before the retained range is NotFound, never a silent gap.
  Status s = wal_->Replay({1, 0}, [](const WalRecord&) { return Status::OK(); });
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  // The files on disk match.
  ASSERT_OK_AND_ASSIGN(auto listed, ListWalSegments(Env::Default(), dir_.Sub("wal")));
  EXPECT_EQ(listed, wal_->SegmentFiles());
}

TEST_F(WalRetentionTest, CheckpointOnASegmentBoundaryKeepsThatSegment) {
  auto before = FirstLsns();
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, before[3]}));
  EXPECT_EQ(FirstLsns().front(), before[3]);
}

TEST_F(WalRetentionTest, FloorHoldsSegmentsUntilCleared) {
  auto before = FirstLsns();
  wal_->SetRetainFloor("archiver", {1, before[1] + 1});
  wal_->SetRetainFloor("standby", {1, before[3]});
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 60}));
  EXPECT_EQ(FirstLsns().front(), before[1]);  // the lowest floor wins
  wal_->ClearRetainFloor("archiver");
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 60}));
  EXPECT_EQ(FirstLsns().front(), before[3]);
  wal_->ClearRetainFloor("standby");
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 1000}));
  // The segment being written is never removed.
  ASSERT_EQ(wal_->SegmentFiles().size(), 1u);
  EXPECT_EQ(FirstLsns().front(), before.back());
  ASSERT_OK(AppendRecords(wal_.get(), 1, 10, true));
  wal_.reset();
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir_.Sub("wal"), opts_));
  EXPECT_EQ(wal->LastPosition().lsn, 61u);
}

TEST(WalSticky, FailedSyncIsStickyUntilReopen) {
  testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(&env, dir.Sub("wal"), {}));
  ASSERT_OK(AppendRecords(wal.get(), 3, 10, true));
  env.FailSync(1, EIO);
  ASSERT_OK_AND_ASSIGN(Position p, wal->Append(WalOp::kInsert, 1, "doomed"));
  Status first = wal->WaitDurable(p);
  ASSERT_TRUE(first.Is(StatusCode::kIOError)) << first.ToString();
  EXPECT_NE(first.message().find("fdatasync"), std::string::npos);
  // Later calls fail the same way, even though the disk "works" again.
  auto again = wal->Append(WalOp::kInsert, 1, "refused");
  EXPECT_TRUE(again.status().Is(StatusCode::kIOError));
  EXPECT_EQ(again.status().message(), first.message());
  EXPECT_EQ(wal->WaitDurable(p).message(), first.message());
  EXPECT_EQ(wal->Flush().message(), first.message());
  EXPECT_EQ(wal->DurablePosition().lsn, 3u);
  wal.reset();
  ASSERT_OK_AND_ASSIGN(wal, Wal::Open(&env, dir.Sub("wal"), {}));
  ASSERT_OK(AppendRecords(wal.get(), 1, 10, true));
  auto records = ReplayAll(*wal);
  ASSERT_GE(records.size(), 4u);
  EXPECT_EQ(records.back().position.lsn, wal->LastPosition().lsn);
}

TEST(WalSticky, NoSpaceOnWriteIsStickyResourceExhausted) {
  testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(&env, dir.Sub("wal"), {}));
  env.FailWrite(1, ENOSPC, FaultInjectionEnv::WriteFault::kShortWrite);
  ASSERT_OK_AND_ASSIGN(Position p, wal->Append(WalOp::kInsert, 1, BodyFor(1, 1000)));
  Status s = wal->WaitDurable(p);
  EXPECT_TRUE(s.Is(StatusCode::kResourceExhausted)) << s.ToString();
  EXPECT_TRUE(wal->Append(WalOp::kInsert, 1, "x").status().Is(StatusCode::kResourceExhausted));
  wal.reset();
  // The half-written record is a torn tail: truncated at reopen.
  ASSERT_OK_AND_ASSIGN(wal, Wal::Open(&env, dir.Sub("wal"), {}));
  EXPECT_EQ(wal->LastPosition().lsn, 0u);
  EXPECT_TRUE(ReplayAll(*wal).empty());
}

TEST(WalSyncModes, NoneModeWritesWithoutSyncAndFlushSyncs) {
  testing::TempDir dir;
  WalOptions opts;
  opts.sync_mode = WalSyncMode::kNone;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  uint64_t syncs_at_open = wal->Stats().syncs;
  ASSERT_OK(AppendRecords(wal.get(), 20, 10, true));
  EXPECT_EQ(wal->Stats().syncs, syncs_at_open);
  EXPECT_EQ(ReplayAll(*wal).size(), 20u);
  ASSERT_OK(wal->Flush());
  EXPECT_EQ(wal->Stats().syncs, syncs_at_open + 1);
}

TEST(WalSyncModes, BatchedModeGathersConcurrentCommits) {
  testing::TempDir dir;
  WalOptions opts;
  opts.sync_mode = WalSyncMode::kBatched;
  opts.batch_window_micros = 2000;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto p = wal->Append(WalOp::kInsert, 1, "row");
        ASSERT_TRUE(p.ok());
        ASSERT_TRUE(wal->WaitDurable(*p).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ReplayAll(*wal).size(), 200u);
  EXPECT_LT(wal->Stats().syncs, 200u);
}

TEST(WalTail, WaitForDurableAfterWakesOnCommitAndTimesOut) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), {}));
  Position seen;
  std::thread tailer([&] { seen = wal->WaitForDurableAfter({1, 0}, 60'000'000); });
  ASSERT_OK_AND_ASSIGN(Position p, wal->Append(WalOp::kInsert, 1, "x"));
  ASSERT_OK(wal->WaitDurable(p));
  tailer.join();
  EXPECT_EQ(seen, p);
  // Nothing newer: returns the current durable position after the timeout.
  EXPECT_EQ(wal->WaitForDurableAfter(p, 1000), p);
}

}  // namespace
}  // namespace ark
