// The DR status route (docs/formats/dr-status.md):
//
//   dr/status   POST {} -> everything this server knows about its own
//               disaster-recovery posture: role and epoch, replication (the
//               replication/status document as it is), the WAL archive, each
//               backup schedule with the longest gap of its cron, failover,
//               every database's ark.dr.* tiers, collections and their rows,
//               and the newest drill reports (admin credential).
//
// `ark dr check --server URL` judges this document against the tiers
// (dr/drill/tiers.h) and the dashboard draws it: both read the same
// document, built by DrStatusJson.
#pragma once

#include <nlohmann/json.hpp>

#include "dr/archive/archiver.h"
#include "dr/failover/lease_keeper.h"
#include "dr/replication/replication_source.h"
#include "dr/replication/standby.h"
#include "dr/schedule/backup_scheduler.h"
#include "engine/database.h"
#include "server/http_server.h"
#include "server/server_config.h"
#include "storage/env.h"

namespace ark::server {

// What dr/status reads. Not owned; everything must outlive the routes (and
// any caller of DrStatusJson). `config` is the server's configuration with
// its real port (after a port-0 listen picked one).
struct DrStatusSources {
  const ServerConfig* config = nullptr;
  Database* db = nullptr;
  dr::BackupScheduler* scheduler = nullptr;  // its stats per schedule of config->schedules
  dr::Archiver* archiver = nullptr;          // null: archive: not configured
  dr::ReplicationSource* replication = nullptr;
  dr::Standby* standby = nullptr;    // null on a primary
  dr::LeaseKeeper* lease = nullptr;  // null without failover:
  Env* env = nullptr;                // the wall clock, and the drill reports' files
};

// The document of docs/formats/dr-status.md, as of the Env's wall clock.
// Thread-safe (every source it reads is); it reads at most 20 drill reports
// from disk and walks each schedule's cron over a year, so it costs
// milliseconds: fine for an operator or a dashboard polling every few
// seconds, not for a hot path.
nlohmann::json DrStatusJson(const DrStatusSources& sources);

// Registers dr/status (admin credential).
void RegisterDrRoutes(HttpServer& http, DrStatusSources sources);

}  // namespace ark::server
