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
#include <mutex>
#include <thread>

#include "alloc/allocator.h"
#include "cli/command_registry.h"
#include "engine/database.h"
#include "engine/database_maintenance.h"
#include "dr/archive/archiver.h"
#include "dr/drill/drill_scheduler.h"
#include "dr/failover/failover_config.h"
#include "dr/failover/lease_keeper.h"
#include "server/admin_backup.h"
#include "server/admin_checksum.h"
#include "server/admin_dr.h"
#include "server/dr_check_runner.h"
#include "server/admin_failover.h"
#include "dr/failover/rejoin.h"
#include "server/admin_replication.h"
#include "dr/replication/replication_source.h"
#include "dr/replication/standby.h"
#include "dr/schedule/backup_scheduler.h"
#include "grpc/milvus_grpc.h"
#include "server/http_server.h"
#include "server/milvus_namespace.h"
#include "server/milvus_service.h"
#include "server/ui_routes.h"

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
  std::string witness;
  std::string node_name;
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
  if (!flags.witness.empty()) config.failover.witness = flags.witness;
  if (!flags.node_name.empty()) config.failover.name = flags.node_name;
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

// The running `ark` executable ("" if unknown): scheduled drills start their
// scratch server from it, so it is the same version as this server.
std::string SelfExecutable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
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

// What /readyz says of the WAL archive (a stopped archive does not make the
// server unready: routing traffic away would not help).
nlohmann::json ArchiveReadiness(dr::Archiver* archiver) {
  if (!archiver) return nlohmann::json{{"archive", {{"state", "off"}}}};
  dr::ArchiverStatus s = archiver->GetStatus();
  nlohmann::json a = {{"state", s.state},
                      {"archived", s.archived.ToString()},
                      {"lagSeconds", s.lag_seconds},
                      {"gaps", s.gaps},
                      {"writesBlocked", s.writes_blocked}};
  if (!s.reason.empty()) a["reason"] = s.reason;
  return nlohmann::json{{"archive", a}};
}

int g_stop_pipe[2] = {-1, -1};
// Written to the stop pipe (instead of a signal number) when a switchover
// finished: the server stops and comes back as a standby.
constexpr int kHandoverWake = -2;

// What Serve() leaves for the command's loop: a switchover turns this server
// into a standby of `rejoin_primary`.
struct ServeOutcome {
  std::string rejoin_primary;
  std::string data_dir;
  std::string name;
  std::string admin_token;
};

void OnStopSignal(int sig) {
  int saved = errno;
  (void)!::write(g_stop_pipe[1], &sig, sizeof(sig));
  errno = saved;
}

