// Wal: round trip, group commit, rotation, epochs, retention, replay.
#include "wal/wal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <thread>

#include "support/test_util.h"
#include "wal/wal_format.h"

namespace ark {
namespace {

std::string BodyFor(uint64_t lsn, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((lsn * 131 + i * 7) & 0xff);
  return s;
}

std::vector<WalRecord> ReplayAll(const Wal& wal, Position after = {}) {
  std::vector<WalRecord> out;
  Status s = wal.Replay(after, [&](const WalRecord& r) {
    out.push_back(r);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(Wal, NewLogStartsEmptyAtInitialEpoch) {
  testing::TempDir dir;
  WalOptions opts;
  opts.initial_epoch = 7;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  EXPECT_EQ(wal->LastPosition(), (Position{7, 0}));
  EXPECT_EQ(wal->DurablePosition(), (Position{7, 0}));
  EXPECT_EQ(wal->CurrentEpoch(), 7u);
  EXPECT_TRUE(ReplayAll(*wal).empty());
  ASSERT_EQ(wal->SegmentFiles().size(), 1u);
  EXPECT_EQ(BaseName(wal->SegmentFiles()[0]), "0000000000000007-00000000000000000001.wal");
}

TEST(Wal, NewLogCanContinueTheNumberingOfARestoredCheckpoint) {
  testing::TempDir dir;
  WalOptions opts;
  opts.initial_epoch = 3;
  opts.initial_lsn = 1001;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  EXPECT_EQ(wal->LastPosition(), (Position{3, 1000}));
  ASSERT_OK_AND_ASSIGN(Position p, wal->Append(WalOp::kInsert, 1, "x"));
  EXPECT_EQ(p, (Position{3, 1001}));
  ASSERT_OK(wal->WaitDurable(p));
  EXPECT_EQ(ReplayAll(*wal, {3, 1000}).size(), 1u);
  // Replay from before the log's start is NotFound, not an empty success.
  Status s = wal->Replay({1, 0}, [](const WalRecord&) { return Status::OK(); });
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  wal.reset();
  opts.initial_lsn = 1;  // ignored once segments exist
  ASSERT_OK_AND_ASSIGN(wal, Wal::Open(Env::Default(), dir.Sub("wal"), opts));
  EXPECT_EQ(wal->LastPosition(), (Position{3, 1001}));
}

TEST(Wal, RoundTripSurvivesReopen) {
  testing::TempDir dir;
  std::string path = dir.Sub("wal");
  {
    ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), path, {}));
    for (uint64_t i = 1; i <= 50; ++i) {
      ASSERT_OK_AND_ASSIGN(Position p, wal->Append(WalOp::kInsert, i % 3, BodyFor(i, i * 10)));
      EXPECT_EQ(p, (Position{1, i}));
    }
    ASSERT_OK(wal->WaitDurable({1, 50}));
    EXPECT_EQ(wal->DurablePosition(), (Position{1, 50}));
  }
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), path, {}));
  EXPECT_EQ(wal->LastPosition(), (Position{1, 50}));
  auto records = ReplayAll(*wal);
  ASSERT_EQ(records.size(), 50u);
  for (uint64_t i = 1; i <= 50; ++i) {
    const auto& r = records[i - 1];
    EXPECT_EQ(r.position, (Position{1, i}));
    EXPECT_EQ(r.op, static_cast<uint16_t>(WalOp::kInsert));
    EXPECT_EQ(r.collection_id, i % 3);
    EXPECT_EQ(r.body, BodyFor(i, i * 10));
    EXPECT_GT(r.timestamp_micros, 1'600'000'000'000'000u);
  }
  auto tail = ReplayAll(*wal, {1, 45});
  ASSERT_EQ(tail.size(), 5u);
  EXPECT_EQ(tail[0].position.lsn, 46u);
  // Appends continue after the recovered end.
  ASSERT_OK_AND_ASSIGN(Position p, wal->Append(WalOp::kDelete, 1, "x"));
  EXPECT_EQ(p, (Position{1, 51}));
}

