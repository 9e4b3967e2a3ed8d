// archive_bench: issue 15's speed figures for continuous WAL archiving and
// point-in-time restore, each beside its baseline in the same run.
//
//   build/release/archive_bench [--ark build/release/ark] [--phases rpo,pitr]
//       [--dim 768] [--rate 10000] [--seconds 15] [--batch 500] [--threads 4]
//       [--base-rows 100000] [--wal-mib 1024] [--chunks 10]
//       [--pg bench/pgbackrest_pitr_bench.sh] [--log-level debug]
//
// Everything runs through the product: `ark serve` processes (release
// binary, default settings, WAL sync every_commit) on loopback, driven by
// cpp-httplib clients with pre-built JSON bodies, a local repository, and
// `ark backup create` / `ark restore` as a user runs them. Client and server
// share the machine's cores.
//
// rpo:
//   1. Ingest capacity: `--threads` clients insert `--batch`-row batches as
//      fast as the server answers for `--seconds`, once without and once with
//      `archive:` (interval 1 s): rows/s of each; slowdown = 1 - with/without.
//   2. At `--rate` rows/s (paced by a schedule, not by sleeps between
//      requests): insert latency p50/p99 without and with archiving; with
//      archiving, /readyz's `details.archive.lagSeconds` sampled every
//      100 ms (p50/p99/max).
//   3. The disaster, at the end of the archived paced run: the server is
//      SIGKILLed while clients are writing, its data directory deleted, and
//      `ark restore --to-latest` rebuilds it from the repository. Which
//      acknowledged batches the restore lacks is read back from a server on
//      the restored directory: rows lost, and the RPO = the kill time minus
//      the acknowledgement time of the oldest lost batch.
// pitr:
//   `--base-rows` rows with an HNSW index (M=16, efConstruction=100) are
//   backed up; then rows adding `--wal-mib` MiB of WAL are inserted in
//   `--chunks` chunks; the target time is taken after the last-but-one chunk.
//   Timed: `ark restore --to-time` (backup + replay of the archived WAL,
//   files fetched by hash) and restore start → first correct search on a
//   server opened on the result; count(*) is checked. The same rows go to
//   PostgreSQL and pgBackRest PITR (`--pg`, bench/pgbackrest_pitr_bench.sh,
//   same chunks and target) in the same run.
#include <mutex>

#include "serve_driver.h"

