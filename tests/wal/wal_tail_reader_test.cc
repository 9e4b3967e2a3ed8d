// WalTailReader: durable records after a position, in their on-disk framing,
// across rotations and epochs; waiting; the timeline checks at open.
#include "wal/wal_tail_reader.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <set>
#include <thread>

#include "core/coding.h"
#include "wal/wal_format.h"
#include "wal/wal_frame.h"
#include "wal/wal_test_util.h"

namespace ark {
namespace {

using namespace wal_testing;

constexpr uint64_t kLongWait = 60'000'000;  // 60 s: only reached if a wakeup is lost

// lsn -> exact framed bytes, as the existing WalReader returns them.
std::map<uint64_t, std::string> FramesFromWalReader(const std::string& dir) {
  std::map<uint64_t, std::string> out;
  auto reader = WalReader::Open(Env::Default(), dir, 0);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return out;
  WalRecord record;
  while (true) {
    auto got = (*reader)->Next(&record);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || !*got) break;
    out[record.position.lsn] = std::string((*reader)->framed_bytes());
  }
  return out;
}

// Splits ReadBatch output into frames and decodes each.
std::vector<std::pair<WalRecord, std::string>> SplitFrames(std::string_view bytes) {
  std::vector<std::pair<WalRecord, std::string>> out;
  while (!bytes.empty()) {
    WalFrameHeader fh;
    EXPECT_GE(bytes.size(), wal_format::kFrameHeaderSize);
    EXPECT_TRUE(DecodeWalFrameHeader(bytes.data(), &fh));
    size_t n = wal_format::kFrameHeaderSize + fh.payload_length;
    WalRecord r;
    EXPECT_TRUE(DecodeWalPayload(bytes.substr(wal_format::kFrameHeaderSize, fh.payload_length), &r));
    out.emplace_back(r, std::string(bytes.substr(0, n)));
    bytes.remove_prefix(n);
  }
  return out;
}

class WalTailReaderTest : public ::testing::Test {
 protected:
  void Open(uint64_t segment_size = 2000) {
    opts_.segment_size_bytes = segment_size;
    ASSERT_OK_AND_ASSIGN(wal_, Wal::Open(Env::Default(), dir_.Sub("wal"), opts_));
  }
  testing::TempDir dir_;
  WalOptions opts_;
  std::unique_ptr<Wal> wal_;
};

TEST_F(WalTailReaderTest, ReadsAcrossRotationAndAnEpochChangeWithExactFraming) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 50, 100, true));
  ASSERT_OK_AND_ASSIGN(Position e, wal_->StartEpoch(2));
  ASSERT_EQ(e, (Position{2, 51}));
  ASSERT_OK(AppendRecords(wal_.get(), 30, 100, false));
  ASSERT_GT(wal_->SegmentFiles().size(), 4u);
  const std::vector<EpochStart> history{{1, {1, 1}}, {2, {2, 51}}};

  ASSERT_OK_AND_ASSIGN(auto reader, wal_->OpenTailReader({0, 0}, history));
  EXPECT_EQ(reader->position(), (Position{0, 0}));
  auto expected = FramesFromWalReader(dir_.Sub("wal"));
  ASSERT_EQ(expected.size(), 81u);
  WalRecord record;
  std::string framed;
  for (uint64_t lsn = 1; lsn <= 81; ++lsn) {
    ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&record, &framed, 0));
    ASSERT_TRUE(got) << "lsn " << lsn;
    EXPECT_EQ(record.position, (Position{lsn < 51 ? 1u : 2u, lsn}));
    EXPECT_EQ(reader->position(), record.position);
    EXPECT_EQ(framed, expected[lsn]) << "lsn " << lsn;
    if (lsn == 51) EXPECT_EQ(record.op, static_cast<uint16_t>(WalOp::kEpochStart));
    else EXPECT_EQ(record.body, BodyFor(lsn, 100));
  }
  ASSERT_OK_AND_ASSIGN(bool more, reader->Next(&record, &framed, 1000));
  EXPECT_FALSE(more);  // timeout: nothing consumed
  EXPECT_EQ(reader->position(), (Position{2, 81}));
}

TEST_F(WalTailReaderTest, StartsInTheMiddleAndBatchesRespectMaxBytes) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 60, 100, true));
  ASSERT_OK_AND_ASSIGN(auto reader, wal_->OpenTailReader({1, 37}, {{1, {1, 1}}}));
  EXPECT_EQ(reader->position(), (Position{1, 37}));
  const size_t frame = wal_format::kFrameHeaderSize + wal_format::kPayloadFixedSize + 100;
  std::string out;
  ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadBatch(&out, 3 * frame + 10, 0));
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(out.size(), 3 * frame);
  auto frames = SplitFrames(out);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].first.position.lsn, 38u);
  EXPECT_EQ(frames[2].first.position.lsn, 40u);
  EXPECT_EQ(reader->position(), (Position{1, 40}));
  // max_bytes below one record still returns one.
  out.clear();
  ASSERT_OK_AND_ASSIGN(n, reader->ReadBatch(&out, 1, 0));
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(SplitFrames(out)[0].first.position.lsn, 41u);
  // The rest in one batch (crossing segments), then nothing.
  out.clear();
  ASSERT_OK_AND_ASSIGN(n, reader->ReadBatch(&out, 1 << 20, 0));
  EXPECT_EQ(n, 19u);
  auto expected = FramesFromWalReader(dir_.Sub("wal"));
  auto rest = SplitFrames(out);
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i].second, expected[42 + i]);
  out.clear();
  ASSERT_OK_AND_ASSIGN(n, reader->ReadBatch(&out, 1 << 20, 500));
  EXPECT_EQ(n, 0u);
  EXPECT_TRUE(out.empty());
}

