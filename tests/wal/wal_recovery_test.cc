// Recovery: torn tails are truncated; damage anywhere else is Corruption
// naming the file and offset.
#include <gtest/gtest.h>

#include "core/coding.h"
#include "core/hash.h"
#include "wal/wal_format.h"
#include "wal/wal_frame.h"
#include "wal/wal_test_util.h"

namespace ark {
namespace {

using namespace wal_testing;

class WalRecoveryTest : public ::testing::Test {
 protected:
  std::string WalDir() const { return dir_.Sub("wal"); }
  // Writes n records of 100 bytes and closes the log; returns the segment.
  std::string WriteLog(int n, bool one_by_one = true) {
    auto wal = Wal::Open(Env::Default(), WalDir(), options_);
    EXPECT_TRUE(wal.ok()) << wal.status().ToString();
    Status s = AppendRecords(wal->get(), n, 100, one_by_one);
    EXPECT_TRUE(s.ok()) << s.ToString();
    auto files = (*wal)->SegmentFiles();
    return files.back();
  }
  Result<std::unique_ptr<Wal>> Reopen() { return Wal::Open(Env::Default(), WalDir(), options_); }
  void ExpectRecords(const Wal& wal, uint64_t n) {
    auto records = ReplayAll(wal);
    ASSERT_EQ(records.size(), n);
    for (uint64_t i = 0; i < n; ++i) {
      EXPECT_EQ(records[i].position.lsn, i + 1);
      EXPECT_EQ(records[i].body, BodyFor(i + 1, 100));
    }
  }