// AppendInPlace (the engine's path: the body encoded straight into the WAL's
// buffer) writes the same records as Append: interleaved with Append, across
// a buffer that must grow while records are in it, they replay identically
// after a reopen, and the file holds exactly one frame per record.
TEST(Wal, AppendInPlaceWritesTheSameRecordsAsAppend) {
  testing::TempDir dir;
  std::string path = dir.Sub("wal");
  std::vector<std::string> bodies;
  {
    ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), path, {}));
    for (uint64_t i = 1; i <= 40; ++i) {
      // Sizes from empty to 1 MiB, so the buffer grows under buffered frames.
      const size_t size = i == 1 ? 0 : (i * 7919) % (1u << 20);
      bodies.push_back(BodyFor(i, size));
      const std::string& body = bodies.back();
      Position p;
      if (i % 2 == 0) {
        ASSERT_OK_AND_ASSIGN(p, wal->AppendInPlace(WalOp::kUpsert, i, body.size(), [&](char* dst) {
          std::memcpy(dst, body.data(), body.size());
        }));
      } else {
        ASSERT_OK_AND_ASSIGN(p, wal->Append(WalOp::kUpsert, i, body));
      }
      EXPECT_EQ(p, (Position{1, i}));
      if (i % 10 == 0) ASSERT_OK(wal->WaitDurable(p));
    }
    ASSERT_OK(wal->WaitDurable({1, 40}));
  }
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), path, {}));
  auto records = ReplayAll(*wal);
  ASSERT_EQ(records.size(), 40u);
  uint64_t frame_bytes = 0;
  for (uint64_t i = 1; i <= 40; ++i) {
    const auto& r = records[i - 1];
    EXPECT_EQ(r.position, (Position{1, i}));
    EXPECT_EQ(r.op, static_cast<uint16_t>(WalOp::kUpsert));
    EXPECT_EQ(r.collection_id, i);
    EXPECT_EQ(r.body, bodies[i - 1]) << "record " << i;
    frame_bytes += wal_format::kFrameHeaderSize + wal_format::kPayloadFixedSize + r.body.size();
  }
  auto files = wal->SegmentFiles();
  ASSERT_EQ(files.size(), 1u);
  ASSERT_OK_AND_ASSIGN(uint64_t size, Env::Default()->GetFileSize(files[0]));
  EXPECT_EQ(size, wal_format::kSegmentHeaderSize + frame_bytes);
}

TEST(Wal, AppendInPlaceOverTheLimitIsRejectedWithoutCallingFill) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), {}));
  bool called = false;
  auto r = wal->AppendInPlace(WalOp::kInsert, 1, wal_format::kMaxBodySize + 1,
                              [&](char*) { called = true; });
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument)) << r.status().ToString();
  EXPECT_FALSE(called);
  EXPECT_EQ(wal->LastPosition(), (Position{1, 0}));
}

TEST(Wal, AppendIsNotDurableUntilWaitDurable) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), {}));
  ASSERT_OK_AND_ASSIGN(Position p, wal->Append(WalOp::kInsert, 1, "a"));
  EXPECT_EQ(wal->DurablePosition().lsn, 0u);
  EXPECT_TRUE(ReplayAll(*wal).empty());  // Replay shows durable records only
  ASSERT_OK(wal->WaitDurable(p));
  EXPECT_EQ(ReplayAll(*wal).size(), 1u);
  EXPECT_TRUE(wal->WaitDurable({1, 99}).Is(StatusCode::kInvalidArgument));
}

TEST(Wal, GroupCommitEightThreadsShareSyncs) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), dir.Sub("wal"), {}));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::vector<Position>> got(kThreads);
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string body = std::to_string(t) + ":" + std::to_string(i);
        auto p = wal->Append(WalOp::kInsert, static_cast<uint64_t>(t), body);
        if (!p.ok() || !wal->WaitDurable(*p).ok()) {
          failed = true;
          return;
        }
        got[t].push_back(*p);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_FALSE(failed);
  std::map<uint64_t, std::string> expected;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      if (i > 0) {
        EXPECT_LT(got[t][i - 1], got[t][i]);
      }
      expected[got[t][i].lsn] = std::to_string(t) + ":" + std::to_string(i);
    }
  }
  ASSERT_EQ(expected.size(), size_t{kThreads * kPerThread});
  auto records = ReplayAll(*wal);
  ASSERT_EQ(records.size(), expected.size());
  for (const auto& r : records) EXPECT_EQ(r.body, expected[r.position.lsn]);
  WalStats stats = wal->Stats();
  EXPECT_EQ(stats.records_appended, uint64_t{kThreads * kPerThread});
  // Every commit waits for a sync, but waiters share them.
  EXPECT_LT(stats.syncs, uint64_t{kThreads * kPerThread});
  EXPECT_GT(stats.syncs, 0u);
  std::printf("group commit: %llu records, %llu syncs\n",
              static_cast<unsigned long long>(stats.records_appended),
              static_cast<unsigned long long>(stats.syncs));
}

}  // namespace
}  // namespace ark
