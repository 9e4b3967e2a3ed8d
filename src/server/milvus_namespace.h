// MilvusNamespaceService: the Milvus REST v2 `databases/*` and `aliases/*`
// routes over the engine's durable databases and aliases (database.h), and
// the compaction routes.
//
//   databases/create {dbName}            -> {}
//   databases/list   {}                  -> ["default", ...]
//   databases/describe {dbName}          -> {dbName, dbID, properties: [{key, value}]}
//   databases/alter  {dbName, properties: {key: value}} -> {}  (durable;
//                        "database.max.collections" is enforced)
//   databases/drop_properties {dbName, propertyKeys: [key]} -> {}
//   databases/drop   {dbName}            -> {}   (refused while it has collections)
//   aliases/create   {collectionName, aliasName} -> {}
//   aliases/alter    {collectionName, aliasName} -> {}
//   aliases/describe {aliasName}         -> {aliasName, collectionName, dbName}
//   aliases/drop     {aliasName}         -> {}
//   aliases/list     {collectionName?}   -> ["alias", ...]
//   collections/compact {collectionName}  -> {compactionID}: runs the
//                        engine's Compact synchronously (the reply comes
//                        when it is committed)
//   collections/get_compaction_state {compactionID} -> {state: "Completed",
//                        compactionID, plus the result's counts}
//
// Thread-safe: the Database is.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>

#include "engine/database.h"
#include "server/http_server.h"

namespace ark::server {

class MilvusNamespaceService {
 public:
  explicit MilvusNamespaceService(Database* db) : db_(db) {}
  void Register(HttpServer& http);

 private:
  Database* db_;
  std::mutex mu_;
  int64_t next_compaction_id_ = 1;                  // GUARDED_BY(mu_)
  std::map<int64_t, CompactionResult> compactions_;  // GUARDED_BY(mu_); last 1000
};

}  // namespace ark::server
