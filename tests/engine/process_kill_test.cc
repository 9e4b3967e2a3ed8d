// Process kill: a child process commits rows (sync every commit) and reports
// each acknowledged key to the parent over a pipe; the parent SIGKILLs it at a
// random moment, reopens the directory and checks that every acknowledged row
// is present and intact. Repeated for many rounds on the same directory.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "engine/database.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

constexpr int64_t kRoundStride = 1'000'000;

DatabaseOptions KillOptions() {
  DatabaseOptions o;
  o.seal_rows = 40;  // seals (file writes, manifest commits) happen while we kill
  o.wal.sync_mode = WalSyncMode::kEveryCommit;
  return o;
}

// The child: never returns.
[[noreturn]] void RunChild(const std::string& dir, int round, int fd, uint64_t seed) {
  auto opened = Database::Open(Env::Default(), dir, KillOptions());
  if (!opened.ok()) {
    std::fprintf(stderr, "child: open failed: %s\n", opened.status().ToString().c_str());
    _exit(3);
  }
  auto db = std::move(opened).value();
  const CollectionSchema schema = testing::TestSchema(32);
  std::mt19937_64 rng(seed);
  int64_t next = round * kRoundStride;
  for (;;) {
    int64_t n = 1 + static_cast<int64_t>(rng() % 4);
    auto w = db->Insert("", "docs", testing::TestRows(schema, next, n, round));
    if (!w.ok()) {
      std::fprintf(stderr, "child: insert failed: %s\n", w.status().ToString().c_str());
      _exit(4);
    }
    for (int64_t k = next; k < next + n; ++k) {
      if (write(fd, &k, sizeof k) != sizeof k) _exit(5);
    }
    next += n;
  }
}

TEST(ProcessKill, AcknowledgedRowsSurviveSigkill) {
  testing::TempDir dir;
  const CollectionSchema schema = testing::TestSchema(32);
  {
    auto db = Database::Open(Env::Default(), dir.path(), KillOptions());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->CreateCollection("", "docs", schema).ok());
  }
  std::mt19937_64 rng(4242);
  std::vector<std::pair<int64_t, int>> acked;  // key, round
  const int kRounds = 24;
  for (int round = 1; round <= kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    uint64_t seed = rng();
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RunChild(dir.path(), round, fds[1], seed);
    }
    close(fds[1]);
    // Kill after a random number of acknowledgements, plus a random spin.
    size_t target = 1 + rng() % 60;
    size_t got = 0;
    int64_t key;
    while (got < target && read(fds[0], &key, sizeof key) == sizeof key) {
      acked.emplace_back(key, round);
      ++got;
    }
    uint64_t spin_until = Env::Default()->NowMicros() + rng() % 3000;
    while (Env::Default()->NowMicros() < spin_until) {
    }
    kill(pid, SIGKILL);
    // Keys acknowledged before the kill landed are still in the pipe.
    while (read(fds[0], &key, sizeof key) == sizeof key) acked.emplace_back(key, round);
    close(fds[0]);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "round " << round << ": child exited early with status "
                                      << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    ASSERT_GT(got, 0u) << "round " << round;

    auto db = Database::Open(Env::Default(), dir.path(), KillOptions());
    ASSERT_TRUE(db.ok()) << "round " << round << ": " << db.status().ToString();
    std::vector<PrimaryKey> keys;
    for (const auto& [k, r] : acked) keys.emplace_back(k);
    auto rows = (*db)->Get("", "docs", keys);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->num_rows, acked.size()) << "round " << round << ": acknowledged rows are missing";
    for (size_t i = 0; i < acked.size(); ++i) {
      RowBatch one = RowBatch::Empty(schema);
      one.AppendRow(*rows, i);
      ASSERT_EQ(one, testing::TestRows(schema, acked[i].first, 1, acked[i].second))
          << "round " << round << ": row " << acked[i].first << " is damaged";
    }
  }
  std::printf("killed %d times, %zu acknowledged rows all present\n", kRounds, acked.size());
}

}  // namespace
}  // namespace ark