namespace {

using namespace bench;

struct Flags {
  std::string ark = "build/release/ark";
  std::string phases = "rpo,pitr";
  uint32_t dim = 768;
  double rate = 10000;
  double seconds = 15;
  uint64_t batch = 500;
  int threads = 4;
  uint64_t base_rows = 100000;
  uint64_t wal_mib = 1024;
  int chunks = 10;
  std::string pg;
  std::string log_level;  // the servers' log_level (their logs stay in the scratch directory)
};

// Waits until the archive holds every durable record (lagSeconds 0).
void WaitArchived(const Server& s) {
  const auto t0 = Clock::now();
  while (Since(t0) < 600) {
    json j = GetJson(s, "/readyz");
    const json& a = j["details"]["archive"];
    if (a.value("state", "") == "stopped") Die("archiving stopped: " + a.dump());
    if (a.contains("lagSeconds") && a["lagSeconds"].get<double>() == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // archive progress polling
  }
  Die("the archive did not catch up in 600 s");
}

// The archive lag /readyz reports (details.archive.lagSeconds), if any.
std::function<std::optional<double>()> ArchiveLag(const Server& s) {
  return [&s]() -> std::optional<double> {
    json j = GetJson(s, "/readyz");
    if (j.contains("details") && j["details"]["archive"].contains("lagSeconds")) {
      return j["details"]["archive"]["lagSeconds"].get<double>();
    }
    return std::nullopt;
  };
}

std::string g_log_level;  // --log-level


std::string WriteConfig(const std::string& path, const std::string& repo) {
  std::ofstream out(path);
  out << "archive:\n  repo: " << repo << "\n  interval_seconds: 1\n";
  if (!g_log_level.empty()) out << "log_level: " << g_log_level << "\n";
  return path;
}

// ---- rpo ----------------------------------------------------------------------

void RunRpo(const Flags& f, const std::string& root) {
  const uint64_t max_rows = static_cast<uint64_t>(std::max(f.rate * f.seconds * 1.2, 30000.0 * f.seconds));
  std::printf("## Archiving under ingest (dim %u, batch %llu, %d clients, %.0f s per run)\n\n", f.dim,
              static_cast<unsigned long long>(f.batch), f.threads, f.seconds);
  std::fflush(stdout);
  auto t0 = Clock::now();
  std::vector<Batch> batches = MakeBatches(0, max_rows, f.batch, f.dim);
  std::fprintf(stderr, "built %zu request bodies in %.1f s\n", batches.size(), Since(t0));

  struct Run {
    const char* name;
    bool archive;
    double rate;
  };
  int n = 0;
  double unpaced_off = 0;
  std::printf("| run | archive | rows/s | insert p50 ms | insert p99 ms | archive lag p50 / p99 / max s |\n|---|---|---|---|---|---|\n");
  for (const Run& run : {Run{"unpaced", false, 0}, Run{"unpaced", true, 0}, Run{"paced", false, f.rate},
                         Run{"paced", true, f.rate}}) {
    const std::string dir = root + "/rpo-" + std::to_string(n++);
    fs::create_directories(dir);
    const std::string repo = dir + "/repo";
    const std::string config = run.archive ? WriteConfig(dir + "/ark.yaml", repo) : "";
    Server s = StartServe(f.ark, dir + "/data", config, dir + "/serve.log");
    CreateCollection(s, f.dim, /*hnsw=*/false);
    if (run.archive) {
      RunOut({f.ark, "backup", "create", "--server", "http://127.0.0.1:" + std::to_string(s.port), "--repo", repo, "-n",
              "base", "-q"},
             dir);
    }
    ResetBatches(&batches);
    const bool disaster = run.archive && run.rate > 0;
    IngestResult r = Ingest(f.threads, &s, &batches, run.rate, f.seconds, disaster,
                               run.archive ? ArchiveLag(s) : std::function<std::optional<double>()>());
    const double rows_per_s = static_cast<double>(r.rows_acked) / (disaster ? r.kill_at : r.seconds);
    if (!run.archive && run.rate == 0) unpaced_off = rows_per_s;
    char lag[128] = "—";
    if (run.archive) {
      std::snprintf(lag, sizeof lag, "%.2f / %.2f / %.2f (%zu samples)", Pct(r.lag, 0.5), Pct(r.lag, 0.99),
                    Pct(r.lag, 1.0), r.lag.size());
    }
    std::printf("| %s%s | %s | %.0f%s | %.1f | %.1f | %s |\n", run.name, run.rate > 0 ? " (schedule)" : "",
                run.archive ? "on" : "off", rows_per_s,
                run.archive && run.rate == 0 && unpaced_off > 0
                    ? (" (" + std::to_string(static_cast<int>(std::lround(100 * (1 - rows_per_s / unpaced_off)))) +
                       "% slower)")
                          .c_str()
                    : "",
                1000 * Pct(r.latency, 0.5), 1000 * Pct(r.latency, 0.99), lag);
    std::fflush(stdout);
    if (!disaster) {
      Stop(&s, SIGTERM);
      RemoveUnlessKept(dir);
      continue;
    }
    // The disaster: the data directory is gone; restore from the repository alone.
    fs::remove_all(dir + "/data");
    const auto rt = Clock::now();
    json rep = LastJson(RunOut({f.ark, "restore", "--repo", repo, "--data-dir", dir + "/restored", "--to-latest",
                                "--json"},
                               dir));
    const double restore_s = Since(rt);
    Server back = StartServe(f.ark, dir + "/restored", "", dir + "/restored.log");
    // Which batches came back: each batch is one WAL record, whole or absent.
    std::vector<uint64_t> firsts;
    for (const Batch& b : batches) {
      if (b.sent >= 0) firsts.push_back(b.first);
    }
    std::vector<bool> present(batches.size(), false);
    for (size_t i = 0; i < firsts.size(); i += 1000) {
      std::string filter = "id in [";
      for (size_t k = i; k < std::min(firsts.size(), i + 1000); ++k) filter += (k > i ? "," : "") + std::to_string(firsts[k]);
      json j = CallOk(back, "/v2/vectordb/entities/query",
                      {{"collectionName", "bench"}, {"filter", filter + "]"}, {"outputFields", {"id"}}, {"limit", 16384}});
      for (const auto& row : j["data"]) present[row["id"].get<uint64_t>() / f.batch] = true;
    }
    uint64_t restored_rows = 0, lost_rows = 0, lost_batches = 0, unacked_restored = 0;
    double oldest_lost = -1, newest_acked = -1;
    for (size_t i = 0; i < batches.size(); ++i) {
      const Batch& b = batches[i];
      if (present[i]) restored_rows += b.n;
      if (present[i] && b.acked < 0) ++unacked_restored;
      if (b.acked >= 0) newest_acked = std::max(newest_acked, b.acked);
      if (b.acked >= 0 && !present[i]) {
        lost_rows += b.n;
        ++lost_batches;
        oldest_lost = oldest_lost < 0 ? b.acked : std::min(oldest_lost, b.acked);
      }
    }
    const uint64_t count = Count(back);
    if (count != restored_rows) Die("restored count(*) " + std::to_string(count) + " but batches found hold " +
                                    std::to_string(restored_rows) + " rows (a torn batch?)");
    Stop(&back, SIGTERM);
    std::printf("\nDisaster at %.1f s of the archived paced run (SIGKILL with writes in flight, data directory "
                "deleted), `ark restore --to-latest` from the repository: %.2f s (backup '%s' + %llu archived "
                "records, reached %s).\n"
                "- acknowledged rows: %llu; restored: %llu; acknowledged but lost: %llu rows in %llu batches "
                "(restored though unanswered at the kill: %llu batches)\n"
                "- **RPO: %.3f s** (kill time minus the acknowledgement of the oldest lost batch; the newest "
                "acknowledgement was %.3f s before the kill)\n\n",
                r.kill_at, restore_s, rep.value("backup", "").c_str(),
                static_cast<unsigned long long>(rep.value("archivedRecords", 0)), rep.value("reached", "").c_str(),
                static_cast<unsigned long long>(r.rows_acked), static_cast<unsigned long long>(restored_rows),
                static_cast<unsigned long long>(lost_rows), static_cast<unsigned long long>(lost_batches),
                static_cast<unsigned long long>(unacked_restored), lost_rows ? r.kill_at - oldest_lost : 0.0,
                r.kill_at - newest_acked);
    std::fflush(stdout);
    RemoveUnlessKept(dir);
  }
}

// ---- pitr ---------------------------------------------------------------------

void RunPitr(const Flags& f, const std::string& root) {
  const std::string dir = root + "/pitr";
  fs::create_directories(dir);
  const std::string repo = dir + "/repo";
  const std::string config = WriteConfig(dir + "/ark.yaml", repo);
  // Rows adding --wal-mib of WAL (a row is its vector, id and framing).
  const uint64_t tail_rows = (f.wal_mib << 20) / (uint64_t{f.dim} * 4 + 24);
  const uint64_t chunk_rows = (tail_rows + f.chunks - 1) / f.chunks;
  if (chunk_rows * (f.chunks - 1) >= tail_rows) Die("--wal-mib too small for --chunks: a chunk would be empty");
  std::printf("## Point-in-time restore: %llu rows x %u with HNSW, then %llu rows in %d chunks (~%llu MiB of WAL)\n\n",
              static_cast<unsigned long long>(f.base_rows), f.dim, static_cast<unsigned long long>(tail_rows),
              f.chunks, static_cast<unsigned long long>(f.wal_mib));
  std::fflush(stdout);
  Server s = StartServe(f.ark, dir + "/data", config, dir + "/serve.log");
  const std::string url = "http://127.0.0.1:" + std::to_string(s.port);
  CreateCollection(s, f.dim, /*hnsw=*/true);
  {
    std::vector<Batch> base = MakeBatches(0, f.base_rows, f.batch, f.dim);
    Ingest(f.threads, &s, &base, 0, 1e9, false, nullptr);
  }
  CallOk(s, "/v2/vectordb/collections/flush", {{"collectionName", "bench"}});
  auto t0 = Clock::now();
  WaitIndexed(s, f.base_rows);  // the base's index built before the backup, as a user would wait for it
  const double index_s = Since(t0);
  t0 = Clock::now();
  RunOut({f.ark, "backup", "create", "--server", url, "--repo", repo, "-n", "base", "-q"}, dir);
  const double backup_s = Since(t0);
  const double wal0 = WalBytes(s);
  t0 = Clock::now();
  int64_t target_micros = 0;
  uint64_t expected = f.base_rows;
  for (int c = 0; c < f.chunks; ++c) {
    const uint64_t first = f.base_rows + c * chunk_rows;
    const uint64_t n = std::min(chunk_rows, f.base_rows + tail_rows - first);
    std::vector<Batch> chunk = MakeBatches(first, n, f.batch, f.dim);
    Ingest(f.threads, &s, &chunk, 0, 1e9, false, nullptr);
    if (c == f.chunks - 2) {
      target_micros = WallMicros() + 1;
      expected = first + n;
      while (WallMicros() <= target_micros) std::this_thread::sleep_for(std::chrono::microseconds(100));  // the clock passes the target
    }
  }
  const double tail_s = Since(t0);
  const double wal_bytes = WalBytes(s) - wal0;
  t0 = Clock::now();
  WaitArchived(s);
  const double archive_wait_s = Since(t0);
  Stop(&s, SIGTERM);
  std::printf("base load + index %.1f s, backup %.1f s; tail %.1f s (%.0f rows/s), %.1f MiB of WAL; archive caught up "
              "%.1f s after the last insert\n\n",
              index_s, backup_s, tail_s, static_cast<double>(tail_rows) / tail_s, wal_bytes / (1 << 20),
              archive_wait_s);

  // The target as an ISO time with microseconds.
  const std::time_t secs = static_cast<std::time_t>(target_micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char iso[64];
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
  const std::string target = std::string(iso) + "." + std::to_string(1000000 + target_micros % 1000000).substr(1) + "Z";
  RunOut({"/bin/sync"}, dir);
  t0 = Clock::now();
  json rep = LastJson(RunOut({f.ark, "restore", "--repo", repo, "--data-dir", dir + "/restored", "--to-time", target,
                              "--json", "-q"},
                             dir));
  const double restore_s = Since(t0);
  Server back = StartServe(f.ark, dir + "/restored", "", dir + "/restored.log");
  // First correct search: a tail row before the target finds itself.
  const uint64_t probe = expected - 7;
  const std::string miss = SearchFinds(back, f.dim, probe);
  const double first_query_s = Since(t0);
  if (!miss.empty()) Die("the first search on the restored server: " + miss);
  const uint64_t count = Count(back);
  Stop(&back, SIGTERM);
  if (count != expected) Die("restored " + std::to_string(count) + " rows, want " + std::to_string(expected));
  std::printf("| | Ark (`ark restore --to-time`) |\n|---|---|\n");
  std::printf("| restore (backup + %llu archived records from %llu ranges, reached %s) | %.2f s |\n",
              static_cast<unsigned long long>(rep.value("archivedRecords", 0)),
              static_cast<unsigned long long>(rep.value("ranges", 0)), rep.value("reached", "").c_str(), restore_s);
  std::printf("| restore start → first correct search on a server opened on it | %.2f s |\n", first_query_s);
  std::printf("| rows after restore | %llu (want %llu) |\n\n", static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(expected));
  std::fflush(stdout);

  if (!f.pg.empty()) {
    std::fprintf(stderr, "writing the same rows for PostgreSQL\n");
    WriteCopyFile(dir + "/base.copy", 0, f.base_rows, f.dim);
    WriteCopyFile(dir + "/tail.copy", f.base_rows, tail_rows, f.dim);
    std::printf("## PostgreSQL + pgBackRest PITR of the same rows (real[], same chunks and target chunk)\n\n");
    std::fflush(stdout);
    const std::string cmd = "PITR_CHUNKS=" + std::to_string(f.chunks) + " PITR_TARGET_CHUNK=" +
                            std::to_string(f.chunks - 1) + " bash '" + f.pg + "' '" + dir + "/base.copy' '" + dir +
                            "/tail.copy'";
    if (std::system(cmd.c_str()) != 0) Die("command failed: " + cmd);
  }
  RemoveUnlessKept(dir);
}

Flags Parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--ark") f.ark = next();
    else if (a == "--phases") f.phases = next();
    else if (a == "--dim") f.dim = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--rate") f.rate = std::stod(next());
    else if (a == "--seconds") f.seconds = std::stod(next());
    else if (a == "--batch") f.batch = std::stoull(next());
    else if (a == "--threads") f.threads = std::stoi(next());
    else if (a == "--base-rows") f.base_rows = std::stoull(next());
    else if (a == "--wal-mib") f.wal_mib = std::stoull(next());
    else if (a == "--chunks") f.chunks = std::stoi(next());
    else if (a == "--pg") f.pg = next();
    else if (a == "--log-level") f.log_level = next();
    else Die("unknown flag " + a);
  }
  if (f.dim == 0 || f.batch == 0 || f.threads < 1 || f.chunks < 2 || f.seconds <= 0 || f.rate <= 0) {
    Die("bad flags: need dim, batch, threads, seconds, rate > 0 and chunks >= 2");
  }
  if (!fs::exists(f.ark)) Die("no ark binary at " + f.ark + " (--ark)");
  f.ark = fs::absolute(f.ark).string();
  if (!f.pg.empty()) f.pg = fs::absolute(f.pg).string();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f = Parse(argc, argv);
  g_log_level = f.log_level;
  char tmpl[] = "/tmp/ark-archive-bench.XXXXXX";
  if (!mkdtemp(tmpl)) Die("mkdtemp failed");
  const std::string root = tmpl;
  signal(SIGPIPE, SIG_IGN);
  std::printf("# archive_bench: %u cores, %s\n\n", std::thread::hardware_concurrency(), f.ark.c_str());
  if (f.phases.find("rpo") != std::string::npos) RunRpo(f, root);
  if (f.phases.find("pitr") != std::string::npos) RunPitr(f, root);
  if (std::getenv("ARK_BENCH_KEEP")) {
    std::fprintf(stderr, "kept %s\n", root.c_str());
  } else {
    fs::remove_all(root);
  }
  return 0;
}