  testing::TempDir dir_;
  WalOptions options_;
};

TEST_F(WalRecoveryTest, TornTailPartialFrameIsTruncated) {
  std::string seg = WriteLog(10);
  auto offsets = RecordOffsets(seg);
  std::string bytes = ReadAll(seg);
  WriteAll(seg, bytes.substr(0, bytes.size() - 5));
  ASSERT_OK_AND_ASSIGN(auto wal, Reopen());
  EXPECT_EQ(wal->LastPosition().lsn, 9u);
  ExpectRecords(*wal, 9);
  ASSERT_OK_AND_ASSIGN(uint64_t size, Env::Default()->GetFileSize(seg));
  EXPECT_EQ(size, offsets[9]);  // cut exactly at the start of the torn record
  ASSERT_OK(AppendRecords(wal.get(), 1, 100, true));
  wal.reset();
  ASSERT_OK_AND_ASSIGN(wal, Reopen());
  ExpectRecords(*wal, 10);
}

TEST_F(WalRecoveryTest, TornTailInsideFrameHeaderIsTruncated) {
  std::string seg = WriteLog(3);
  auto offsets = RecordOffsets(seg);
  std::string bytes = ReadAll(seg);
  WriteAll(seg, bytes.substr(0, offsets[2] + 10));
  ASSERT_OK_AND_ASSIGN(auto wal, Reopen());
  ExpectRecords(*wal, 2);
}

TEST_F(WalRecoveryTest, ZeroFilledTailIsTruncated) {
  std::string seg = WriteLog(10);
  std::string bytes = ReadAll(seg);
  WriteAll(seg, bytes + std::string(8192, '\0'));
  ASSERT_OK_AND_ASSIGN(auto wal, Reopen());
  ExpectRecords(*wal, 10);
  ASSERT_OK_AND_ASSIGN(uint64_t size, Env::Default()->GetFileSize(seg));
  EXPECT_EQ(size, bytes.size());
}

TEST_F(WalRecoveryTest, ZeroedLastRecordIsATornTail) {
  std::string seg = WriteLog(5);
  auto offsets = RecordOffsets(seg);
  std::string bytes = ReadAll(seg);
  for (size_t i = offsets[4]; i < bytes.size(); ++i) bytes[i] = 0;
  WriteAll(seg, bytes);
  ASSERT_OK_AND_ASSIGN(auto wal, Reopen());
  ExpectRecords(*wal, 4);
}

TEST_F(WalRecoveryTest, BitFlipMidLogIsCorruptionNamingFileAndOffset) {
  std::string seg = WriteLog(10);
  auto offsets = RecordOffsets(seg);
  std::string bytes = ReadAll(seg);
  bytes[offsets[4] + wal_format::kFrameHeaderSize + 50] ^= 0x10;  // inside record 5's body
  WriteAll(seg, bytes);
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  const Status& s = wal.status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(seg), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("offset " + std::to_string(offsets[4])), std::string::npos)
      << s.ToString();
  // The file is left untouched for the operator.
  EXPECT_EQ(ReadAll(seg), bytes);
}

TEST_F(WalRecoveryTest, BitFlipInFrameHeaderMidLogIsCorruption) {
  std::string seg = WriteLog(10);
  auto offsets = RecordOffsets(seg);
  std::string bytes = ReadAll(seg);
  bytes[offsets[3] + 9] ^= 0x01;  // sync_base field of record 4
  WriteAll(seg, bytes);
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(wal.status().IsCorruption()) << wal.status().ToString();
  EXPECT_NE(wal.status().message().find("offset " + std::to_string(offsets[3])),
            std::string::npos);
}

TEST_F(WalRecoveryTest, AbsurdLengthFieldMidLogIsCorruption) {
  std::string seg = WriteLog(10);
  auto offsets = RecordOffsets(seg);
  std::string bytes = ReadAll(seg);
  EncodeFixed32(bytes.data() + offsets[5], 0xfffffff0u);
  WriteAll(seg, bytes);
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(wal.status().IsCorruption()) << wal.status().ToString();
  EXPECT_NE(wal.status().message().find("length field"), std::string::npos)
      << wal.status().ToString();
  EXPECT_NE(wal.status().message().find("offset " + std::to_string(offsets[5])),
            std::string::npos);
}

TEST_F(WalRecoveryTest, AbsurdLengthFieldInTheLastRecordIsATornTail) {
  // Nothing after it proves it was durable: indistinguishable from a tear.
  std::string seg = WriteLog(4);
  auto offsets = RecordOffsets(seg);
  std::string bytes = ReadAll(seg);
  EncodeFixed32(bytes.data() + offsets[3], 0xfffffff0u);
  WriteAll(seg, bytes);
  ASSERT_OK_AND_ASSIGN(auto wal, Reopen());
  ExpectRecords(*wal, 3);
}

TEST_F(WalRecoveryTest, DamageInsideTheLastUnsyncedBatchIsATornTail) {
  // All ten records went to disk in one write and one sync; no frame after the
  // damage was written after the damaged one was durable (docs/formats/wal.md).
  std::string seg = WriteLog(10, /*one_by_one=*/false);
  auto offsets = RecordOffsets(seg);
  std::string bytes = ReadAll(seg);
  bytes[offsets[6] + wal_format::kFrameHeaderSize + 3] ^= 0x01;
  WriteAll(seg, bytes);
  ASSERT_OK_AND_ASSIGN(auto wal, Reopen());
  ExpectRecords(*wal, 6);
}

TEST_F(WalRecoveryTest, WrongMagicIsCorruption) {
  std::string seg = WriteLog(3);
  std::string bytes = ReadAll(seg);
  bytes[1] = 'X';
  WriteAll(seg, bytes);
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(wal.status().IsCorruption()) << wal.status().ToString();
  EXPECT_NE(wal.status().message().find("magic"), std::string::npos);
  EXPECT_NE(wal.status().message().find(seg + " offset 0"), std::string::npos);
}

TEST_F(WalRecoveryTest, UnknownVersionIsNotSupported) {
  std::string seg = WriteLog(3);
  std::string bytes = ReadAll(seg);
  EncodeFixed32(bytes.data() + 8, 99);
  EncodeFixed64(bytes.data() + 32, Xxh3_64(bytes.data(), 32));  // a valid header of version 99
  WriteAll(seg, bytes);
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(wal.status().Is(StatusCode::kNotSupported)) << wal.status().ToString();
  EXPECT_NE(wal.status().message().find("version 99"), std::string::npos);
}

TEST_F(WalRecoveryTest, HeaderChecksumMismatchIsCorruption) {
  std::string seg = WriteLog(3);
  std::string bytes = ReadAll(seg);
  bytes[20] ^= 0x01;  // epoch
  WriteAll(seg, bytes);
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(wal.status().IsCorruption()) << wal.status().ToString();
}

class WalMultiSegmentRecoveryTest : public WalRecoveryTest {
 protected:
  void SetUp() override { options_.segment_size_bytes = 1000; }
};

TEST_F(WalMultiSegmentRecoveryTest, CorruptionInNonLastSegmentIsCorruption) {
  WriteLog(40);
  ASSERT_OK_AND_ASSIGN(auto files, ListWalSegments(Env::Default(), WalDir()));
  ASSERT_GE(files.size(), 3u);
  // The last record of the first segment: damage with nothing after it in
  // that file is still corruption, because the file is not the last one.
  auto offsets = RecordOffsets(files[0]);
  std::string bytes = ReadAll(files[0]);
  bytes[offsets.back() + wal_format::kFrameHeaderSize + 1] ^= 0x40;
  WriteAll(files[0], bytes);
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(wal.status().IsCorruption()) << wal.status().ToString();
  EXPECT_NE(wal.status().message().find(files[0] + " offset " + std::to_string(offsets.back())),
            std::string::npos)
      << wal.status().ToString();

  // Without the full scan the log opens, and Replay finds the damage.
  options_.verify_on_open = false;
  ASSERT_OK_AND_ASSIGN(auto fast, Reopen());
  Status s = fast->Replay({}, [](const WalRecord&) { return Status::OK(); });
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_F(WalMultiSegmentRecoveryTest, TruncatedNonLastSegmentIsCorruption) {
  WriteLog(40);
  ASSERT_OK_AND_ASSIGN(auto files, ListWalSegments(Env::Default(), WalDir()));
  std::string bytes = ReadAll(files[1]);
  WriteAll(files[1], bytes.substr(0, bytes.size() - 7));
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(wal.status().IsCorruption()) << wal.status().ToString();
  EXPECT_NE(wal.status().message().find(files[1]), std::string::npos);
}

TEST_F(WalMultiSegmentRecoveryTest, MissingMiddleSegmentIsCorruption) {
  WriteLog(40);
  ASSERT_OK_AND_ASSIGN(auto files, ListWalSegments(Env::Default(), WalDir()));
  ASSERT_OK(Env::Default()->RemoveFile(files[1]));
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(wal.status().IsCorruption()) << wal.status().ToString();
  EXPECT_NE(wal.status().message().find("records missing"), std::string::npos);
}

TEST_F(WalMultiSegmentRecoveryTest, TornHeaderOfANewLastSegmentIsRemoved) {
  WriteLog(5);
  ASSERT_OK_AND_ASSIGN(auto files, ListWalSegments(Env::Default(), WalDir()));
  std::string extra = JoinPath(WalDir(), wal_format::SegmentFileName(1, 6));
  WriteAll(extra, std::string(12, '\0'));
  ASSERT_OK_AND_ASSIGN(auto wal, Reopen());
  EXPECT_FALSE(Env::Default()->FileExists(extra));
  ExpectRecords(*wal, 5);
}

TEST_F(WalMultiSegmentRecoveryTest, EmptySegmentOfAnUnfinishedEpochIsRemoved) {
  WriteLog(5);
  std::string extra = JoinPath(WalDir(), wal_format::SegmentFileName(2, 6));
  WriteAll(extra, EncodeWalSegmentHeader(2, 6));
  ASSERT_OK_AND_ASSIGN(auto wal, Reopen());
  EXPECT_FALSE(Env::Default()->FileExists(extra));
  EXPECT_EQ(wal->CurrentEpoch(), 1u);
  ExpectRecords(*wal, 5);
}

TEST_F(WalMultiSegmentRecoveryTest, TornEpochStartRecordUndoesTheEpoch) {
  WriteLog(5);
  std::string extra = JoinPath(WalDir(), wal_format::SegmentFileName(2, 6));
  std::string frame;
  AppendWalFrame(&frame, {2, 6}, 0, static_cast<uint16_t>(WalOp::kEpochStart), 0, {});
  WriteAll(extra, EncodeWalSegmentHeader(2, 6) + frame.substr(0, frame.size() - 10));
  ASSERT_OK_AND_ASSIGN(auto wal, Reopen());
  EXPECT_FALSE(Env::Default()->FileExists(extra));
  EXPECT_EQ(wal->CurrentEpoch(), 1u);
  ExpectRecords(*wal, 5);
  ASSERT_OK_AND_ASSIGN(Position e, wal->StartEpoch(2));
  EXPECT_EQ(e, (Position{2, 6}));
}

TEST_F(WalRecoveryTest, SegmentNameDisagreeingWithHeaderIsCorruption) {
  std::string seg = WriteLog(3);
  std::string renamed = JoinPath(WalDir(), wal_format::SegmentFileName(1, 2));
  ASSERT_OK(Env::Default()->RenameFile(seg, renamed));
  auto wal = Reopen();
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(wal.status().IsCorruption()) << wal.status().ToString();
}

}  // namespace
}  // namespace ark
