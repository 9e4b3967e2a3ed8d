// Durable slots: named retain floors persisted in <wal dir>/SLOTS, with a
// size bound past which they are invalidated loudly.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "wal/slots_format.h"
#include "wal/wal_format.h"
#include "wal/wal_slot_file.h"
#include "wal/wal_test_util.h"

namespace ark {
namespace {

using namespace wal_testing;

uint64_t FirstLsn(const std::string& segment) {
  return wal_format::ParseSegmentFileName(BaseName(segment))->first_lsn;
}

class WalSlotsTest : public ::testing::Test {
 protected:
  void Open() {
    wal_.reset();
    opts_.segment_size_bytes = 1000;
    ASSERT_OK_AND_ASSIGN(wal_, Wal::Open(Env::Default(), dir(), opts_));
  }
  std::string dir() const { return dir_.Sub("wal"); }
  uint64_t OldestLsn() const { return FirstLsn(wal_->SegmentFiles().front()); }
  testing::TempDir dir_;
  WalOptions opts_;
  std::unique_ptr<Wal> wal_;
};

TEST_F(WalSlotsTest, PersistAcrossReopen) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 20, 10, true));
  ASSERT_OK(wal_->CreateSlot("archiver", {1, 5}, 0));
  ASSERT_OK(wal_->CreateSlot("standby-a", {1, 12}, 1 << 30));
  ASSERT_OK(wal_->AdvanceSlot("standby-a", {1, 15}));
  ASSERT_OK(wal_->Flush());  // persists the advanced position
  auto before = wal_->ListSlots();
  ASSERT_EQ(before.size(), 2u);
  Open();
  auto after = wal_->ListSlots();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].name, "archiver");
  EXPECT_EQ(after[0].restart, (Position{1, 5}));
  EXPECT_EQ(after[0].max_retained_bytes, 0u);
  EXPECT_EQ(after[1].name, "standby-a");
  EXPECT_EQ(after[1].restart, (Position{1, 15}));
  EXPECT_EQ(after[1].max_retained_bytes, 1u << 30);
  EXPECT_FALSE(after[1].invalidated);
  EXPECT_EQ(after[1].retained_bytes, before[1].retained_bytes);
  EXPECT_GT(after[1].retained_bytes, 0u);
  ASSERT_OK(wal_->DropSlot("archiver"));
  Open();
  EXPECT_EQ(wal_->ListSlots().size(), 1u);
  EXPECT_TRUE(wal_->GetSlot("archiver").status().IsNotFound());
}

TEST_F(WalSlotsTest, ArgumentErrors) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 60, 100, true));
  EXPECT_TRUE(wal_->CreateSlot("", {1, 1}, 0).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(wal_->CreateSlot("a/b", {1, 1}, 0).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(wal_->CreateSlot(std::string(65, 'a'), {1, 1}, 0).Is(StatusCode::kInvalidArgument));
  ASSERT_OK(wal_->CreateSlot("s", {1, 10}, 0));
  EXPECT_TRUE(wal_->CreateSlot("s", {1, 10}, 0).Is(StatusCode::kAlreadyExists));
  Status ahead = wal_->CreateSlot("t", {1, 61}, 0);
  EXPECT_TRUE(ahead.Is(StatusCode::kFailedPrecondition)) << ahead.ToString();
  EXPECT_TRUE(wal_->AdvanceSlot("nope", {1, 20}).IsNotFound());
  EXPECT_TRUE(wal_->DropSlot("nope").IsNotFound());
  EXPECT_TRUE(wal_->GetSlot("nope").status().IsNotFound());
  ASSERT_OK(wal_->AdvanceSlot("s", {1, 30}));
  ASSERT_OK(wal_->AdvanceSlot("s", {1, 20}));  // backwards: no-op
  ASSERT_OK_AND_ASSIGN(WalSlotInfo s, wal_->GetSlot("s"));
  EXPECT_EQ(s.restart, (Position{1, 30}));
  // WAL already gone.
  ASSERT_OK(wal_->DropSlot("s"));
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 50}));
  ASSERT_GT(OldestLsn(), 3u);
  Status gone = wal_->CreateSlot("late", {1, 1}, 0);
  EXPECT_TRUE(gone.IsNotFound()) << gone.ToString();
}

