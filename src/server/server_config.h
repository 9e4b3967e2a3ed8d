// ServerConfig: what `ark serve` reads from its YAML file (--config), then
// overrides from flags. Every field has an embedded default, so Ark runs with
// no file at all: data in ./ark-data, listening on 127.0.0.1:19530.
//
// Loading is strict: an unknown key, a value of the wrong type or out of range
// is an InvalidArgument that names the key path (e.g. "limits.max_body_bytes")
// and the file, so a typo never silently falls back to a default.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "dr/archive/archiver.h"
#include "dr/drill/drill_schedule_config.h"
#include "dr/failover/failover_config.h"
#include "dr/replication/replication_config.h"
#include "dr/schedule/schedule_config.h"

namespace ark::server {

struct TlsConfig {
  std::string cert_file;  // PEM; TLS is on when both files are set
  std::string key_file;
  bool enabled() const { return !cert_file.empty() && !key_file.empty(); }
};

struct AuthConfig {
  // Accepted bearer credentials: a token, or "user:password" for a configured user.
  std::string token;
  std::map<std::string, std::string> users;  // user -> password
  // When set, /ark/v1 admin routes require this credential instead.
  std::string admin_token;
  // When set, the replication routes (/ark/v1/replication/*, used by
  // standbys) require this credential and refuse every other one; it is
  // accepted nowhere else. Unset: they follow the admin rule.
  std::string replication_token;
  // User and admin authentication (the replication token alone leaves the
  // Milvus and admin routes open, as with no auth: section).
  bool enabled() const { return !token.empty() || !users.empty() || !admin_token.empty(); }
};

struct LimitsConfig {
  uint64_t max_body_bytes = 64ull << 20;
  uint64_t max_rows_per_insert = 100000;
  uint64_t max_limit_offset = 16384;  // Milvus's topK + offset bound
  uint32_t max_concurrent_requests = 64;
  double default_request_timeout_seconds = 30;
  uint32_t worker_threads = 16;
  // Requests served on one keep-alive connection before the server closes
  // it. A connection holds a worker thread while open (cpp-httplib), so this
  // also bounds how long other connections can wait for one.
  uint32_t keep_alive_max_requests = 100;
};

// One scheduled backup (docs/schedules.md): `schedules:` in the YAML file.
// Defined by the dr layer, which runs the schedules.
using BackupScheduleConfig = dr::BackupScheduleConfig;

// Scheduled drills (docs/drills.md, "Scheduled drills"): `drills.schedules:`.
// Defined by the dr layer, which runs them.
using DrillScheduleConfig = dr::DrillScheduleConfig;

struct DrillsConfig {
  std::string report_dir;
  std::vector<DrillScheduleConfig> schedules;
  // `ark dr check` run by the server itself this often (0: never); its last
  // result is on /metrics and in the log.
  double check_interval_seconds = 300;
};

// The Milvus gRPC API (docs/grpc.md): `grpc:`.
struct GrpcConfig {
  bool enabled = true;
  // Without TLS gRPC shares the REST port (HTTP/2 connections are handed
  // over). With TLS it needs its own: this port, or when 0 the REST port + 1
  // (any free port when the REST port is 0).
  int tls_port = 0;
};

struct ServerConfig {
  std::string data_dir = "./ark-data";
  std::string host = "127.0.0.1";
  int port = 19530;
  TlsConfig tls;
  GrpcConfig grpc;
  AuthConfig auth;
  LimitsConfig limits;
  std::string wal_sync = "every_commit";  // every_commit | batched | none
  // The WAL rotates to a new segment file past this size; whole segments no
  // checkpoint, slot or pin needs are removed (so smaller segments free
  // space sooner, at the cost of more files).
  uint64_t wal_segment_bytes = 64ull << 20;
  bool access_log = true;
  std::string log_level = "info";
  // A collection's unsealed rows are sealed once the oldest is this old, even
  // if no write comes to trigger it (the background maintenance loop), so an
  // idle collection never holds the WAL checkpoint back for good.
  double seal_age_seconds = 600;
  std::vector<BackupScheduleConfig> schedules;
  // Continuous WAL archiving (docs/archive.md): `archive:`; off without a repo.
  dr::ArchiveConfig archive;
  // Replication (docs/replication.md): `replication:`; a standby when
  // replication.primary (or --standby-of) is set.
  dr::ReplicationConfig replication;
  // Failover (docs/failover.md): `failover:`; the leader lease at a witness.
  dr::FailoverConfig failover;
  // Drills (docs/drills.md): `drills:`. Where their reports are kept and read
  // from (the dashboard, `dr/status`); empty = <data_dir>/drills. And the
  // drills `ark serve` runs on a schedule (restore-check only).
  DrillsConfig drills;

  // The drills' report directory, after the default.
  std::string DrillReportDir() const;

  // Parses YAML text; `source` names the file in error messages.
  static Result<ServerConfig> FromYaml(const std::string& text, const std::string& source);
  static Result<ServerConfig> FromFile(const std::string& path);
  // Cross-field checks (port range, TLS file pairs, enum values).
  Status Validate() const;
};

// Parses "HOST:PORT" (or ":PORT") into host and port.
Status ParseListenAddress(const std::string& text, std::string* host, int* port);

}  // namespace ark::server
