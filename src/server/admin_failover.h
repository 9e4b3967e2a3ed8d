// Planned switchover, the primary's side (docs/failover.md, "Switchover"):
//
//   failover/handover         POST {"standby", "maxLagSeconds"?, "timeoutMs"?}
//       refuses unless this server is a primary holding its lease and the
//       named standby is connected and at most maxLagSeconds (default 30)
//       behind; then blocks writes, waits (timeoutMs, default 10000) until
//       the standby has every record durably, and gives the lease up at the
//       witness so the standby can claim it at once.
//       -> {"position", "waitedMs"}
//   failover/handover/abort   POST {}  writes again (the lease reclaimed)
//   failover/handover/finish  POST {"primary"}  this server restarts as a
//       standby of the new primary (it rejoins: ark failover rejoin's steps,
//       nothing to discard) once the answer is sent.
#pragma once

#include <functional>
#include <string>

#include "dr/failover/lease_keeper.h"
#include "dr/replication/replication_source.h"
#include "engine/database.h"
#include "server/http_server.h"

namespace ark::server {

// `restart_as_standby(primary_url)` is called after finish's answer is
// queued; the server then stops and comes back as a standby.
void RegisterFailoverRoutes(HttpServer& http, Database* db, dr::ReplicationSource* source, dr::LeaseKeeper* lease,
                            std::function<void(const std::string&)> restart_as_standby);

}  // namespace ark::server