TEST_F(WalTailReaderTest, NeverReturnsARecordThatIsNotDurable) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 3, 10, true));
  ASSERT_OK_AND_ASSIGN(auto reader, wal_->OpenTailReader({1, 3}, {}));
  ASSERT_OK_AND_ASSIGN(Position p, wal_->Append(WalOp::kInsert, 1, "buffered"));
  WalRecord record;
  std::string framed;
  ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&record, &framed, 0));
  EXPECT_FALSE(got);
  ASSERT_OK(wal_->WaitDurable(p));
  ASSERT_OK_AND_ASSIGN(got, reader->Next(&record, &framed, 0));
  ASSERT_TRUE(got);
  EXPECT_EQ(record.body, "buffered");
}

TEST_F(WalTailReaderTest, AWaitingReaderIsWokenByACommit) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 2, 10, true));
  ASSERT_OK_AND_ASSIGN(auto reader, wal_->OpenTailReader({1, 2}, {}));
  Result<bool> got = false;
  WalRecord record;
  std::string framed;
  uint64_t waited = 0;
  std::thread t([&] {
    uint64_t t0 = Env::Default()->NowMicros();
    got = reader->Next(&record, &framed, kLongWait);
    waited = Env::Default()->NowMicros() - t0;
  });
  ASSERT_OK_AND_ASSIGN(Position p, wal_->Append(WalOp::kInsert, 7, "wake up"));
  ASSERT_OK(wal_->WaitDurable(p));
  t.join();
  ASSERT_OK(got.status());
  ASSERT_TRUE(*got);
  EXPECT_EQ(record.body, "wake up");
  EXPECT_LT(waited, kLongWait / 2);  // woken, not timed out
}

TEST_F(WalTailReaderTest, ConcurrentWritersEveryRecordOnceInOrder) {
  Open(8000);
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 150;
  constexpr uint64_t kTotal = kWriters * kPerWriter;
  ASSERT_OK_AND_ASSIGN(auto reader, wal_->OpenTailReader({0, 0}, {{1, {1, 1}}}));
  std::vector<std::thread> writers;
  std::atomic<bool> failed{false};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        std::string body = "w" + std::to_string(w) + "-" + std::to_string(i) +
                           std::string(static_cast<size_t>(i % 7) * 20, 'x');
        auto p = wal_->Append(WalOp::kInsert, static_cast<uint64_t>(w), body);
        if (!p.ok() || !wal_->WaitDurable(*p).ok()) failed = true;
      }
    });
  }
  std::vector<std::pair<WalRecord, std::string>> got;
  bool use_batch = false;
  uint64_t deadline = Env::Default()->NowMicros() + kLongWait;
  while (got.size() < kTotal && Env::Default()->NowMicros() < deadline) {
    if (use_batch) {
      std::string out;
      auto n = reader->ReadBatch(&out, 4096, 1'000'000);
      ASSERT_OK(n.status());
      auto frames = SplitFrames(out);
      ASSERT_EQ(frames.size(), *n);
      for (auto& f : frames) got.push_back(std::move(f));
    } else {
      WalRecord r;
      std::string framed;
      auto ok = reader->Next(&r, &framed, 1'000'000);
      ASSERT_OK(ok.status());
      if (*ok) got.emplace_back(r, framed);
    }
    use_batch = !use_batch;
  }
  for (auto& t : writers) t.join();
  ASSERT_FALSE(failed);
  ASSERT_EQ(got.size(), kTotal);
  ASSERT_GT(wal_->SegmentFiles().size(), 2u);
  auto expected = FramesFromWalReader(dir_.Sub("wal"));
  std::set<std::string> bodies;
  for (uint64_t i = 0; i < kTotal; ++i) {
    ASSERT_EQ(got[i].first.position.lsn, i + 1);
    EXPECT_EQ(got[i].second, expected[i + 1]) << "lsn " << i + 1;
    EXPECT_TRUE(bodies.insert(got[i].first.body).second) << "twice: " << got[i].first.body;
  }
  EXPECT_EQ(bodies.size(), kTotal);
  WalRecord r;
  std::string framed;
  ASSERT_OK_AND_ASSIGN(bool more, reader->Next(&r, &framed, 0));
  EXPECT_FALSE(more);
}

