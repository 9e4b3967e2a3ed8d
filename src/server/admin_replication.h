// The replication routes under /ark/v1/replication/ (protocol:
// docs/formats/replication-stream.md; guide: docs/replication.md):
//
//   bootstrap          POST {"version", "standby"}  -> manifest, files, checkpoint (replication credential)
//   bootstrap/finish   POST {"version", "standby"}  -> {}                           (replication credential)
//   stream             POST {"version", "standby", "after", "epochs"} -> message stream (raw)
//   files/<sha256>     GET  -> the file's bytes (raw)
//   feedback           POST {"version", "standby", "written", "durable", "applied"} -> primary positions
//   status             POST {} -> role, positions, standbys and lag (admin credential)
//   manifest           POST {} -> the live files (sorted) and the applied position (admin credential)
#pragma once

#include "dr/failover/lease_keeper.h"
#include "dr/replication/replication_source.h"
#include "dr/replication/standby.h"
#include "engine/database.h"
#include "server/http_server.h"

namespace ark::server {

// The replication/status document: this server's role, positions, epoch
// history and lease, the standbys it feeds (ReplicationSource::GetStatus) and,
// on a standby, its own stream's state. Shared with dr/status
// (admin_dr.h), which carries it as it is. Thread-safe.
nlohmann::json ReplicationStatusJson(Database* db, dr::ReplicationSource* source, dr::Standby* standby,
                                     dr::LeaseKeeper* lease);

// `standby` is null on a primary; `lease` is null without a failover
// witness. Everything must outlive `http`.
void RegisterReplicationRoutes(HttpServer& http, Database* db, dr::ReplicationSource* source,
                               dr::Standby* standby, dr::LeaseKeeper* lease = nullptr);

}  // namespace ark::server
