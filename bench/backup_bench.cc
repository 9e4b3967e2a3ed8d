// backup_bench: Ark's backup and restore against `cp -r` + `sync` of the same
// data directory, against restoring and then rebuilding the index (the
// milvus-backup way), and against PostgreSQL + pgBackRest on the same vectors
// (bench/pgbackrest_bench.sh), in one run. Results: docs/benchmarks/backup.md.
//
//   build/release/backup_bench [--n 100000] [--dim 768] [--clusters 1000]
//       [--threads 2] [--rounds 3] [--pg bench/pgbackrest_bench.sh]
//       [--skip-rebuild]
//
// Data: clustered unit vectors (bench_util.h), one collection (id, embedding),
// flushed into sealed segments with a built HNSW index (M=16,
// efConstruction=100). Full backups go to a fresh local repository each
// round (zstd and uncompressed), interleaved with `cp -r` + `sync`; medians
// are reported. Then 1% of the rows are upserted and flushed (a new segment,
// its index and a tombstone) and an incremental backup is timed. Restore to
// the first correct search is timed against restore + index rebuild.
#include <omp.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "dr/backup/backup.h"
#include "dr/repository/repository_open.h"
#include "engine/content_checksum.h"
#include "engine/database.h"

using namespace ark;
using namespace ark::bench;

namespace {

struct Flags {
  uint64_t n = 100000;
  uint32_t dim = 768;
  uint32_t clusters = 1000;
  int threads = 2;
  int rounds = 3;
  std::string pg;
  bool skip_rebuild = false;  // skip restore + index rebuild (the slowest part)
};

[[noreturn]] void Die(const Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  std::exit(1);
}

void Run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  if (rc != 0) Die(Status::Internal("command failed: " + cmd));
}

uint64_t DirBytes(const std::string& dir) {
  std::string out = "/tmp/ark-backup-bench-du";
  Run("du -sb '" + dir + "' | cut -f1 > " + out);
  std::ifstream in(out);
  uint64_t b = 0;
  in >> b;
  return b;
}

CollectionSchema Schema(uint32_t dim) {
  CollectionSchema s;
  s.fields.push_back({"id", DataType::kInt64, true, 0, 0, ""});
  s.fields.push_back({"embedding", DataType::kFloatVector, false, 0, dim, ""});
  return s;
}

RowBatch Batch(const CollectionSchema& schema, const std::vector<float>& data, uint64_t first, uint64_t n,
               uint32_t dim, int64_t id_base = 0) {
  RowBatch b = RowBatch::Empty(schema);
  for (uint64_t r = first; r < first + n; ++r) b.columns[0].ints.push_back(id_base + static_cast<int64_t>(r));
  b.columns[1].floats.assign(data.begin() + first * dim, data.begin() + (first + n) * dim);
  b.num_rows = n;
  return b;
}

// Graphs loaded / segment columns decoded at open (the engine before lazy
// opening) or on first use.
bool g_load_indexes_at_open = false;
bool g_decode_segments_at_open = false;

DatabaseOptions Options(int threads, int build_threads) {
  DatabaseOptions o;
  o.load_indexes_at_open = g_load_indexes_at_open;
  o.decode_segments_at_open = g_decode_segments_at_open;
  o.auto_seal = false;
  o.index_build_threads = build_threads;
  o.index_build_inner_threads = threads;
  return o;
}

std::unique_ptr<Database> Open(const std::string& dir, int threads, int build_threads) {
  auto db = Database::Open(Env::Default(), dir, Options(threads, build_threads));
  if (!db.ok()) Die(db.status());
  return std::move(db).value();
}

