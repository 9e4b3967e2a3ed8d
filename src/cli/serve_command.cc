// ark serve: the database server (Milvus REST v2 + admin API + health/metrics).
//
// Shutdown: SIGTERM or SIGINT stops accepting connections, lets in-flight
// requests finish, flushes the WAL and exits 0. A second server on the same
// data directory refuses to start (the directory lock).
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "alloc/allocator.h"
#include "cli/command_registry.h"
#include "engine/database.h"
#include "engine/database_maintenance.h"
#include "dr/archive/archiver.h"
#include "server/admin_backup.h"
#include "server/admin_replication.h"
#include "dr/replication/replication_source.h"
#include "dr/replication/standby.h"
#include "dr/schedule/backup_scheduler.h"
#include "server/http_server.h"
#include "server/milvus_namespace.h"
#include "server/milvus_service.h"

namespace ark::cli {
namespace {

struct ServeFlags {
  std::string config_file;
  std::string data_dir;
  std::string listen;
  std::string wal_sync;
  std::string log_level;
  std::string standby_of;
  std::string standby_name;
  bool no_access_log = false;
};

Result<server::ServerConfig> LoadConfig(const ServeFlags& flags) {
  server::ServerConfig config;
  if (!flags.config_file.empty()) {
    ARK_ASSIGN_OR_RETURN(config, server::ServerConfig::FromFile(flags.config_file));
  }
  if (!flags.data_dir.empty()) config.data_dir = flags.data_dir;
  if (!flags.listen.empty()) {
    ARK_RETURN_IF_ERROR(server::ParseListenAddress(flags.listen, &config.host, &config.port));
  }
  if (!flags.wal_sync.empty()) config.wal_sync = flags.wal_sync;
  if (!flags.log_level.empty()) config.log_level = flags.log_level;
  if (flags.no_access_log) config.access_log = false;
  if (!flags.standby_of.empty()) config.replication.primary = flags.standby_of;
  if (!flags.standby_name.empty()) config.replication.name = flags.standby_name;
  ARK_RETURN_IF_ERROR(config.Validate());
  return config;
}

DatabaseOptions OptionsFor(const server::ServerConfig& config) {
  DatabaseOptions options;
  if (config.wal_sync == "batched") options.wal.sync_mode = WalSyncMode::kBatched;
  if (config.wal_sync == "none") options.wal.sync_mode = WalSyncMode::kNone;
  options.seal_age_micros = static_cast<uint64_t>(config.seal_age_seconds * 1e6);
  options.wal.segment_size_bytes = config.wal_segment_bytes;
  return options;
}

// Often enough that a collection is sealed soon after its seal age, rarely
// enough to cost nothing: a tenth of the age, between 1 s and 30 s.
std::chrono::milliseconds MaintenanceInterval(const server::ServerConfig& config) {
  double ms = std::clamp(config.seal_age_seconds * 100.0, 1000.0, 30000.0);
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

void AddEngineMetrics(MetricsRegistry& metrics, Database* db) {
  metrics.Describe("ark_collection_rows", "Live rows per collection");
  metrics.Describe("ark_collection_sealed_segments", "Sealed segments per collection");
  metrics.Describe("ark_wal_bytes_written", "Bytes written to the WAL since start");
  metrics.Describe("ark_wal_syncs", "WAL fdatasync calls since start");
  metrics.Describe("ark_wal_sync_seconds_total", "Time spent in WAL fdatasync since start");
  metrics.Describe("ark_wal_slots_invalidated", "Durable slots invalidated past their size bound since start");
  metrics.Describe("ark_wal_slot_retained_bytes", "Bytes of WAL kept for a durable slot");
  metrics.Describe("ark_wal_slot_invalidated", "1 if the durable slot was invalidated (its consumer must start over)");
  metrics.AddCollector([db](MetricsRegistry& m) {
    for (const auto& database : db->ListDatabases()) {
      for (const auto& c : db->ListCollections(database)) {
        MetricLabels l{{"database", c.database}, {"collection", c.name}};
        // What reads see (live_rows also holds rows whose WAL write failed).
        auto snap = db->GetSnapshot(c.database, c.name);
        m.SetGauge("ark_collection_rows", l, static_cast<double>(snap.ok() ? (*snap)->CountRows() : c.live_rows));
        m.SetGauge("ark_collection_sealed_segments", l, static_cast<double>(c.sealed_segments));
      }
    }
    WalStats s = db->wal()->Stats();
    m.SetGauge("ark_wal_bytes_written", {}, static_cast<double>(s.bytes_written));
    m.SetGauge("ark_wal_syncs", {}, static_cast<double>(s.syncs));
    m.SetGauge("ark_wal_sync_seconds_total", {}, static_cast<double>(s.sync_micros_total) / 1e6);
    m.SetGauge("ark_wal_slots_invalidated", {}, static_cast<double>(s.slots_invalidated));
    for (const auto& slot : db->wal()->ListSlots()) {
      MetricLabels l{{"slot", slot.name}};
      m.SetGauge("ark_wal_slot_retained_bytes", l, static_cast<double>(slot.retained_bytes));
      m.SetGauge("ark_wal_slot_invalidated", l, slot.invalidated ? 1 : 0);
    }
  });
}

// Answers while the database is not open yet (a standby's bootstrap, a long
// recovery): /healthz 200 (a liveness probe must not kill a server that is
// copying files for an hour), /readyz 503 with the reason and the standby's
// status, /metrics, and HTTP 503 "service not ready" on every API route.
// Stopped just before the real server binds the same port: connections in
// that gap of a few milliseconds are refused.
class EarlyServer {
 public:
  EarlyServer(const server::ServerConfig& config, std::string reason, dr::Standby* standby)
      : http_(config, &metrics_) {
    http_.CloseRoutes(reason);
    http_.SetReady(false, reason);
    if (standby != nullptr) {
      standby->AddMetrics(&metrics_);
      http_.SetReadinessDetails([standby] { return nlohmann::json{{"replication", standby->GetStatus()}}; });
    }
  }
  ~EarlyServer() { Stop(); }
  Status Start() {
    ARK_RETURN_IF_ERROR(http_.Bind());
    thread_ = std::thread([this] { (void)http_.Serve(); });
    spdlog::info("answering /healthz and /readyz on port {} while not serving yet", http_.port());
    return Status::OK();
  }
  int port() const { return http_.port(); }
  void Stop() {
    if (!thread_.joinable()) return;
    http_.Stop();
    thread_.join();
  }

 private:
  MetricsRegistry metrics_;
  server::HttpServer http_;
  std::thread thread_;
};

int g_stop_pipe[2] = {-1, -1};

void OnStopSignal(int sig) {
  int saved = errno;
  (void)!::write(g_stop_pipe[1], &sig, sizeof(sig));
  errno = saved;
}

Status InstallStopHandler() {
  if (::pipe(g_stop_pipe) != 0) return Status::IOError("pipe for signal handling failed");
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(SIGTERM, &sa, nullptr) != 0 || ::sigaction(SIGINT, &sa, nullptr) != 0) {
    return Status::IOError("cannot install SIGTERM/SIGINT handlers");
  }
  return Status::OK();
}

Status Serve(const ServeFlags& flags) {
  ARK_ASSIGN_OR_RETURN(server::ServerConfig config, LoadConfig(flags));
  spdlog::set_level(spdlog::level::from_str(config.log_level));  // validated by LoadConfig
  // A handler, not a blocked mask: libraries (OpenBLAS) start threads before
  // main() that would take a process-directed signal with its default action.
  // The handler only writes the signal number to a pipe a thread waits on.
  ARK_RETURN_IF_ERROR(InstallStopHandler());

  Env* env = Env::Default();
  ARK_RETURN_IF_ERROR(env->CreateDirs(config.data_dir));
  DatabaseOptions options = OptionsFor(config);
  std::unique_ptr<dr::Standby> standby;
  if (config.replication.is_standby()) {
    standby = std::make_unique<dr::Standby>(env, config.data_dir, config.replication);
    ARK_RETURN_IF_ERROR(standby->Prepare());
  } else if (auto marker = dr::ReadStandbyMarker(env, config.data_dir); marker.ok()) {
    return Status::FailedPrecondition(fmt::format(
        "{} is the data directory of standby '{}' of {}: start it with --standby-of {} --standby-name {} "
        "(opening it as a primary would fork it from its primary)",
        config.data_dir, marker->name, marker->primary, marker->primary, marker->name));
  } else if (marker.status().code() != StatusCode::kNotFound) {
    return marker.status();
  }
  EarlyServer early(config,
                    standby ? "standby bootstrapping from " + config.replication.primary
                            : "opening the data directory " + config.data_dir,
                    standby.get());
  ARK_RETURN_IF_ERROR(early.Start());
  // Port 0 picked a free port: the real server takes the same one.
  config.port = early.port();
  if (standby) {
    // A standby: copy the primary's files first (before the database
    // opens), then open as a follower that fetches files by hash from it.
    // SIGTERM/SIGINT during a bootstrap (which can take long) cancels it: a
    // thread watches the stop pipe until the bootstrap ends, and a pipe of
    // its own wakes it when it does (the stop pipe is not written to for
    // that: a wake-up byte there would be taken for a signal later).
    std::atomic<bool> stop_bootstrap{false};
    int over_pipe[2];
    if (::pipe(over_pipe) != 0) return Status::IOError("pipe for the bootstrap's stop watch failed");
    std::thread bootstrap_stopper([&] {
      while (true) {
        pollfd p[2] = {{g_stop_pipe[0], POLLIN, 0}, {over_pipe[0], POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) continue;  // EINTR
        if (p[1].revents != 0) return;         // the bootstrap is over
        if (p[0].revents == 0) continue;
        int sig = 0;
        if (::read(g_stop_pipe[0], &sig, sizeof(sig)) == static_cast<ssize_t>(sizeof(sig))) {
          spdlog::info("received {} while bootstrapping: stopping", strsignal(sig));
          stop_bootstrap.store(true);
          return;
        }
      }
    });
    Status boot = standby->EnsureBootstrapped(&stop_bootstrap);
    const char over = 1;
    (void)!::write(over_pipe[1], &over, 1);
    bootstrap_stopper.join();
    ::close(over_pipe[0]);
    ::close(over_pipe[1]);
    if (stop_bootstrap.load()) {
      spdlog::info("stopped before serving");  // the files fetched so far are kept
      return Status::OK();
    }
    ARK_RETURN_IF_ERROR(boot);
    options.follower = true;
    options.follower_primary = config.replication.primary;
    dr::Standby* sb = standby.get();
    options.fetch_file = [sb](const std::string& hex) { return sb->FetchFile(hex); };
  }
  spdlog::info("opening data directory {}", config.data_dir);
  ARK_ASSIGN_OR_RETURN(auto db, Database::Open(env, config.data_dir, options));

  MetricsRegistry metrics;
  AddEngineMetrics(metrics, db.get());
  server::HttpServer http(config, &metrics);
  server::MilvusService milvus(db.get(), config.limits);
  milvus.Register(http);
  server::MilvusNamespaceService namespaces(db.get());
  namespaces.Register(http);
  // Declared after the HTTP server: destroyed first, cancelling running
  // jobs, once no request can reach them.
  dr::JobManager jobs(env);
  server::RegisterBackupRoutes(http, env, db.get(), &jobs);
  dr::BackupScheduler scheduler(env, db.get(), &jobs, &metrics, config.schedules);
  ARK_RETURN_IF_ERROR(scheduler.Start());
  DatabaseMaintenance maintenance(db.get(), MaintenanceInterval(config));
  maintenance.Start();
  std::unique_ptr<dr::Archiver> archiver;
  if (config.archive.enabled()) {
    archiver = std::make_unique<dr::Archiver>(env, db.get(), config.archive);
    ARK_RETURN_IF_ERROR(archiver->Start());
    archiver->AddMetrics(&metrics);
  }
  // Every server can feed standbys (a standby feeds another: cascading).
  dr::ReplicationSource replication(env, db.get(), config.replication);
  replication.Start();
  replication.AddMetrics(&metrics);
  server::RegisterReplicationRoutes(http, db.get(), &replication, standby.get());
  if (standby) {
    standby->AddMetrics(&metrics);
    standby->Start(db.get());
  }
  if (!config.schedules.empty()) spdlog::info("{} backup schedule(s) active", config.schedules.size());
  early.Stop();
  ARK_RETURN_IF_ERROR(http.Bind());
  // Not ready while the database refuses writes (a failed WAL or manifest
  // write is sticky until restart): a load balancer can route away.
  http.SetReadinessCheck([&db] { return db->Health(); });
  // A stopped archive does not make the server unready (routing traffic
  // away would not help), but /readyz says so, as do the log and metrics.
  http.SetReadinessDetails([&archiver]() -> nlohmann::json {
    if (!archiver) return nlohmann::json{{"archive", {{"state", "off"}}}};
    dr::ArchiverStatus s = archiver->GetStatus();
    nlohmann::json a = {{"state", s.state},
                        {"archived", s.archived.ToString()},
                        {"lagSeconds", s.lag_seconds},
                        {"gaps", s.gaps},
                        {"writesBlocked", s.writes_blocked}};
    if (!s.reason.empty()) a["reason"] = s.reason;
    return nlohmann::json{{"archive", a}};
  });
  http.SetReady(true);
  spdlog::info("ark serving on {}://{}:{} (data {}, wal sync {}, {})",
               config.tls.enabled() ? "https" : "http", config.host, http.port(),
               config.data_dir, config.wal_sync, AllocatorDescription());

  std::atomic<bool> finished{false};
  std::thread waiter([&] {
    int sig = 0;
    while (::read(g_stop_pipe[0], &sig, sizeof(sig)) < 0 && errno == EINTR) {
    }
    if (finished.load()) return;  // woken by Serve() ending on its own
    spdlog::info("received {}, stopping: finishing in-flight requests", strsignal(sig));
    http.SetReady(false, "shutting down");
    replication.Stop();  // ends the standbys' streams, which hold worker threads
    http.Stop();
  });
  Status served = http.Serve();
  finished.store(true);
  int wake = 0;
  (void)!::write(g_stop_pipe[1], &wake, sizeof(wake));
  waiter.join();
  replication.Stop();
  if (standby) standby->Stop();
  scheduler.Stop();
  maintenance.Stop();
  if (archiver) archiver->Stop();  // ships what is durable once more
  ARK_RETURN_IF_ERROR(served);
  ARK_RETURN_IF_ERROR(db->wal()->Flush());
  spdlog::info("stopped cleanly");
  return Status::OK();
}

}  // namespace

ARK_CLI_COMMAND(serve) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "Run the Ark server (Milvus REST v2 on 127.0.0.1:19530)");
  cmd->add_option("--config", flags->config_file, "YAML configuration file");
  cmd->add_option("--data-dir", flags->data_dir, "Data directory (default ./ark-data)");
  cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on (default 127.0.0.1:19530)");
  cmd->add_option("--wal-sync", flags->wal_sync, "every_commit | batched | none");
  cmd->add_option("--log-level", flags->log_level, "trace | debug | info | warn | error | critical | off");
  cmd->add_option("--standby-of", flags->standby_of,
                  "Run as a standby of the primary at this URL (http://HOST:PORT): copy its files, stream its WAL");
  cmd->add_option("--standby-name", flags->standby_name, "This standby's name (its slot on the primary; default standby)");
  cmd->add_flag("--no-access-log", flags->no_access_log, "Do not log each request");
  cmd->callback([flags] {
    Status s = Serve(*flags);
    if (!s.ok()) Fail(s);
  });
}

}  // namespace ark::cli
