// Crash consistency of the WAL under FaultInjectionEnv: at hundreds of random
// crash points (with injected write/sync failures on the way), power is cut
// (unsynced bytes dropped, or a random prefix of them kept, sometimes as
// zeros); the log must reopen, keep every acknowledged record intact, keep
// lsns contiguous, and hold nothing half-written or never appended.
#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "storage/fault_injection_env.h"
#include "wal/wal_test_util.h"

namespace ark {
namespace {

using namespace wal_testing;

struct Expected {
  Position position;
  uint64_t collection_id;
  std::string body;
};

class WalCrashTest : public ::testing::TestWithParam<int> {};

std::string BodyForSeed(uint64_t seed, uint64_t lsn, size_t size) {
  std::string s = BodyFor(lsn ^ seed, size);
  return s;
}

void RunCrashIteration(uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  testing::TempDir dir;
  std::string wal_dir = dir.Sub("wal");
  FaultInjectionEnv env(Env::Default());
  env.SetForwardSyncs(false);

  WalOptions opts;
  const uint64_t sizes[] = {300, 2000, 64 << 10};
  opts.segment_size_bytes = sizes[rng() % 3];
  opts.sync_mode = chance(25) ? WalSyncMode::kBatched : WalSyncMode::kEveryCommit;
  opts.batch_window_micros = 50;

  std::map<uint64_t, Expected> appended;  // every record ever handed to Append
  uint64_t acked = 0;                       // highest lsn acknowledged durable
  int sessions = 1 + static_cast<int>(rng() % 3);
  for (int session = 0; session < sessions; ++session) {
    auto opened = Wal::Open(&env, wal_dir, opts);
    ASSERT_TRUE(opened.ok()) << "session " << session << ": " << opened.status().ToString();
    std::unique_ptr<Wal> wal = std::move(*opened);

    // Check what survived the previous crash.
    std::vector<WalRecord> records = ReplayAll(*wal);
    uint64_t last = records.empty() ? 0 : records.back().position.lsn;
    ASSERT_EQ(wal->LastPosition().lsn, last);
    ASSERT_GE(last, acked) << "acknowledged records lost";
    for (size_t i = 0; i < records.size(); ++i) {
      const WalRecord& r = records[i];
      ASSERT_EQ(r.position.lsn, i + 1) << "lsns not contiguous";
      auto it = appended.find(r.position.lsn);
      ASSERT_NE(it, appended.end()) << "record " << r.position.lsn << " was never appended";
      ASSERT_EQ(r.position, it->second.position);
      ASSERT_EQ(r.collection_id, it->second.collection_id);
      ASSERT_EQ(r.body, it->second.body) << "record " << r.position.lsn << " damaged";
    }
    // Records past the recovered end are gone for good; what survived is now durable.
    appended.erase(appended.upper_bound(last), appended.end());
    acked = last;

    int steps = static_cast<int>(rng() % 60);
    for (int step = 0; step < steps; ++step) {
      int what = static_cast<int>(rng() % 100);
      if (what < 3) {
        env.FailWrite(1 + rng() % 3, chance(50) ? EIO : ENOSPC,
                      chance(50) ? FaultInjectionEnv::WriteFault::kError
                                 : FaultInjectionEnv::WriteFault::kShortWrite);
      } else if (what < 6) {
        env.FailSync(1 + rng() % 3, EIO);
      } else if (what < 9) {
        // Recorded before the call: a failed StartEpoch may still leave its
        // (unacknowledged) record on disk.
        Position next{wal->CurrentEpoch() + 1, wal->LastPosition().lsn + 1};
        appended[next.lsn] = {next, 0, ""};
        auto e = wal->StartEpoch(next.epoch);
        if (e.ok()) {
          ASSERT_EQ(*e, next);
          acked = std::max(acked, e->lsn);
        } else if (wal->LastPosition().lsn < next.lsn) {
          appended.erase(next.lsn);  // refused before an lsn was assigned
        }
      } else if (what < 70) {
        size_t size = chance(5) ? 20000 : rng() % 400;
        uint64_t lsn = wal->LastPosition().lsn + 1;
        uint64_t cid = rng() % 4;
        std::string body = BodyForSeed(seed, lsn, size);
        auto p = wal->Append(WalOp::kInsert, cid, body);
        if (p.ok()) {
          ASSERT_EQ(p->lsn, lsn);
          appended[lsn] = {*p, cid, std::move(body)};
        }
      } else {
        Position upto = wal->LastPosition();
        if (wal->WaitDurable(upto).ok()) acked = std::max(acked, upto.lsn);
      }
    }
    // Power cut.
    env.SetFilesystemActive(false);
    if (chance(50)) {
      ASSERT_OK(env.DropUnsyncedData());
    } else {
      ASSERT_OK(env.DropUnsyncedDataRandomly(rng()));
    }
    wal.reset();
    env.ClearFaults();
    env.SetFilesystemActive(true);
  }
  // Final check after the last crash.
  auto opened = Wal::Open(&env, wal_dir, opts);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::vector<WalRecord> records = ReplayAll(**opened);
  ASSERT_GE(records.size(), acked);
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(records[i].position.lsn, i + 1);
    ASSERT_EQ(records[i].body, appended.at(i + 1).body);
  }
}

TEST_P(WalCrashTest, AcknowledgedRecordsSurviveRandomCrashes) {
  // 8 shards x 40 seeds = 320 crash iterations (up to 3 crashes each).
  for (int i = 0; i < 40; ++i) {
    uint64_t seed = static_cast<uint64_t>(GetParam()) * 1000 + static_cast<uint64_t>(i);
    RunCrashIteration(seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Shards, WalCrashTest, ::testing::Range(0, 8));

// Power cut while four threads are in the middle of group commits.
TEST(WalConcurrentCrashTest, AcknowledgedRecordsSurviveACrashDuringGroupCommit) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    testing::TempDir dir;
    FaultInjectionEnv env(Env::Default());
    env.SetForwardSyncs(false);
    WalOptions opts;
    opts.segment_size_bytes = 4096;
    ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(&env, dir.Sub("wal"), opts));

    constexpr int kThreads = 4;
    std::mutex mu;
    std::map<uint64_t, std::string> appended;  // lsn -> body, all threads
    std::vector<std::vector<uint64_t>> acked(kThreads);
    std::atomic<int> total_acked{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          std::string body = std::to_string(t) + ":" + std::to_string(i) +
                             std::string(static_cast<size_t>(i % 7) * 100, 'x');
          auto p = wal->Append(WalOp::kInsert, static_cast<uint64_t>(t), body);
          if (!p.ok()) return;
          {
            std::lock_guard<std::mutex> l(mu);
            appended[p->lsn] = body;
          }
          if (!wal->WaitDurable(*p).ok()) return;
          acked[t].push_back(p->lsn);
          total_acked.fetch_add(1);
        }
      });
    }
    int target = 1 + static_cast<int>(rng() % 150);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (total_acked.load() < target && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    env.SetFilesystemActive(false);  // power cut: every later write/sync fails
    for (auto& th : threads) th.join();
    ASSERT_GE(total_acked.load(), target);
    ASSERT_OK((seed % 2) ? env.DropUnsyncedData() : env.DropUnsyncedDataRandomly(seed));
    wal.reset();
    env.SetFilesystemActive(true);

    ASSERT_OK_AND_ASSIGN(wal, Wal::Open(&env, dir.Sub("wal"), opts));
    std::vector<WalRecord> records = ReplayAll(*wal);
    for (size_t i = 0; i < records.size(); ++i) {
      ASSERT_EQ(records[i].position.lsn, i + 1);
      auto it = appended.find(i + 1);
      ASSERT_NE(it, appended.end());
      ASSERT_EQ(records[i].body, it->second);
    }
    for (int t = 0; t < kThreads; ++t) {
      for (uint64_t lsn : acked[t]) ASSERT_LE(lsn, records.size()) << "acknowledged lsn lost";
    }
  }
}

}  // namespace
}  // namespace ark