TEST_F(WalSlotsTest, HoldsSegmentsUntilAdvanced) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 60, 100, true));
  ASSERT_OK(wal_->CreateSlot("s", {1, 10}, 0));
  ASSERT_OK_AND_ASSIGN(WalSlotInfo held, wal_->GetSlot("s"));
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 60}));
  EXPECT_LE(OldestLsn(), 11u);  // lsn 11 (after the slot's position) is kept
  EXPECT_EQ(ReplayAll(*wal_, {1, 10}).size(), 50u);
  ASSERT_OK(wal_->AdvanceSlot("s", {1, 40}));
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 60}));
  EXPECT_GT(OldestLsn(), 11u);
  EXPECT_LE(OldestLsn(), 41u);
  ASSERT_OK_AND_ASSIGN(WalSlotInfo advanced, wal_->GetSlot("s"));
  EXPECT_LT(advanced.retained_bytes, held.retained_bytes);
  uint64_t on_disk = 0;  // every segment left is held by the slot (floor 41 < checkpoint)
  for (const auto& f : wal_->SegmentFiles()) {
    ASSERT_OK_AND_ASSIGN(uint64_t size, Env::Default()->GetFileSize(f));
    on_disk += size;
  }
  EXPECT_EQ(advanced.retained_bytes, on_disk);
  // The position RemoveObsoleteSegments acted on was persisted before it
  // deleted anything: a reopen (without Flush) still finds it.
  Open();
  ASSERT_OK_AND_ASSIGN(WalSlotInfo reopened, wal_->GetSlot("s"));
  EXPECT_EQ(reopened.restart, (Position{1, 40}));
  ASSERT_OK(wal_->DropSlot("s"));
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 60}));
  EXPECT_GT(OldestLsn(), 41u);
}

