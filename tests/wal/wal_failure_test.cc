// A failed group-commit round leaves nothing to replay (issue 7, "Disk
// trouble"): the leader cuts the segment back to its size after the last
// successful round, fsyncs, and only then fails the round's waiters. If the
// cut fails too, the log stays failed and says the outcome is unknown.
#include <gtest/gtest.h>

#include <cerrno>

#include "storage/fault_injection_env.h"
#include "wal/wal_test_util.h"

namespace ark {
namespace {

using namespace wal_testing;

class WalFailureTest : public ::testing::Test {
 protected:
  void Open(WalOptions options = {}) {
    options_ = options;
    ASSERT_OK_AND_ASSIGN(wal_, Wal::Open(&env_, dir_.Sub("wal"), options_));
  }
  void Reopen() {
    wal_.reset();
    env_.ClearFaults();
    Open(options_);
  }
  uint64_t SegmentSize() {
    auto files = wal_->SegmentFiles();
    auto size = Env::Default()->GetFileSize(files.back());
    EXPECT_TRUE(size.ok()) << size.status().ToString();
    return size.ok() ? *size : 0;
  }
  // Appends `n` records with bodies "doomed-<i>" and waits for them as one batch.
  Status AppendDoomed(int n) {
    Position last;
    for (int i = 0; i < n; ++i) {
      ARK_ASSIGN_OR_RETURN(last, wal_->Append(WalOp::kInsert, 1, BodyFor(1000 + i, 100)));
    }
    return wal_->WaitDurable(last);
  }

  testing::TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
  WalOptions options_;
  std::unique_ptr<Wal> wal_;
};

TEST_F(WalFailureTest, FailedSyncCutsTheBatchOffTheSegment) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 3, 10, true));
  const uint64_t durable_size = SegmentSize();
  EXPECT_OK(wal_->Error());
  EXPECT_EQ(wal_->DurableLsn(), 3u);

  env_.FailSync(1, EIO);
  Status s = AppendDoomed(1);
  ASSERT_TRUE(s.Is(StatusCode::kIOError)) << s.ToString();
  EXPECT_NE(s.message().find("WAL write failed"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("nothing of it is in the log"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("Input/output error"), std::string::npos) << s.ToString();
  // The record's bytes were in the file before the cut; they are not now.
  EXPECT_EQ(SegmentSize(), durable_size);
  EXPECT_EQ(env_.DurableSize(wal_->SegmentFiles().back()), durable_size);
  // Sticky, and reported by Error(); the durable position did not move.
  EXPECT_EQ(wal_->Error().message(), s.message());
  EXPECT_EQ(wal_->Append(WalOp::kInsert, 1, "x").status().message(), s.message());
  EXPECT_EQ(wal_->DurableLsn(), 3u);

  // A plain restart (the OS kept every byte) finds only the acknowledged records.
  Reopen();
  EXPECT_OK(wal_->Error());
  EXPECT_EQ(wal_->LastPosition().lsn, 3u);
  auto records = ReplayAll(*wal_);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records.back().body, BodyFor(3, 10));
  // lsn 4 is free again and what is written now survives.
  ASSERT_OK(AppendRecords(wal_.get(), 1, 10, true));
  Reopen();
  EXPECT_EQ(ReplayAll(*wal_).size(), 4u);
}

// A short write of a many-record batch ends with whole, valid records before
// the torn one: reopening used to keep (replay) them. Now none is left.
TEST_F(WalFailureTest, ShortWriteOfAManyRecordBatchLeavesNoRecordOfIt) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 2, 10, true));
  const uint64_t durable_size = SegmentSize();
  env_.FailWrite(1, ENOSPC, FaultInjectionEnv::WriteFault::kShortWrite);
  Status s = AppendDoomed(6);
  ASSERT_TRUE(s.Is(StatusCode::kResourceExhausted)) << s.ToString();
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.ToString();
  EXPECT_EQ(SegmentSize(), durable_size);
  Reopen();
  EXPECT_EQ(wal_->LastPosition().lsn, 2u);
  EXPECT_EQ(ReplayAll(*wal_).size(), 2u);
}

