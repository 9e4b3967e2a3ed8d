// Durable ingest through the WAL vs raw sequential write + fdatasync.
//
//   wal_ingest_bench [--seconds S] [--dir DIR] [--dim D] [--rows 1|100|1000] [--writers 1|8]
//
// For batches of 1, 100 and 1000 rows of D float32 (payload = rows x 4D bytes
// per record) and 1 or 8 concurrent writers (each: Append + WaitDurable, sync
// mode kEveryCommit), measures rows/s, MB/s and fsyncs per commit. Beside it,
// in the same run and through the same Env, a raw loop that appends the same
// number of bytes per commit to a plain file and fdatasyncs after each one:
// the bandwidth the disk gives to a single synchronous writer. The raw loop
// runs before and after the WAL cases of each batch size (half the time
// each) and the better of the two is the baseline.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/env.h"
#include "wal/wal.h"

namespace ark {
namespace {

struct CaseResult {
  double seconds = 0;
  uint64_t commits = 0;
  uint64_t bytes = 0;
  uint64_t syncs = 0;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Payload(size_t bytes, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> dist(-1, 1);
  std::string s(bytes, '\0');
  for (size_t i = 0; i + 4 <= bytes; i += 4) {
    float f = dist(rng);
    std::memcpy(s.data() + i, &f, 4);
  }
  return s;
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

CaseResult RunWal(Env* env, const std::string& dir, size_t record_bytes, int writers,
                  double seconds, WalSyncMode mode = WalSyncMode::kEveryCommit) {
  Check(env->RemoveAll(dir), "clean");
  WalOptions opts;
  opts.sync_mode = mode;
  opts.batch_window_micros = 1000;
  opts.segment_size_bytes = 256ull << 20;
  auto wal_or = Wal::Open(env, dir, opts);
  Check(wal_or.status(), "open wal");
  auto wal = std::move(*wal_or);
  uint64_t syncs_before = wal->Stats().syncs;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> commits{0};
  std::vector<std::thread> threads;
  double t0 = Now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::string body = Payload(record_bytes, static_cast<uint64_t>(w) + 1);
      while (!stop.load(std::memory_order_relaxed)) {
        auto p = wal->Append(WalOp::kInsert, 1, body);
        Check(p.status(), "append");
        Check(wal->WaitDurable(*p), "wait durable");
        commits.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  while (Now() - t0 < seconds) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  for (auto& t : threads) t.join();
  CaseResult r;
  r.seconds = Now() - t0;
  r.commits = commits.load();
  r.bytes = r.commits * record_bytes;
  r.syncs = wal->Stats().syncs - syncs_before;
  wal.reset();
  Check(env->RemoveAll(dir), "clean");
  return r;
}

CaseResult RunRaw(Env* env, const std::string& dir, size_t commit_bytes, double seconds) {
  Check(env->RemoveAll(dir), "clean");
  Check(env->CreateDirs(dir), "mkdir");
  auto f_or = env->NewWritableFile(dir + "/raw.dat");
  Check(f_or.status(), "create raw");
  auto f = std::move(*f_or);
  std::string body = Payload(commit_bytes, 99);
  CaseResult r;
  double t0 = Now();
  while (Now() - t0 < seconds) {
    Check(f->Append(body), "raw write");
    Check(f->Sync(), "raw fdatasync");
    ++r.commits;
    ++r.syncs;
  }
  r.seconds = Now() - t0;
  r.bytes = r.commits * commit_bytes;
  Check(f->Close(), "close");
  Check(env->RemoveAll(dir), "clean");
  return r;
}

}  // namespace
}  // namespace ark

int main(int argc, char** argv) {
  double seconds = 2.0;
  std::string dir = "/tmp/ark-wal-ingest-bench";
  size_t dim = 768;
  long only_rows = 0;
  int only_writers = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else if (a == "--dim") dim = static_cast<size_t>(std::atol(argv[i + 1]));
    else if (a == "--rows") only_rows = std::atol(argv[i + 1]);
    else if (a == "--writers") only_writers = std::atoi(argv[i + 1]);
  }
  ark::Env* env = ark::Env::Default();
  const size_t row_bytes = dim * 4;
  std::printf("WAL durable ingest, %zu-dim float32 rows (%zu bytes/row), %.1f s per case, dir %s\n\n",
              dim, row_bytes, seconds, dir.c_str());
  std::printf("| rows/commit | writers | commits | rows/s | MB/s | fsyncs/commit | raw write+fdatasync MB/s | WAL / raw |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (size_t rows : {size_t{1}, size_t{100}, size_t{1000}}) {
    if (only_rows != 0 && static_cast<size_t>(only_rows) != rows) continue;
    size_t bytes = rows * row_bytes;
    // The raw baseline runs before and after the WAL cases; the better of
    // the two is the baseline (the machine is shared: be conservative).
    auto raw_mbs_now = [&] {
      ark::CaseResult raw = ark::RunRaw(env, dir + "-raw", bytes, seconds / 2);
      return static_cast<double>(raw.bytes) / raw.seconds / 1e6;
    };
    double raw_before = raw_mbs_now();
    std::vector<std::pair<int, ark::CaseResult>> results;
    for (int writers : {1, 8}) {
      if (only_writers != 0 && only_writers != writers) continue;
      results.emplace_back(writers, ark::RunWal(env, dir, bytes, writers, seconds));
    }
    double raw_mbs = std::max(raw_before, raw_mbs_now());
    for (const auto& [writers, r] : results) {
      double mbs = static_cast<double>(r.bytes) / r.seconds / 1e6;
      std::printf("| %zu | %d | %llu | %.0f | %.1f | %.3f | %.1f | %.0f%% |\n", rows, writers,
                  static_cast<unsigned long long>(r.commits),
                  static_cast<double>(r.commits * rows) / r.seconds, mbs,
                  r.commits ? static_cast<double>(r.syncs) / static_cast<double>(r.commits) : 0.0,
                  raw_mbs, raw_mbs > 0 ? 100.0 * mbs / raw_mbs : 0.0);
      std::fflush(stdout);
    }
  }
  if (only_rows == 0 || only_rows == 1) {
    // For comparison: the batched policy (leader waits up to 1 ms for more).
    ark::CaseResult r = ark::RunWal(env, dir, row_bytes, 8, seconds, ark::WalSyncMode::kBatched);
    std::printf("\nkBatched (1 ms window), 1 row/commit, 8 writers: %llu commits, %.0f rows/s, "
                "%.3f fsyncs/commit\n",
                static_cast<unsigned long long>(r.commits),
                static_cast<double>(r.commits) / r.seconds,
                r.commits ? static_cast<double>(r.syncs) / static_cast<double>(r.commits) : 0.0);
  }
  return 0;
}