TEST_F(WalSlotsTest, BoundExceededInvalidatesReleasesAndStaysInvalidated) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 5, 100, true));
  ASSERT_OK(wal_->CreateSlot("standby-a", {1, 2}, 3000));
  ASSERT_OK(wal_->CreateSlot("roomy", {1, 2}, 0));
  ASSERT_OK_AND_ASSIGN(auto bound_reader, wal_->OpenTailReader({1, 2}, {}, "standby-a"));
  ASSERT_OK_AND_ASSIGN(auto early, wal_->EnforceSlotBounds());
  EXPECT_TRUE(early.empty());

  ASSERT_OK(AppendRecords(wal_.get(), 55, 100, true));  // ~8 KB of WAL behind the slot
  ASSERT_OK_AND_ASSIGN(WalSlotInfo before, wal_->GetSlot("standby-a"));
  ASSERT_GT(before.retained_bytes, 3000u);

  // A reader bound to the slot, at the end, waits for records that never come.
  ASSERT_OK_AND_ASSIGN(auto waiting_reader, wal_->OpenTailReader({1, 60}, {}, "standby-a"));
  Result<bool> waited = true;
  uint64_t waited_micros = 0;
  std::thread waiter([&] {
    WalRecord r;
    std::string framed;
    uint64_t t0 = Env::Default()->NowMicros();
    waited = waiting_reader->Next(&r, &framed, 60'000'000);
    waited_micros = Env::Default()->NowMicros() - t0;
  });
  ASSERT_OK_AND_ASSIGN(auto names, wal_->EnforceSlotBounds());
  ASSERT_EQ(names, std::vector<std::string>{"standby-a"});
  waiter.join();
  EXPECT_TRUE(waited.status().Is(StatusCode::kFailedPrecondition)) << waited.status().ToString();
  EXPECT_NE(waited.status().message().find("is invalidated"), std::string::npos);
  EXPECT_LT(waited_micros, 30'000'000u);  // woken by the invalidation, not by its timeout

  ASSERT_OK_AND_ASSIGN(WalSlotInfo slot, wal_->GetSlot("standby-a"));
  EXPECT_TRUE(slot.invalidated);
  EXPECT_EQ(slot.invalidated_reason, "slot 'standby-a' held " +
                                         std::to_string(before.retained_bytes) +
                                         " bytes of WAL, more than its bound of 3000");
  EXPECT_GT(slot.invalidated_micros, 0u);
  EXPECT_EQ(slot.retained_bytes, 0u);
  EXPECT_EQ(wal_->Stats().slots_invalidated, 1u);
  Status advance = wal_->AdvanceSlot("standby-a", {1, 50});
  EXPECT_TRUE(advance.Is(StatusCode::kFailedPrecondition));
  EXPECT_NE(advance.message().find(slot.invalidated_reason), std::string::npos) << advance.ToString();
  WalRecord r;
  std::string framed;
  auto next = bound_reader->Next(&r, &framed, 0);
  EXPECT_TRUE(next.status().Is(StatusCode::kFailedPrecondition)) << next.status().ToString();

  // Its floor is released: only the unbounded slot holds the WAL now.
  ASSERT_OK(wal_->DropSlot("roomy"));
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 60}));
  EXPECT_GT(OldestLsn(), 3u);

  Open();
  ASSERT_OK_AND_ASSIGN(WalSlotInfo reopened, wal_->GetSlot("standby-a"));
  EXPECT_TRUE(reopened.invalidated);
  EXPECT_EQ(reopened.invalidated_reason, slot.invalidated_reason);
  EXPECT_EQ(reopened.invalidated_micros, slot.invalidated_micros);
  auto refused = wal_->OpenTailReader({1, 59}, {}, "standby-a");
  EXPECT_TRUE(refused.status().Is(StatusCode::kFailedPrecondition)) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("more than its bound"), std::string::npos);
  EXPECT_TRUE(wal_->OpenTailReader({1, 59}, {}, "nope").status().IsNotFound());
}

TEST_F(WalSlotsTest, RemoveObsoleteSegmentsEnforcesBoundsFirst) {
  Open();
  ASSERT_OK(AppendRecords(wal_.get(), 60, 100, true));
  ASSERT_OK(wal_->CreateSlot("small", {1, 1}, 2000));
  ASSERT_OK(wal_->RemoveObsoleteSegments({1, 60}));
  ASSERT_OK_AND_ASSIGN(WalSlotInfo slot, wal_->GetSlot("small"));
  EXPECT_TRUE(slot.invalidated);
  EXPECT_GT(OldestLsn(), 2u);
}

TEST_F(WalSlotsTest, CorruptSlotsFileFailsOpenNamingIt) {
  Open();
  ASSERT_OK(wal_->CreateSlot("s", {1, 0}, 0));
  wal_.reset();
  const std::string path = JoinPath(dir(), slots_format::kFileName);
  std::string bytes = ReadAll(path);
  ASSERT_GT(bytes.size(), slots_format::kHeaderSize + 5);
  bytes[slots_format::kHeaderSize + 3] ^= 0x20;
  WriteAll(path, bytes);
  auto opened = Wal::Open(Env::Default(), dir(), opts_);
  ASSERT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find(path), std::string::npos) << opened.status().ToString();
  WriteAll(path, bytes.substr(0, 10));
  opened = Wal::Open(Env::Default(), dir(), opts_);
  ASSERT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find(path), std::string::npos);
}