TEST_F(WalTailReaderTest, OpenRejectsForkedAheadRemovedAndUnknownPositions) {
  Open(1000);
  ASSERT_OK(AppendRecords(wal_.get(), 40, 100, true));
  ASSERT_OK_AND_ASSIGN(Position e, wal_->StartEpoch(2));  // 2/41
  ASSERT_OK(AppendRecords(wal_.get(), 9, 100, true));     // ends at 2/50
  const std::vector<EpochStart> history{{1, {1, 1}}, {2, e}};

  auto fork = wal_->OpenTailReader({1, 45}, history);
  ASSERT_TRUE(fork.status().Is(StatusCode::kFailedPrecondition)) << fork.status().ToString();
  EXPECT_EQ(fork.status().message(),
            "position 1/45 is on a forked history: epoch 2 began at 2/41, so epoch 1 ends at lsn 40");
  ASSERT_OK(wal_->OpenTailReader({1, 40}, history).status());  // the last of epoch 1: fine

  auto ahead = wal_->OpenTailReader({2, 60}, history);
  ASSERT_TRUE(ahead.status().Is(StatusCode::kFailedPrecondition)) << ahead.status().ToString();
  EXPECT_EQ(ahead.status().message(), "position 2/60 is ahead of this log, which ends at 2/50");

  auto unknown = wal_->OpenTailReader({3, 45}, history);
  ASSERT_TRUE(unknown.status().Is(StatusCode::kFailedPrecondition));
  EXPECT_NE(unknown.status().message().find("has no epoch 3"), std::string::npos)
      << unknown.status().ToString();

  auto before_start = wal_->OpenTailReader({2, 20}, history);
  ASSERT_TRUE(before_start.status().Is(StatusCode::kFailedPrecondition));
  EXPECT_NE(before_start.status().message().find("epoch 2 began at 2/41"), std::string::npos)
      << before_start.status().ToString();

  auto disordered = wal_->OpenTailReader({1, 3}, {{2, e}, {1, {1, 1}}});
  EXPECT_TRUE(disordered.status().Is(StatusCode::kInvalidArgument)) << disordered.status().ToString();

  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 30}));
  const uint64_t oldest =
      wal_format::ParseSegmentFileName(BaseName(wal_->SegmentFiles().front()))->first_lsn;
  ASSERT_GT(oldest, 2u);
  auto removed = wal_->OpenTailReader({1, 1}, history);
  ASSERT_TRUE(removed.status().IsNotFound()) << removed.status().ToString();
  EXPECT_NE(removed.status().message().find("oldest retained record is lsn " + std::to_string(oldest)),
            std::string::npos)
      << removed.status().ToString();
  ASSERT_OK(wal_->OpenTailReader({1, oldest - 1}, history).status());
}

TEST_F(WalTailReaderTest, RecordOffTheGivenHistoryIsFailedPrecondition) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 30, 10, true));
  // This history says epoch 2 began at lsn 20, but the log is still epoch 1 there.
  ASSERT_OK_AND_ASSIGN(auto reader, wal_->OpenTailReader({1, 10}, {{1, {1, 1}}, {2, {2, 20}}}));
  WalRecord record;
  std::string framed;
  for (uint64_t lsn = 11; lsn < 20; ++lsn) {
    ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&record, &framed, 0));
    ASSERT_TRUE(got);
  }
  auto bad = reader->Next(&record, &framed, 0);
  ASSERT_TRUE(bad.status().Is(StatusCode::kFailedPrecondition)) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("record 1/20 is not on this database's history"),
            std::string::npos)
      << bad.status().ToString();
  EXPECT_EQ(reader->position(), (Position{1, 19}));
}

TEST_F(WalTailReaderTest, AnEpochStartedAfterOpeningExtendsTheHistory) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 5, 10, true));
  ASSERT_OK_AND_ASSIGN(auto reader, wal_->OpenTailReader({1, 5}, {{1, {1, 1}}}));
  ASSERT_OK(wal_->StartEpoch(3).status());
  ASSERT_OK(AppendRecords(wal_.get(), 2, 10, true));
  WalRecord record;
  std::string framed;
  for (uint64_t lsn = 6; lsn <= 8; ++lsn) {
    ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&record, &framed, 0));
    ASSERT_TRUE(got);
    EXPECT_EQ(record.position, (Position{3, lsn}));
  }
}

TEST_F(WalTailReaderTest, DamageInADurableRecordIsCorruptionNamingFileAndOffset) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 10, 50, true));
  ASSERT_OK_AND_ASSIGN(auto reader, wal_->OpenTailReader({0, 0}, {}));
  const std::string file = wal_->SegmentFiles().front();
  const uint64_t offset = RecordOffsets(file)[4];  // lsn 5
  {
    int fd = ::open(file.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    char junk = 0x5a;
    ASSERT_EQ(::pwrite(fd, &junk, 1, static_cast<off_t>(offset + 60)), 1);
    ::close(fd);
  }
  WalRecord record;
  std::string framed;
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&record, &framed, 0));
    ASSERT_TRUE(got);
  }
  auto bad = reader->Next(&record, &framed, 0);
  ASSERT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find(file + " offset " + std::to_string(offset)),
            std::string::npos)
      << bad.status().ToString();
}

}  // namespace
}  // namespace ark
