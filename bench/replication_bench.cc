// replication_bench: issue 16's speed figures for standbys, each beside its
// baseline in the same run.
//
//   build/release/replication_bench [--ark build/release/ark] [--phases lag,bootstrap]
//       [--dim 768] [--rate 10000] [--seconds 30] [--batch 500] [--threads 4]
//       [--base-rows 100000] [--pg bench/pg_streaming_bench.sh] [--log-level debug]
//
// Everything runs through the product: `ark serve` processes (release
// binary, default settings, WAL sync every_commit) on loopback, driven by
// cpp-httplib clients with pre-built JSON bodies. Client, primary and
// standby share the machine's cores.
//
// lag:
//   At `--rate` rows/s (`--batch`-row inserts from `--threads` clients, paced
//   by a schedule) for `--seconds`, three runs on fresh directories: no
//   standby; an async standby; a sync standby (replication.mode sync). Each
//   reports insert latency p50/p99 and, with a standby, the replication lag
//   the primary reports (/ark/v1/replication/status: the age of the oldest
//   record sent and not yet durable and applied on the standby) sampled
//   every 100 ms; the standby's count(*) is checked afterwards. Goals: lag
//   p99 <= 1 s; sync insert latency <= 2x async.
// bootstrap:
//   `--base-rows` rows with an HNSW index (M=16, efConstruction=100) on a
//   primary. Timed: `cp -r` of its files/ directory + `sync` (the baseline),
//   then a standby started on an empty directory until its /readyz answers
//   (bootstrap = every file fetched by hash, checked, synced, then opened)
//   and until a search on it finds a row by its own vector; the copy's own
//   time comes from the standby's status (bootstrap.seconds). Goal: bootstrap
//   throughput >= 80% of cp + sync.
// --pg: the same rows through PostgreSQL 15 streaming replication
//   (bench/pg_streaming_bench.sh): pg_basebackup time and replay lag under
//   the same paced tail.
#include <mutex>

#include "serve_driver.h"