TEST(WalSlotsFile, BytesArePinned) {
  WalSlotInfo s;
  s.name = "a";
  s.restart = {1, 7};
  std::string bytes = EncodeWalSlotsFile({s});
  ASSERT_GE(bytes.size(), slots_format::kHeaderSize);
  EXPECT_EQ(bytes.substr(0, 8), "ARKSLOTS");
  EXPECT_EQ(bytes.substr(8, 8), std::string("\x01\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(bytes.substr(slots_format::kHeaderSize),
            R"({"slots":[{"invalidated":false,"invalidatedMicros":0,"invalidatedReason":"",)"
            R"("maxRetainedBytes":0,"name":"a","restart":{"epoch":1,"lsn":7}}]})");
  ASSERT_OK_AND_ASSIGN(auto back, DecodeWalSlotsFile(bytes, "x"));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].restart, s.restart);
  bytes[8] = 9;  // a newer version
  EXPECT_TRUE(DecodeWalSlotsFile(bytes, "x").status().Is(StatusCode::kNotSupported));
}

// The child creates a slot, reports, then appends and advances forever
// (advancing it to 20 records behind the newest and removing obsolete
// segments each time) until SIGKILLed.
[[noreturn]] void RunSlotChild(const std::string& dir, int fd) {
  WalOptions opts;
  opts.segment_size_bytes = 1000;
  auto wal = Wal::Open(Env::Default(), dir, opts);
  if (!wal.ok()) _exit(3);
  if (!AppendRecords(wal->get(), 5, 100, true).ok()) _exit(4);
  if (!(*wal)->CreateSlot("standby", {1, 3}, 0).ok()) _exit(5);
  for (uint64_t n = 0;; ++n) {
    auto p = (*wal)->Append(WalOp::kInsert, 1, BodyFor(n, 100));
    if (!p.ok() || !(*wal)->WaitDurable(*p).ok()) _exit(6);
    if (n % 10 == 9 && p->lsn > 20) {
      Position confirmed{1, p->lsn - 20};
      if (!(*wal)->AdvanceSlot("standby", confirmed).ok()) _exit(7);
      if (!(*wal)->RemoveObsoleteSegments(*p).ok()) _exit(8);
    }
    uint64_t lsn = p->lsn;
    if (write(fd, &lsn, sizeof lsn) != sizeof lsn) _exit(9);
  }
}

TEST(WalSlotsKill, SlotSurvivesSigkillAndStillHoldsTheWal) {
  testing::TempDir dir;
  const std::string wal_dir = dir.Sub("wal");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    RunSlotChild(wal_dir, fds[1]);
  }
  close(fds[1]);
  uint64_t lsn = 0;
  size_t acks = 0;
  while (acks < 300 && read(fds[0], &lsn, sizeof lsn) == sizeof lsn) ++acks;
  kill(pid, SIGKILL);
  while (read(fds[0], &lsn, sizeof lsn) == sizeof lsn) {
  }
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with status "
                                    << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
  ASSERT_EQ(acks, 300u);

  WalOptions opts;
  opts.segment_size_bytes = 1000;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(Env::Default(), wal_dir, opts));
  ASSERT_GE(wal->LastPosition().lsn, lsn);  // every acknowledged record survived
  ASSERT_OK_AND_ASSIGN(WalSlotInfo slot, wal->GetSlot("standby"));
  EXPECT_FALSE(slot.invalidated);
  EXPECT_GE(slot.restart.lsn, 3u);
  EXPECT_LE(slot.restart.lsn + 20, wal->LastPosition().lsn);  // never past what was confirmed
  // The WAL after the slot's (persisted) position is all there, and stays.
  ASSERT_OK(wal->RemoveObsoleteSegments(wal->LastPosition()));
  auto records = ReplayAll(*wal, slot.restart);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front().position.lsn, slot.restart.lsn + 1);
  EXPECT_EQ(records.back().position, wal->LastPosition());
  // And it was actually removing WAL while it ran (so the floor mattered).
  EXPECT_GT(FirstLsn(wal->SegmentFiles().front()), 1u);
}

}  // namespace
}  // namespace ark
