// Durable ingest of 768-d rows through the engine (Database::Insert with the
// WAL syncing every commit), beside a raw sequential write + fdatasync of the
// same bytes per commit, measured in the same run on the same disk.
//
//   engine_ingest_bench [--dir DIR] [--seconds-per-case S] [--batch N] [--writers N]
//                       [--repeat N] [--raw 0]
//
// Cases: batch 1 / 100 / 1000 rows x 1 / 8 concurrent writers (--batch and
// --writers pick one); --repeat runs each case (engine, then raw) N times;
// --raw 0 skips the raw baseline (for profiling the engine alone).
// Reports rows/s, MB/s of vector payload, and fsyncs per commit (WalStats).
// Each insert hands over a fresh copy of the writer's batch (as a caller
// hands over its own); "MB/s inside Insert" leaves that copy's time out.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "engine/database.h"
#include "storage/env.h"

namespace ark {
namespace {

constexpr uint32_t kDim = 768;

CollectionSchema Schema() {
  CollectionSchema s;
  s.fields.push_back({"id", DataType::kInt64, true, 0, 0, ""});
  s.fields.push_back({"embedding", DataType::kFloatVector, false, 0, kDim, ""});
  return s;
}

RowBatch Rows(const CollectionSchema& s, int64_t first, size_t n) {
  RowBatch b = RowBatch::Empty(s);
  b.columns[0].ints.resize(n);
  b.columns[1].floats.resize(n * kDim);
  for (size_t i = 0; i < n; ++i) {
    b.columns[0].ints[i] = first + static_cast<int64_t>(i);
    for (uint32_t d = 0; d < kDim; ++d) b.columns[1].floats[i * kDim + d] = static_cast<float>((i + d) % 97) * 0.01f;
  }
  b.num_rows = n;
  return b;
}

uint64_t ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct CaseResult {
  double rows_per_sec, mb_per_sec, fsyncs_per_commit;
  // Vector MB/s counting only the time writers spent inside Insert (not the
  // bench copying its template batch into the one it hands over).
  double mb_per_sec_in_insert;
  // CPU time the writer threads used per commit (user + kernel: the bench's
  // copy of its batch, Insert, and the leader's write() into the page cache
  // and fdatasync call), a figure the disk's latency does not move.
  double cpu_ms_per_commit;
  uint64_t commits;
};

CaseResult RunEngine(const std::string& dir, size_t batch, int writers, double seconds) {
  Env* env = Env::Default();
  (void)env->RemoveAll(dir);
  DatabaseOptions options;
  options.seal_rows = 1ull << 40;
  options.seal_bytes = 1ull << 40;
  options.seal_age_micros = 1ull << 62;
  auto db = std::move(Database::Open(env, dir, options)).value();
  const CollectionSchema schema = Schema();
  (void)db->CreateCollection("", "bench", schema);
  std::atomic<uint64_t> rows{0}, commits{0}, insert_nanos{0}, cpu_nanos{0};
  WalStats before = db->wal()->Stats();
  double start = Now(), deadline = start + seconds;
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      int64_t next = static_cast<int64_t>(w) << 40;
      RowBatch b = Rows(schema, 0, batch);
      const uint64_t cpu0 = ThreadCpuNanos();
      while (Now() < deadline) {
        for (size_t i = 0; i < batch; ++i) b.columns[0].ints[i] = next + static_cast<int64_t>(i);
        next += static_cast<int64_t>(batch);
        RowBatch copy = b;  // what a caller hands over: its own batch, moved in
        const auto t0 = std::chrono::steady_clock::now();
        auto r = db->Insert("", "bench", std::move(copy));
        insert_nanos += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                  std::chrono::steady_clock::now() - t0)
                                                  .count());
        if (!r.ok()) {
          std::fprintf(stderr, "insert: %s\n", r.status().ToString().c_str());
          std::exit(1);
        }
        rows += batch;
        ++commits;
      }
      cpu_nanos += ThreadCpuNanos() - cpu0;
    });
  }
  for (auto& t : threads) t.join();
  double secs = Now() - start;
  WalStats after = db->wal()->Stats();
  CaseResult r;
  r.rows_per_sec = rows / secs;
  r.mb_per_sec = rows * kDim * 4.0 / secs / 1e6;
  r.commits = commits;
  // Per writer: its rows over its own time inside Insert, summed.
  r.mb_per_sec_in_insert = rows * kDim * 4.0 / (insert_nanos / 1e9 / writers) / 1e6;
  r.cpu_ms_per_commit = cpu_nanos / 1e6 / static_cast<double>(commits);
  r.fsyncs_per_commit = static_cast<double>(after.syncs - before.syncs) / static_cast<double>(commits);
  db.reset();
  (void)env->RemoveAll(dir);
  return r;
}

// Sequential append of `bytes_per_commit`, fdatasync after each, as fast as possible.
double RawMbPerSec(const std::string& dir, size_t bytes_per_commit, double seconds) {
  Env* env = Env::Default();
  (void)env->CreateDirs(dir);
  std::string path = JoinPath(dir, "raw.dat");
  auto f = std::move(env->NewWritableFile(path)).value();
  std::string chunk(bytes_per_commit, 'x');
  uint64_t written = 0;
  double start = Now(), deadline = start + seconds;
  while (Now() < deadline) {
    (void)f->Append(chunk);
    (void)f->Sync();
    written += chunk.size();
  }
  double secs = Now() - start;
  (void)f->Close();
  (void)env->RemoveFile(path);
  return written / secs / 1e6;
}

}  // namespace
}  // namespace ark

int main(int argc, char** argv) {
  std::string dir = "/tmp/ark-engine-ingest-bench";
  double seconds = 4;
  std::vector<size_t> batches = {1, 100, 1000};
  std::vector<int> writer_counts = {1, 8};
  int repeat = 1;
  bool with_raw = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--seconds-per-case") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--batch") == 0) batches = {static_cast<size_t>(std::atoll(argv[i + 1]))};
    if (std::strcmp(argv[i], "--writers") == 0) writer_counts = {std::atoi(argv[i + 1])};
    if (std::strcmp(argv[i], "--raw") == 0) with_raw = std::atoi(argv[i + 1]) != 0;
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::max(1, std::atoi(argv[i + 1]));
  }
  std::printf("| batch | writers | rows/s | MB/s (vectors) | fsyncs/commit | commits | raw write+fdatasync MB/s (same bytes per sync) | engine / raw | MB/s inside Insert | inside Insert / raw | writer CPU ms/commit |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t batch : batches) {
    for (int writers : writer_counts) {
      for (int rep = 0; rep < repeat; ++rep) {
      auto r = ark::RunEngine(dir + "/db", batch, writers, seconds);
      double raw = with_raw ? ark::RawMbPerSec(dir + "/raw", batch * ark::kDim * 4, seconds) : 0;
      std::printf("| %zu | %d | %.0f | %.1f | %.3f | %llu | %.1f | %.0f%% | %.1f | %.0f%% | %.3f |\n", batch,
                  writers, r.rows_per_sec, r.mb_per_sec, r.fsyncs_per_commit,
                  static_cast<unsigned long long>(r.commits), raw, 100.0 * r.mb_per_sec / raw,
                  r.mb_per_sec_in_insert, 100.0 * r.mb_per_sec_in_insert / raw, r.cpu_ms_per_commit);
      std::fflush(stdout);
      }
    }
  }
  return 0;
}