// Top-10 ids of `q` through the engine (the index when it is built).
std::vector<int64_t> Search(Database* db, const std::vector<float>& q) {
  auto snap = db->GetSnapshot("", "bench");
  if (!snap.ok()) Die(snap.status());
  SearchRequest req;
  req.vectors = q;
  req.num_queries = 1;
  req.limit = 10;
  req.params.ef = 64;
  // Ids and distances only, as a Milvus search without outputFields answers.
  req.output_columns.assign((*snap)->schema().NumColumns(), false);
  req.output_columns[(*snap)->schema().PrimaryKeyIndex()] = true;
  auto r = (*snap)->Search(req);
  if (!r.ok()) Die(r.status());
  return r->queries[0].rows.columns[0].ints;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Timed {
  double seconds = 0;
  dr::BackupManifest manifest;
};

Timed Backup(Database* db, const std::string& repo_dir, const std::string& compression, const std::string& name) {
  dr::RepositoryInitOptions init;
  init.compression = compression;
  auto repo = dr::OpenRepositoryUrl(Env::Default(), repo_dir, {}, /*create=*/true, init);
  if (!repo.ok()) Die(repo.status());
  dr::BackupOptions o;
  o.name = name;
  o.parallelism = 4;
  auto t = Clock::now();
  auto m = dr::CreateBackup(db, repo->repo.get(), o);
  if (!m.ok()) Die(m.status());
  Run("sync");  // the local store syncs each blob; this makes the comparison with cp + sync exact
  return {Seconds(t), *m};
}

// Restores `name` into `target`; with keep_open the opened database comes back.
std::unique_ptr<Database> Restore(const std::string& repo_dir, const std::string& name, const std::string& target,
                                  bool keep_open, int threads, double* seconds) {
  auto repo = dr::OpenRepositoryUrl(Env::Default(), repo_dir, {}, false);
  if (!repo.ok()) Die(repo.status());
  dr::RestoreOptions o;
  o.name = name;
  o.target_dir = target;
  o.keep_open = keep_open;
  o.database_options = Options(threads, 1);
  auto t = Clock::now();
  auto r = dr::RestoreBackup(Env::Default(), repo->repo.get(), o);
  if (!r.ok()) Die(r.status());
  *seconds = Seconds(t);
  return std::move(r->database);
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--n") f.n = std::stoull(next());
    else if (a == "--dim") f.dim = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--clusters") f.clusters = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--threads") f.threads = std::stoi(next());
    else if (a == "--rounds") f.rounds = std::stoi(next());
    else if (a == "--pg") f.pg = next();
    else if (a == "--skip-rebuild") f.skip_rebuild = true;
    else {
      const bool help = a == "--help" || a == "-h";
      if (!help) std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      std::fprintf(help ? stdout : stderr,
                   "usage: backup_bench [--n 100000] [--dim 768] [--clusters 1000] [--threads 2] [--rounds 3]\n"
                   "                    [--pg bench/pgbackrest_bench.sh] [--skip-rebuild]\n");
      return help ? 0 : 2;
    }
  }
  std::printf("# backup_bench n=%lu dim=%u rounds=%d\n", (unsigned long)f.n, f.dim, f.rounds);
  std::mt19937 crng(42);
  std::normal_distribution<float> cn(0.0f, 4.0f / std::sqrt(float(f.dim)));
  std::vector<float> centres(uint64_t{f.clusters} * f.dim);
  for (auto& v : centres) v = cn(crng);
  std::vector<float> data = Clustered(f.n, f.dim, f.clusters, 1, centres);
  const uint64_t changed = std::max<uint64_t>(1, f.n / 100);
  std::vector<float> updates = Clustered(changed, f.dim, f.clusters, 3, centres);
  std::vector<float> query = Clustered(1, f.dim, f.clusters, 2, centres);

  char tmpl[] = "/tmp/ark-backup-bench-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  const std::string data_dir = root + "/data";
  omp_set_num_threads(f.threads);
  CollectionSchema schema = Schema(f.dim);
  std::vector<int64_t> expected;
  auto t = Clock::now();
  {
    auto db = Open(data_dir, f.threads, 1);
    if (auto s = db->CreateCollection("", "bench", schema); !s.ok()) Die(s.status());
    if (auto s = db->CreateIndex("", "bench", "", "embedding", "HNSW", "COSINE", {{"M", 16}, {"efConstruction", 100}});
        !s.ok()) {
      Die(s.status());
    }
    // Four segments, as a server sealing at its threshold would have.
    const uint64_t per = (f.n + 3) / 4;
    for (uint64_t r = 0; r < f.n; r += 10000) {
      auto w = db->Insert("", "bench", Batch(schema, data, r, std::min<uint64_t>(10000, f.n - r), f.dim));
      if (!w.ok()) Die(w.status());
      if ((r + 10000) % per < 10000 || r + 10000 >= f.n) {
        if (auto s = db->Flush("", "bench"); !s.ok()) Die(s);
      }
    }
    if (!db->WaitForIndexBuilds(std::chrono::hours(2))) Die(Status::TimedOut("index build"));
    expected = Search(db.get(), query);
  }
  const double load_s = Seconds(t);
  const uint64_t data_bytes = DirBytes(data_dir);
  std::printf("\nloaded %lu x %u with HNSW in %.1f s; data directory %.1f MiB\n", (unsigned long)f.n, f.dim, load_s,
              double(data_bytes) / 1048576);

  // Full backups interleaved with cp -r + sync.
  std::vector<double> cp_s, zstd_s, raw_s;
  dr::BackupManifest zstd_m, raw_m;
  auto db = Open(data_dir, f.threads, 1);
  {
    // Every backup records each collection's content checksum at its cut. The
    // first one in a process hashes every sealed row; the sums are then
    // cached per segment file, so later backups hash only growing and
    // deleted rows. Measured here, before the rounds (which then run cached).
    auto snap = db->GetSnapshot("", "bench");
    if (!snap.ok()) Die(snap.status());
    auto c0 = Clock::now();
    const ContentChecksum cold = ComputeContentChecksum(**snap);
    const double cold_s = Seconds(c0);
    auto c1 = Clock::now();
    const ContentChecksum warm = ComputeContentChecksum(**snap);
    const double warm_s = Seconds(c1);
    if (cold.checksum != warm.checksum) Die(Status::Internal("the cached checksum differs from the computed one"));
    std::printf("\n## Content checksum a backup records (%lu rows)\n\n", (unsigned long)cold.rows);
    std::printf("| what | seconds |\n|---|---|\n| first in a process (hashes every row) | %.3f |\n"
                "| later (sealed segments' sums cached) | %.4f |\n",
                cold_s, warm_s);
  }
  for (int round = 0; round < f.rounds; ++round) {
    Run("rm -rf '" + root + "/copy' '" + root + "/repo-zstd' '" + root + "/repo-raw' && sync");
    auto c = Clock::now();
    Run("cp -r '" + data_dir + "' '" + root + "/copy' && sync");
    cp_s.push_back(Seconds(c));
    Timed z = Backup(db.get(), root + "/repo-zstd", "zstd", "full");
    zstd_s.push_back(z.seconds);
    zstd_m = z.manifest;
    Timed r = Backup(db.get(), root + "/repo-raw", "none", "full");
    raw_s.push_back(r.seconds);
    raw_m = r.manifest;
    std::fprintf(stderr, "round %d: cp+sync %.2f s, ark zstd %.2f s, ark none %.2f s\n", round, cp_s.back(),
                 zstd_s.back(), raw_s.back());
  }
  const double gib = double(zstd_m.stats.total_bytes) / (1 << 30);
  std::printf("\n## Full backup to a local repository (median of %d rounds, interleaved)\n\n", f.rounds);
  std::printf("| what | seconds | GiB/s | stored | vs cp + sync |\n|---|---|---|---|---|\n");
  std::printf("| cp -r + sync (%.2f GiB directory) | %.2f | %.2f | %.2f GiB | 1.00 |\n", double(data_bytes) / (1 << 30),
              Median(cp_s), double(data_bytes) / (1 << 30) / Median(cp_s), double(data_bytes) / (1 << 30));
  std::printf("| ark backup, zstd | %.2f | %.2f | %.2f GiB | %.2f |\n", Median(zstd_s), gib / Median(zstd_s),
              double(zstd_m.stats.new_stored_bytes) / (1 << 30), Median(cp_s) / Median(zstd_s));
  std::printf("| ark backup, no compression | %.2f | %.2f | %.2f GiB | %.2f |\n", Median(raw_s), gib / Median(raw_s),
              double(raw_m.stats.new_stored_bytes) / (1 << 30), Median(cp_s) / Median(raw_s));

  // Incremental after changing 1% of the rows (sealed: a new segment with its
  // index and a tombstone file).
  {
    RowBatch b = Batch(schema, updates, 0, changed, f.dim);
    for (uint64_t i = 0; i < changed; ++i) b.columns[0].ints[i] = static_cast<int64_t>(i * 97 % f.n);
    if (auto w = db->Upsert("", "bench", std::move(b)); !w.ok()) Die(w.status());
    if (auto s = db->Flush("", "bench"); !s.ok()) Die(s);
    if (!db->WaitForIndexBuilds(std::chrono::hours(1))) Die(Status::TimedOut("index build"));
    expected = Search(db.get(), query);
  }
  Timed inc = Backup(db.get(), root + "/repo-zstd", "zstd", "incremental");
  std::printf("\n## Incremental after upserting 1%% of the rows (%lu rows, sealed)\n\n", (unsigned long)changed);
  std::printf("%.2f s = %.1f%% of the full backup's time; uploaded %.1f MiB of %.1f MiB (%lu new blobs, %lu reused)\n",
              inc.seconds, 100 * inc.seconds / Median(zstd_s), double(inc.manifest.stats.new_bytes) / 1048576,
              double(inc.manifest.stats.total_bytes) / 1048576, (unsigned long)inc.manifest.stats.new_blobs,
              (unsigned long)inc.manifest.stats.reused_blobs);
  db.reset();

  // Restore until the first correct search, vs restore + rebuild of the
  // index; three ways, interleaved in this run: graphs loaded and columns
  // decoded at open (before lazy opening), graphs lazy but columns decoded
  // at open (lazy graphs only), and both lazy (now).
  struct RestoreFigures {
    double restore_only = 0, open = 0, open_search = 0, first_search = 0;
  };
  enum Mode { kEager, kLazyGraphs, kLazy };
  auto restore_figures = [&](Mode mode, int round) {
    g_load_indexes_at_open = mode == kEager;
    g_decode_segments_at_open = mode != kLazy;
    const std::string tag =
        (mode == kEager ? "-eager-" : mode == kLazyGraphs ? "-lazygraphs-" : "-lazy-") + std::to_string(round);
    RestoreFigures fig;
    {
      // The CLI's way: restore (which opens the result to check it), then a
      // server starts on the directory and opens it again.
      Restore(root + "/repo-zstd", "incremental", root + "/restored" + tag, false, f.threads, &fig.restore_only);
      auto t1 = Clock::now();
      auto r = Open(root + "/restored" + tag, f.threads, 0);
      fig.open = Seconds(t1);
      if (Search(r.get(), query) != expected) Die(Status::Corruption("restored search differs"));
      fig.open_search = Seconds(t1);
    }
    {
      // In process: the database restore opened serves the first search.
      auto t0 = Clock::now();
      double unused = 0;
      auto r = Restore(root + "/repo-zstd", "incremental", root + "/restored-open" + tag, true, f.threads, &unused);
      if (Search(r.get(), query) != expected) Die(Status::Corruption("restored search differs"));
      fig.first_search = Seconds(t0);
    }
    Run("rm -rf " + root + "/restored" + tag + " " + root + "/restored-open" + tag);
    return fig;
  };
  std::vector<RestoreFigures> eager_runs, graph_runs, lazy_runs;
  for (int round = 0; round < f.rounds; ++round) {
    eager_runs.push_back(restore_figures(kEager, round));
    graph_runs.push_back(restore_figures(kLazyGraphs, round));
    lazy_runs.push_back(restore_figures(kLazy, round));
  }
  g_load_indexes_at_open = false;
  g_decode_segments_at_open = false;
  auto median_of = [](const std::vector<RestoreFigures>& runs, double RestoreFigures::*field) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*field);
    return Median(v);
  };
  const double first_search = median_of(lazy_runs, &RestoreFigures::first_search);
  const double restore_only = median_of(lazy_runs, &RestoreFigures::restore_only);
  const double open_s = median_of(lazy_runs, &RestoreFigures::open_search);
  double rebuilt = 0;
  std::printf("\n## Open and first search, graphs and segment columns read at open vs lazily (medians of %d)\n\n",
              f.rounds);
  std::printf("| what | both at open | lazy graphs, columns at open | both lazy (now) |\n|---|---|---|---|\n");
  for (auto [label, field] : std::initializer_list<std::pair<const char*, double RestoreFigures::*>>{
           {"ark restore (download + hash checks + open + row-count check)", &RestoreFigures::restore_only},
           {"a server opens the restored directory", &RestoreFigures::open},
           {"... and its first correct search answered", &RestoreFigures::open_search},
           {"restore until the first correct search, in process", &RestoreFigures::first_search}}) {
    std::printf("| %s | %.3f | %.3f | %.3f |\n", label, median_of(eager_runs, field), median_of(graph_runs, field),
                median_of(lazy_runs, field));
  }
  if (!f.skip_rebuild) {
    auto t0 = Clock::now();
    double unused = 0;
    auto r = Restore(root + "/repo-zstd", "incremental", root + "/rebuilt", true, f.threads, &unused);
    if (auto s = r->DropIndex("", "bench", "embedding"); !s.ok()) Die(s.status());
    if (auto s = r->CreateIndex("", "bench", "", "embedding", "HNSW", "COSINE", {{"M", 16}, {"efConstruction", 100}});
        !s.ok()) {
      Die(s.status());
    }
    if (!r->WaitForIndexBuilds(std::chrono::hours(2))) Die(Status::TimedOut("rebuild"));
    auto got = Search(r.get(), query);
    rebuilt = Seconds(t0);
    if (got != expected) std::fprintf(stderr, "note: the rebuilt graph answers the probe query differently\n");
  }
  std::printf("\n## Restore\n\n| what | seconds | vs Ark |\n|---|---|---|\n");
  std::printf("| ark restore (download + hash checks, then open + row-count check) | %.2f | |\n", restore_only);
  std::printf("| then a server opens the restored directory and answers the first correct search | %.2f | |\n",
              open_s);
  std::printf("| ark restore until the first correct search (in process: the restore's open serves it) | %.2f | 1.0 |\n",
              first_search);
  if (f.skip_rebuild) {
    // Nothing was rebuilt: a 0.00 s row and 0.0x ratios would read as results.
    std::printf("| restore + rebuild the HNSW index (milvus-backup way) | skipped (--skip-rebuild) | |\n");
    std::printf("| restore, then a server opens it and searches (CLI way) | %.2f | |\n", restore_only + open_s);
  } else {
    std::printf("| restore + rebuild the HNSW index, then search (milvus-backup way) | %.2f | %.1fx slower |\n",
                rebuilt, rebuilt / first_search);
    std::printf("| restore, then a server opens it and searches (CLI way) | %.2f | %.1fx faster than rebuild |\n",
                restore_only + open_s, rebuilt / (restore_only + open_s));
  }

  if (!f.pg.empty()) {
    const std::string vectors = root + "/vectors.copy";
    {
      std::ofstream out(vectors);
      char buf[32];
      for (uint64_t r = 0; r < f.n; ++r) {
        out << r << "\t{";
        for (uint32_t d = 0; d < f.dim; ++d) {
          std::snprintf(buf, sizeof(buf), "%.9g", data[r * f.dim + d]);
          out << (d ? "," : "") << buf;
        }
        out << "}\n";
      }
    }
    for (const char* compress : {"zst", "none"}) {
      std::printf("\n## PostgreSQL + pgBackRest, compress-type=%s (same vectors as real[])\n\n", compress);
      std::fflush(stdout);
      Run(std::string("PGBR_COMPRESS=") + compress + " bash '" + f.pg + "' '" + vectors + "'");
    }
  }
  if (std::getenv("ARK_BENCH_KEEP")) {
    std::fprintf(stderr, "kept %s\n", root.c_str());
  } else {
    Run("rm -rf '" + root + "'");
  }
  return 0;
}