// kNone: records written (not synced) by earlier rounds were acknowledged;
// cutting off a failed round keeps them.
TEST_F(WalFailureTest, CutKeepsRecordsAcknowledgedUnsyncedInNoneMode) {
  WalOptions none;
  none.sync_mode = WalSyncMode::kNone;
  Open(none);
  ASSERT_OK(AppendRecords(wal_.get(), 3, 10, true));
  env_.FailWrite(1, EIO, FaultInjectionEnv::WriteFault::kShortWrite);
  ASSERT_FALSE(AppendDoomed(4).ok());
  Reopen();
  EXPECT_EQ(wal_->LastPosition().lsn, 3u);
  EXPECT_EQ(ReplayAll(*wal_).size(), 3u);
}

// A failed write into a segment the round has just rotated to: the new
// segment is cut back to its header, the old one is untouched.
TEST_F(WalFailureTest, FailedWriteAfterRotationCutsTheNewSegmentToItsHeader) {
  WalOptions small;
  small.segment_size_bytes = 200;
  Open(small);
  ASSERT_OK(AppendRecords(wal_.get(), 4, 100, true));  // past 200 bytes
  const size_t segments = wal_->SegmentFiles().size();
  // Rotation does: Sync of the old segment, header Append + Sync of the new
  // one, then the batch's Append: the second Append from now. Half of the
  // two-record batch is one whole record.
  env_.FailWrite(2, EIO, FaultInjectionEnv::WriteFault::kShortWrite);
  ASSERT_FALSE(AppendDoomed(2).ok());
  ASSERT_EQ(wal_->SegmentFiles().size(), segments + 1);
  Reopen();
  EXPECT_EQ(wal_->LastPosition().lsn, 4u);
  EXPECT_EQ(ReplayAll(*wal_).size(), 4u);
  ASSERT_OK(AppendRecords(wal_.get(), 1, 10, true));
  EXPECT_EQ(ReplayAll(*wal_).back().position.lsn, 5u);
}

// The rule when even the cut fails: the log stays failed, the error says the
// outcome is unknown (the record may come back), and the cut is tried again
// when the Wal is destroyed.
TEST_F(WalFailureTest, FailedCutSaysTheOutcomeIsUnknownAndIsRetriedAtClose) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 3, 10, true));
  const uint64_t durable_size = SegmentSize();
  env_.FailSync(1, EIO);
  env_.FailTruncate(1, EIO);
  Status s = AppendDoomed(1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("outcome of the refused writes is unknown"), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("truncate"), std::string::npos) << s.ToString();
  EXPECT_GT(SegmentSize(), durable_size);  // the record is still in the file
  EXPECT_EQ(wal_->Error().message(), s.message());
  // The disk works again by the time the Wal is closed: the cut is done then.
  Reopen();
  EXPECT_EQ(wal_->LastPosition().lsn, 3u);
  EXPECT_EQ(ReplayAll(*wal_).size(), 3u);
}

TEST_F(WalFailureTest, RecordOfAFailedCutMayComeBackAsDocumented) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 3, 10, true));
  env_.FailSync(1, EIO);
  env_.FailTruncate(1, EIO);
  ASSERT_FALSE(AppendDoomed(1).ok());
  env_.FailTruncate(1, EIO);  // the retry at close fails as well
  wal_.reset();
  Open();
  // In doubt, and replayed: the client was told the outcome is unknown.
  EXPECT_EQ(wal_->LastPosition().lsn, 4u);
  EXPECT_EQ(ReplayAll(*wal_).back().body, BodyFor(1000, 100));
}

// A failed round of StartEpoch's old-epoch records is cut off as well.
TEST_F(WalFailureTest, FailedStartEpochLeavesNoRecordOfIt) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 2, 10, true));
  ASSERT_OK(wal_->Append(WalOp::kInsert, 1, "buffered").status());
  env_.FailSync(1, EIO);
  ASSERT_FALSE(wal_->StartEpoch(2).ok());
  Reopen();
  EXPECT_EQ(wal_->CurrentEpoch(), 1u);
  EXPECT_EQ(wal_->LastPosition().lsn, 2u);
  EXPECT_EQ(ReplayAll(*wal_).size(), 2u);
}

}  // namespace
}  // namespace ark