namespace {

using namespace bench;

struct Flags {
  std::string ark = "build/release/ark";
  std::string phases = "lag,bootstrap";
  uint32_t dim = 768;
  double rate = 10000;
  double seconds = 30;
  uint64_t batch = 500;
  int threads = 4;
  uint64_t base_rows = 100000;
  std::string pg;
  std::string log_level;
};

std::string WriteConfig(const Flags& f, const std::string& path, const std::string& extra) {
  std::ofstream out(path);
  if (!f.log_level.empty()) out << "log_level: " << f.log_level << "\n";
  out << extra;
  return path;
}

// Waits until the standby has applied everything the primary wrote.
void WaitCaughtUp(const Server& primary, const Server& standby) {
  const auto t0 = Clock::now();
  while (Since(t0) < 600) {
    json p = CallOk(primary, "/ark/v1/replication/status", json::object());
    json s = CallOk(standby, "/ark/v1/replication/status", json::object());
    if (s["data"].value("applied", "") == p["data"].value("lastPosition", "?")) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // replication progress polling
  }
  Die("the standby did not catch up in 600 s");
}

std::function<std::optional<double>()> ReplicationLag(const Server& primary) {
  return [&primary]() -> std::optional<double> {
    auto c = primary.Client();
    json j = Call(c, "/ark/v1/replication/status", "{}");
    if (j.value("code", -1) != 0 || j["data"]["standbys"].empty()) return std::nullopt;
    return j["data"]["standbys"][0]["lagSeconds"].get<double>();
  };
}

void RunLag(const Flags& f, const std::string& root) {
  const uint64_t rows = static_cast<uint64_t>(f.rate * f.seconds * 1.05);
  std::printf("## Replication under ingest (dim %u, batch %llu, %d clients, %.0f rows/s for %.0f s)\n\n", f.dim,
              static_cast<unsigned long long>(f.batch), f.threads, f.rate, f.seconds);
  std::fflush(stdout);
  auto t0 = Clock::now();
  std::vector<Batch> batches = MakeBatches(0, rows, f.batch, f.dim);
  std::fprintf(stderr, "built %zu request bodies in %.1f s\n", batches.size(), Since(t0));
  std::printf("| run | rows/s | insert p50 ms | insert p99 ms | lag p50 / p99 / max s | standby rows |\n"
              "|---|---|---|---|---|---|\n");
  struct Run {
    const char* name;
    bool standby;
    const char* mode;
  };
  int n = 0;
  for (const Run& run : {Run{"no standby", false, "async"}, Run{"async standby", true, "async"},
                         Run{"sync standby", true, "sync"}}) {
    const std::string dir = root + "/lag" + std::to_string(n++);
    fs::create_directories(dir);
    const std::string config =
        WriteConfig(f, dir + "/primary.yaml", std::string("replication:\n  mode: ") + run.mode + "\n");
    Server p = StartServe(f.ark, dir + "/primary", config, dir + "/primary.log");
    CreateCollection(p, f.dim, /*hnsw=*/false);
    Server s;
    if (run.standby) {
      s = StartServe(f.ark, dir + "/standby", WriteConfig(f, dir + "/standby.yaml", ""), dir + "/standby.log",
                     {"--standby-of", "http://127.0.0.1:" + std::to_string(p.port), "--standby-name", "bench"});
      WaitCaughtUp(p, s);
    }
    ResetBatches(&batches);
    IngestResult r = Ingest(f.threads, &p, &batches, f.rate, f.seconds, false,
                            run.standby ? ReplicationLag(p) : std::function<std::optional<double>()>());
    std::string standby_rows = "-";
    if (run.standby) {
      WaitCaughtUp(p, s);
      const uint64_t want = Count(p), got = Count(s);
      if (got != want) Die(std::string(run.name) + ": the standby has " + std::to_string(got) + " rows, the primary " +
                           std::to_string(want));
      standby_rows = std::to_string(got) + " (= primary)";
      Stop(&s, SIGTERM);
    }
    Stop(&p, SIGTERM);
    char lag[96] = "-";
    if (run.standby) {
      std::snprintf(lag, sizeof lag, "%.3f / %.3f / %.3f (%zu samples)", Pct(r.lag, 0.5), Pct(r.lag, 0.99),
                    Pct(r.lag, 1.0), r.lag.size());
    }
    std::printf("| %s | %.0f | %.1f | %.1f | %s | %s |\n", run.name,
                static_cast<double>(r.rows_acked) / r.seconds, Pct(r.latency, 0.5) * 1e3, Pct(r.latency, 0.99) * 1e3,
                lag, standby_rows.c_str());
    std::fflush(stdout);
    RemoveUnlessKept(dir);
  }
  std::printf("\n");
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

void RunBootstrap(const Flags& f, const std::string& root) {
  const std::string dir = root + "/bootstrap";
  fs::create_directories(dir);
  std::printf("## Standby bootstrap: %llu rows x %u with HNSW (M 16, efConstruction 100)\n\n",
              static_cast<unsigned long long>(f.base_rows), f.dim);
  std::fflush(stdout);
  Server p = StartServe(f.ark, dir + "/primary", WriteConfig(f, dir + "/primary.yaml", ""), dir + "/primary.log");
  CreateCollection(p, f.dim, /*hnsw=*/true);
  {
    std::vector<Batch> base = MakeBatches(0, f.base_rows, f.batch, f.dim);
    Ingest(f.threads, &p, &base, 0, 1e9, false, nullptr);
  }
  CallOk(p, "/v2/vectordb/collections/flush", {{"collectionName", "bench"}});
  WaitIndexed(p, f.base_rows);
  const std::string files = dir + "/primary/files";
  const uint64_t bytes = DirBytes(files);
  const uint64_t nfiles = static_cast<uint64_t>(
      std::distance(fs::directory_iterator(files), fs::directory_iterator()));
  RunOut({"/bin/sync"}, dir);
  auto t0 = Clock::now();
  RunOut({"/bin/cp", "-r", files, dir + "/copy"}, dir);
  RunOut({"/bin/sync"}, dir);
  const double cp_s = Since(t0);
  t0 = Clock::now();
  Server s = StartServe(f.ark, dir + "/standby", WriteConfig(f, dir + "/standby.yaml", ""), dir + "/standby.log",
                        {"--standby-of", "http://127.0.0.1:" + std::to_string(p.port), "--standby-name", "bench"});
  const double ready_s = Since(t0);
  const std::string miss = SearchFinds(s, f.dim, f.base_rows / 3);
  const double search_s = Since(t0);
  // The standby's own account of the copy: request to seeded directory.
  const json boot = CallOk(s, "/ark/v1/replication/status", json::object())["data"]["bootstrap"];
  if (!boot.is_object() || !boot.value("done", false)) Die("the standby's status has no finished bootstrap: " + boot.dump());
  const double transfer_s = boot["seconds"].get<double>();
  if (!miss.empty()) Die("the first search on the standby: " + miss);
  const uint64_t got = Count(s);
  Stop(&s, SIGTERM);
  Stop(&p, SIGTERM);
  if (got != f.base_rows) Die("the standby has " + std::to_string(got) + " rows, want " + std::to_string(f.base_rows));
  const double mib = static_cast<double>(bytes) / (1 << 20);
  std::printf("%llu files, %.1f MiB (segments and HNSW graphs)\n\n", static_cast<unsigned long long>(nfiles), mib);
  std::printf("| | seconds | MiB/s | of cp + sync |\n|---|---|---|---|\n");
  std::printf("| `cp -r files/` + `sync` (baseline) | %.2f | %.0f | 100%% |\n", cp_s, mib / cp_s);
  std::printf("| Ark bootstrap: every file fetched by hash over HTTP, SHA-256 checked, fsynced (%llu files) | %.2f | %.0f | "
              "%.0f%% |\n",
              static_cast<unsigned long long>(boot.value("filesDone", uint64_t{0})), transfer_s, mib / transfer_s,
              100.0 * cp_s / transfer_s);
  std::printf("| Ark standby start → ready (process start, bootstrap, database open) | %.2f | %.0f | %.0f%% |\n",
              ready_s, mib / ready_s, 100.0 * cp_s / ready_s);
  std::printf("| Ark standby start → first correct search | %.2f | | |\n\n", search_s);
  std::fflush(stdout);

  if (!f.pg.empty()) {
    const uint64_t tail_rows = static_cast<uint64_t>(f.rate * f.seconds);
    std::fprintf(stderr, "writing the same rows for PostgreSQL\n");
    WriteCopyFile(dir + "/base.copy", 0, f.base_rows, f.dim);
    WriteCopyFile(dir + "/tail.copy", f.base_rows, tail_rows, f.dim);
    for (int sync = 0; sync <= 1; ++sync) {
      std::printf("## PostgreSQL streaming replication of the same rows (real[]; %s standby; base %llu rows, then "
                  "%llu rows at %.0f rows/s in %llu-row transactions from %d clients)\n\n",
                  sync ? "synchronous" : "asynchronous", static_cast<unsigned long long>(f.base_rows),
                  static_cast<unsigned long long>(tail_rows), f.rate, static_cast<unsigned long long>(f.batch),
                  f.threads);
      std::fflush(stdout);
      const std::string cmd = "SYNC=" + std::to_string(sync) + " RATE=" + std::to_string(static_cast<int>(f.rate)) +
                              " BATCH=" + std::to_string(f.batch) + " CLIENTS=" + std::to_string(f.threads) +
                              " bash '" + f.pg + "' '" + dir + "/base.copy' '" + dir + "/tail.copy'";
      if (std::system(cmd.c_str()) != 0) Die("command failed: " + cmd);
      std::printf("\n");
    }
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
    else if (a == "--pg") f.pg = next();
    else if (a == "--log-level") f.log_level = next();
    else Die("unknown flag " + a);
  }
  if (f.dim == 0 || f.batch == 0 || f.threads < 1 || !(f.rate > 0) || !(f.seconds > 0) || f.base_rows < 10) {
    Die("flags out of range");
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = Parse(argc, argv);
  const std::string root = fs::temp_directory_path() / ("replication_bench." + std::to_string(getpid()));
  fs::create_directories(root);
  std::printf("# replication_bench (%s; %u cores)\n\n", f.ark.c_str(), std::thread::hardware_concurrency());
  if (f.phases.find("lag") != std::string::npos) RunLag(f, root);
  if (f.phases.find("bootstrap") != std::string::npos) RunBootstrap(f, root);
  RemoveUnlessKept(root);
  return 0;
}
