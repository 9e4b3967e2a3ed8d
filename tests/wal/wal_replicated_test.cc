// AppendReplicated: a standby writes the primary's records unchanged.
#include <gtest/gtest.h>

#include <map>

#include "wal/wal_format.h"
#include "wal/wal_test_util.h"

namespace ark {
namespace {

using namespace wal_testing;

// lsn -> (epoch, payload bytes: the frame without its 32-byte header).
std::map<uint64_t, std::pair<uint64_t, std::string>> Payloads(const std::string& dir) {
  std::map<uint64_t, std::pair<uint64_t, std::string>> out;
  auto reader = WalReader::Open(Env::Default(), dir, 0);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return out;
  WalRecord r;
  while (true) {
    auto got = (*reader)->Next(&r);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || !*got) break;
    out[r.position.lsn] = {r.position.epoch,
                           std::string((*reader)->framed_bytes().substr(wal_format::kFrameHeaderSize))};
  }
  return out;
}

TEST(WalReplicated, StandbyPayloadsAreByteIdenticalAcrossAnEpochChange) {
  testing::TempDir dir;
  WalOptions opts;
  opts.segment_size_bytes = 1500;
  ASSERT_OK_AND_ASSIGN(auto primary, Wal::Open(Env::Default(), dir.Sub("primary"), opts));
  ASSERT_OK_AND_ASSIGN(auto standby, Wal::Open(Env::Default(), dir.Sub("standby"), opts));
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(primary->Append(i % 2 ? WalOp::kInsert : WalOp::kDelete, 100 + i, BodyFor(i, 50 + i))
                  .status());
  }
  ASSERT_OK(primary->Flush());
  ASSERT_OK(primary->StartEpoch(2).status());
  ASSERT_OK(AppendRecords(primary.get(), 10, 80, false));

  ASSERT_OK_AND_ASSIGN(auto reader, primary->OpenTailReader({0, 0}, {}));
  WalRecord record;
  std::string framed;
  Position last;
  while (true) {
    ASSERT_OK_AND_ASSIGN(bool got, reader->Next(&record, &framed, 0));
    if (!got) break;
    ASSERT_OK_AND_ASSIGN(last, standby->AppendReplicated(record));
    EXPECT_EQ(last, record.position);
    if (record.position.lsn % 7 == 0) ASSERT_OK(standby->WaitDurable(last));  // several batches
  }
  ASSERT_OK(standby->WaitDurable(last));
  EXPECT_EQ(last, (Position{2, 31}));
  EXPECT_EQ(standby->CurrentEpoch(), 2u);
  EXPECT_EQ(standby->LastPosition(), primary->LastPosition());
  bool epoch2_segment = false;
  for (const auto& f : standby->SegmentFiles()) {
    auto name = wal_format::ParseSegmentFileName(BaseName(f));
    if (name->epoch == 2) {
      EXPECT_EQ(name->first_lsn, 21u);
      epoch2_segment = true;
    }
  }
  EXPECT_TRUE(epoch2_segment);
  auto want = Payloads(dir.Sub("primary"));
  auto got = Payloads(dir.Sub("standby"));
  ASSERT_EQ(want.size(), 31u);
  EXPECT_EQ(got, want);
  // And the standby keeps going with its own appends in the new epoch.
  ASSERT_OK_AND_ASSIGN(Position own, standby->Append(WalOp::kInsert, 1, "own"));
  EXPECT_EQ(own, (Position{2, 32}));
}

TEST(WalReplicated, ContiguityAndEpochErrors) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto standby, Wal::Open(Env::Default(), dir.Sub("standby"), {}));
  WalRecord r;
  r.position = {1, 1};
  r.op = static_cast<uint16_t>(WalOp::kInsert);
  r.body = "one";
  ASSERT_OK(standby->AppendReplicated(r).status());
  r.position = {1, 3};
  auto gap = standby->AppendReplicated(r);
  ASSERT_TRUE(gap.status().Is(StatusCode::kFailedPrecondition)) << gap.status().ToString();
  EXPECT_NE(gap.status().message().find("expected lsn 2, got 3"), std::string::npos)
      << gap.status().ToString();
  r.position = {1, 1};
  auto again = standby->AppendReplicated(r);
  EXPECT_NE(again.status().message().find("expected lsn 2, got 1"), std::string::npos)
      << again.status().ToString();
  r.position = {3, 2};
  ASSERT_OK(standby->AppendReplicated(r).status());
  EXPECT_EQ(standby->CurrentEpoch(), 3u);
  r.position = {2, 3};
  auto older = standby->AppendReplicated(r);
  ASSERT_TRUE(older.status().Is(StatusCode::kFailedPrecondition)) << older.status().ToString();
  EXPECT_NE(older.status().message().find("older than this log's epoch 3"), std::string::npos);
  ASSERT_OK(standby->WaitDurable({3, 2}));
  standby.reset();
  ASSERT_OK_AND_ASSIGN(standby, Wal::Open(Env::Default(), dir.Sub("standby"), {}));
  auto records = ReplayAll(*standby);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].position, (Position{3, 2}));
  EXPECT_EQ(standby->SegmentFiles().size(), 2u);
}

}  // namespace
}  // namespace ark