Status InstallStopHandler() {
  if (g_stop_pipe[0] != -1) return Status::OK();  // a second Serve() in one process (after a switchover)
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

Status Serve(const ServeFlags& flags, ServeOutcome* outcome) {
  ARK_ASSIGN_OR_RETURN(server::ServerConfig config, LoadConfig(flags));
  outcome->data_dir = config.data_dir;
  outcome->name = config.failover.name;
  outcome->admin_token = config.auth.admin_token.empty() ? config.auth.token : config.auth.admin_token;
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
  // A switchover (failover/handover/finish) or, with failover.rejoin: auto,
  // being fenced: stop and come back as a standby of `handover_to`.
  // Declared before the lease keeper, whose thread may call it.
  std::mutex handover_mu;
  std::string handover_to;
  auto restart_as_standby = [&handover_mu, &handover_to](const std::string& primary) {
    {
      std::lock_guard<std::mutex> lock(handover_mu);
      if (!handover_to.empty()) return;
      handover_to = primary;
    }
    int wake = kHandoverWake;
    (void)!::write(g_stop_pipe[1], &wake, sizeof(wake));
  };
  // Failover (docs/failover.md): the leader lease at the witness fences
  // this server's writes. Opened before the database so a bad witness URL
  // fails fast; claimed once the database says which epoch it leads.
  std::unique_ptr<dr::Witness> witness;
  std::unique_ptr<dr::LeaseKeeper> lease;
  if (config.failover.enabled()) {
    ARK_ASSIGN_OR_RETURN(witness, dr::OpenWitness(config.failover));
    dr::LeaseKeeperOptions lo{config.failover.name, config.failover.advertise_url, config.failover.lease_ttl_ms,
                              config.failover.renew_interval_ms, config.failover.margin_ms};
    if (lo.url.empty()) lo.url = fmt::format("{}://{}:{}", config.tls.enabled() ? "https" : "http", config.host, config.port);
    lease = std::make_unique<dr::LeaseKeeper>(env, witness.get(), lo);
    if (config.failover.rejoin == "auto") {
      lease->SetOnFenced([restart_as_standby](const dr::LeaderRecord& leader) {
        spdlog::warn("failover: fenced by epoch {} of {} ({}): rejoining it as a standby (failover.rejoin: auto)",
                     leader.epoch, leader.holder, leader.url);
        restart_as_standby(leader.url);
      });
    }
  }
  spdlog::info("opening data directory {}", config.data_dir);
  ARK_ASSIGN_OR_RETURN(auto db, Database::Open(env, config.data_dir, options));
  if (lease) {
    db->SetWriteFence([l = lease.get()] { return l->CheckWritable(); });
    if (!db->IsFollower()) {
      lease->Activate(db->CurrentEpoch());
      Status first = lease->RenewOnce();  // writes wait for the grant; the thread keeps trying
      if (!first.ok()) spdlog::warn("failover: cannot reach the witness {}: {}", witness->Describe(), first.message());
      if (lease->fenced()) spdlog::error("failover: this server is fenced: {}", lease->CheckWritable().message());
    }
    lease->Start();
  }

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
  server::RegisterChecksumRoutes(http, db.get());
  dr::BackupScheduler scheduler(env, db.get(), &jobs, &metrics, config.schedules);
  ARK_RETURN_IF_ERROR(scheduler.Start());
  // Scheduled drills (docs/drills.md): restore-checks on the timer's thread;
  // theirs and the report directory's results on /metrics.
  dr::DrillScheduler drills(env, &metrics, {config.DrillReportDir(), SelfExecutable()}, config.drills.schedules);
  ARK_RETURN_IF_ERROR(drills.Start());
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
  server::RegisterReplicationRoutes(http, db.get(), &replication, standby.get(), lease.get());
  server::RegisterFailoverRoutes(http, db.get(), &replication, lease.get(), restart_as_standby);
  const server::DrStatusSources dr_sources{&config, db.get(), &scheduler, archiver.get(), &replication,
                                           standby.get(), lease.get(), env};
  server::RegisterDrRoutes(http, dr_sources);
  // The dashboard (docs/drills.md#dashboard) draws the same document.
  server::RegisterUiRoutes(http, [dr_sources] { return server::DrStatusJson(dr_sources); },
                           config.DrillReportDir(), env);
  // The server's own `ark dr check`, on its status and its monitor's settings.
  server::DrCheckRunnerOptions check_options;
  check_options.interval_seconds = static_cast<uint64_t>(config.drills.check_interval_seconds);
  if (config.failover.enabled() && config.failover.witness.rfind("http", 0) == 0) {
    check_options.monitor_url = config.failover.witness;
    ARK_ASSIGN_OR_RETURN(check_options.monitor_token, dr::WitnessToken(config.failover));
  }
  server::DrCheckRunner dr_check(env, [dr_sources] { return server::DrStatusJson(dr_sources); }, check_options);
  dr_check.AddMetrics(&metrics);
  dr_check.Start();
  if (standby) {
    standby->AddMetrics(&metrics);
    standby->Start(db.get());
  }
  if (!config.schedules.empty()) spdlog::info("{} backup schedule(s) active", config.schedules.size());
  if (!config.drills.schedules.empty()) spdlog::info("{} drill schedule(s) active", config.drills.schedules.size());
  early.Stop();
  ARK_RETURN_IF_ERROR(http.Bind());
  // The Milvus gRPC API (docs/grpc.md) runs the same routes. Without TLS it
  // shares the REST port, as Milvus does; with TLS it listens on its own.
  // Destroyed before `http`'s routes, after http.Stop() ended the handovers.
  rpc::MilvusGrpcServer grpc_api(&http, db.get(), &metrics);
  if (config.grpc.enabled) {
    if (http.SetHttp2Handler([&grpc_api](int fd) { grpc_api.Adopt(fd); })) {
      ARK_RETURN_IF_ERROR(grpc_api.Start(""));
      spdlog::info("Milvus gRPC API on the REST port {}", http.port());
    } else {
      int port = config.grpc.tls_port != 0 ? config.grpc.tls_port : (config.port == 0 ? 0 : http.port() + 1);
      ARK_RETURN_IF_ERROR(grpc_api.Start(config.host + ":" + std::to_string(port)));
      spdlog::info("Milvus gRPC API (TLS) on port {}", grpc_api.port());
    }
  }
  // Not ready while the database refuses writes (a failed WAL or manifest
  // write is sticky until restart): a load balancer can route away.
  // Nor while it may not acknowledge writes for want of its leader lease.
  http.SetReadinessCheck([&db, &lease] {
    Status health = db->Health();
    if (health.ok() && lease && !db->IsFollower()) return lease->CheckWritable();
    return health;
  });
  // A stopped archive does not make the server unready (routing traffic
  // away would not help), but /readyz says so, as do the log and metrics.
  http.SetReadinessDetails([&archiver, &lease]() -> nlohmann::json {
    nlohmann::json details = ArchiveReadiness(archiver.get());
    if (lease) details["lease"] = lease->StatusJson();
    return details;
  });
  http.SetReady(true);
  spdlog::info("ark serving on {}://{}:{} (data {}, wal sync {}, {})",
               config.tls.enabled() ? "https" : "http", config.host, http.port(),
               config.data_dir, config.wal_sync, AllocatorDescription());

  std::atomic<bool> finished{false};
  std::atomic<bool> woken{false};  // the waiter took a value from the pipe
  std::thread waiter([&] {
    int sig = 0;
    while (::read(g_stop_pipe[0], &sig, sizeof(sig)) < 0 && errno == EINTR) {
    }
    woken.store(true);
    if (finished.load()) return;  // woken by Serve() ending on its own
    if (sig == kHandoverWake) {
      spdlog::warn("stopping to come back as a standby of the new primary (switchover or failover.rejoin: auto)");
    } else {
      spdlog::info("received {}, stopping: finishing in-flight requests", strsignal(sig));
    }
    http.SetReady(false, "shutting down");
    replication.Stop();  // ends the standbys' streams, which hold worker threads
    http.Stop();
  });
  Status served = http.Serve();
  finished.store(true);
  if (!woken.load()) {
    // A value left unread would stop the next Serve() (after a switchover).
    int wake = 0;
    (void)!::write(g_stop_pipe[1], &wake, sizeof(wake));
  }
  waiter.join();
  replication.Stop();
  if (standby) standby->Stop();
  scheduler.Stop();
  drills.Stop();  // waits for a drill in progress (it cannot be cancelled)
  maintenance.Stop();
  if (archiver) archiver->Stop();  // ships what is durable once more
  if (lease) lease->Stop();  // the lease is kept: a restart renews it (or the monitor fails over)
  ARK_RETURN_IF_ERROR(served);
  ARK_RETURN_IF_ERROR(db->wal()->Flush());
  {
    std::lock_guard<std::mutex> lock(handover_mu);
    outcome->rejoin_primary = handover_to;
  }
  spdlog::info("stopped cleanly");
  return Status::OK();
}

// After a switchover: this stopped primary becomes a standby of the new one
// (ark failover rejoin's steps; a clean handover discards nothing). The new
// primary may take a moment to be promoted: asked again for up to a minute.
Status RejoinAfterHandover(const ServeOutcome& o) {
  dr::RejoinOptions r;
  r.data_dir = o.data_dir;
  r.primary_url = o.rejoin_primary;
  r.http.token = o.admin_token;
  r.http.timeout_ms = 10000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    auto report = dr::RejoinAsStandby(Env::Default(), r);
    if (report.ok()) {
      spdlog::warn("rejoining {} as standby '{}' ({} record(s) discarded; report {})", o.rejoin_primary,
                   o.name, report->value("discardedRecords", size_t{0}), report->value("reportFile", "?"));
      return Status::OK();
    }
    if (std::chrono::steady_clock::now() > deadline) return report.status().WithContext("rejoining " + o.rejoin_primary);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the new primary is being promoted
  }
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
  cmd->add_option("--witness", flags->witness,
                  "Failover witness: http://MONITOR:PORT (ark monitor) or etcd://HOST:PORT; the primary holds its "
                  "leader lease there and refuses writes without it");
  cmd->add_option("--node-name", flags->node_name, "This server's name in the failover cluster (failover.name)");
  cmd->add_flag("--no-access-log", flags->no_access_log, "Do not log each request");
  cmd->callback([flags] {
    ServeFlags current = *flags;
    while (true) {
      ServeOutcome outcome;
      Status s = Serve(current, &outcome);
      if (!s.ok()) return Fail(s);
      if (outcome.rejoin_primary.empty()) return;
      if (Status r = RejoinAfterHandover(outcome); !r.ok()) return Fail(r);
      current.standby_of = outcome.rejoin_primary;
      current.standby_name = outcome.name;
      current.data_dir = outcome.data_dir;
    }
  });
}

}  // namespace ark::cli
