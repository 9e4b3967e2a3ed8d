// WalReader / WalSegmentReader and the file-name and frame encodings.
#include "wal/wal_reader.h"

#include <gtest/gtest.h>

#include <map>

#include "wal/wal_format.h"
#include "wal/wal_test_util.h"

namespace ark {
namespace {

using namespace wal_testing;

TEST(WalFormat, SegmentNamesRoundTripAndSortInLogOrder) {
  std::string a = wal_format::SegmentFileName(1, 99);
  std::string b = wal_format::SegmentFileName(1, 100);
  std::string c = wal_format::SegmentFileName(2, 5);
  EXPECT_EQ(a, "0000000000000001-00000000000000000099.wal");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  auto parsed = wal_format::ParseSegmentFileName(wal_format::SegmentFileName(0xabcdef, UINT64_MAX));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->epoch, 0xabcdefu);
  EXPECT_EQ(parsed->first_lsn, UINT64_MAX);
  EXPECT_FALSE(wal_format::ParseSegmentFileName("0000000000000001-00000000000000000099.tmp"));
  EXPECT_FALSE(wal_format::ParseSegmentFileName("000000000000000G-00000000000000000099.wal"));
  EXPECT_FALSE(wal_format::ParseSegmentFileName("0000000000000001-99999999999999999999.wal"));
  EXPECT_FALSE(wal_format::ParseSegmentFileName("LOCK"));
}

TEST(WalFrame, HeaderChecksumCoversTheLengthField) {
  std::string frame;
  AppendWalFrame(&frame, {3, 9}, 1234, 4, 77, "body");
  WalFrameHeader h;
  ASSERT_TRUE(DecodeWalFrameHeader(frame.data(), &h));
  EXPECT_EQ(h.payload_length, wal_format::kPayloadFixedSize + 4);
  SetWalFrameSyncBase(frame.data(), 8);
  ASSERT_TRUE(DecodeWalFrameHeader(frame.data(), &h));
  EXPECT_EQ(h.sync_base_lsn, 8u);
  frame[1] ^= 1;  // length
  EXPECT_FALSE(DecodeWalFrameHeader(frame.data(), &h));
}

TEST(WalReader, FramedBytesReassembleTheSegmentExactly) {
  testing::TempDir dir;
  WalOptions opts;
  opts.segment_size_bytes = 1500;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  ASSERT_OK(AppendRecords(wal.get(), 30, 90, true));
  ASSERT_OK_AND_ASSIGN(auto reader, WalReader::Open(Env::Default(), dir.Sub("wal"), 0));
  std::map<std::string, std::string> rebuilt;
  WalRecord r;
  uint64_t expect = 1;
  while (true) {
    ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&r));
    if (!got) break;
    EXPECT_EQ(r.position.lsn, expect++);
    const auto* seg = reader->segment();
    std::string& file = rebuilt[seg->path()];
    if (file.empty()) file = EncodeWalSegmentHeader(seg->header().epoch, seg->header().first_lsn);
    EXPECT_EQ(reader->record_offset(), file.size());
    file.append(reader->framed_bytes());
  }
  EXPECT_EQ(expect, 31u);
  EXPECT_FALSE(reader->torn_tail());
  ASSERT_EQ(rebuilt.size(), wal->SegmentFiles().size());
  for (const auto& [path, bytes] : rebuilt) EXPECT_EQ(bytes, ReadAll(path)) << path;
}

TEST(WalReader, StartsAfterAPositionSkippingWholeSegments) {
  testing::TempDir dir;
  WalOptions opts;
  opts.segment_size_bytes = 1000;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  ASSERT_OK(AppendRecords(wal.get(), 40, 100, true));
  ASSERT_OK_AND_ASSIGN(auto reader, WalReader::Open(Env::Default(), dir.Sub("wal"), 33));
  EXPECT_LT(reader->files().size(), wal->SegmentFiles().size());
  WalRecord r;
  ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&r));
  ASSERT_TRUE(got);
  EXPECT_EQ(r.position.lsn, 34u);
  EXPECT_EQ(r.body, BodyFor(34, 100));
}

TEST(WalReader, SameCutIsATornTailInTheLastSegmentAndCorruptionInAnyOther) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), {}));
  ASSERT_OK(AppendRecords(wal.get(), 3, 50, true));
  std::string seg = wal->SegmentFiles().back();
  std::string bytes = ReadAll(seg);
  WriteAll(seg, bytes.substr(0, bytes.size() - 1));
  WalRecord r;
  {
    ASSERT_OK_AND_ASSIGN(auto last, WalSegmentReader::Open(Env::Default(), seg, true));
    int n = 0;
    while (true) {
      ASSERT_OK_AND_ASSIGN(bool got, last->Next(&r));
      if (!got) break;
      ++n;
    }
    EXPECT_EQ(n, 2);
    EXPECT_TRUE(last->torn_tail());
  }
  ASSERT_OK_AND_ASSIGN(auto middle, WalSegmentReader::Open(Env::Default(), seg, false));
  Status s;
  while (true) {
    auto got = middle->Next(&r);
    if (!got.ok()) {
      s = got.status();
      break;
    }
    if (!*got) break;
  }
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

}  // namespace
}  // namespace ark
