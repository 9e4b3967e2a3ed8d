// The content checksum route (docs/formats/content-checksum.md):
//
//   collections/checksum  POST {"dbName"?, "collectionName"?} ->
//       {"collections": [{"database", "name", "rows", "lsn", "checksum"}]}
//       for the named collection, every collection of dbName, or (neither
//       given) every collection of every database; admin credential.
//
// Drills compare these across servers: before a failover and after it, a
// backup's recorded checksum against its restored copy. Each collection's
// checksum is of its own snapshot (its `lsn`); collections written while the
// route runs may be at different positions.
#pragma once

#include "engine/database.h"
#include "server/http_server.h"

namespace ark::server {

void RegisterChecksumRoutes(HttpServer& http, Database* db);

}  // namespace ark::server
