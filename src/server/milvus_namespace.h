// MilvusNamespaceService: the Milvus REST v2 `databases/*` and `aliases/*`
// routes over the engine's durable databases and aliases (database.h).
//
//   databases/create {dbName}            -> {}
//   databases/list   {}                  -> ["default", ...]
//   databases/describe {dbName}          -> {dbName, dbID, properties: []}
//   databases/drop   {dbName}            -> {}   (refused while it has collections)
//   aliases/create   {collectionName, aliasName} -> {}
//   aliases/alter    {collectionName, aliasName} -> {}
//   aliases/describe {aliasName}         -> {aliasName, collectionName, dbName}
//   aliases/drop     {aliasName}         -> {}
//   aliases/list     {collectionName?}   -> ["alias", ...]
//
// databases/alter (properties) is not implemented and answers the generic
// unknown-route error. Thread-safe: the Database is.
#pragma once

#include "engine/database.h"
#include "server/http_server.h"

namespace ark::server {

class MilvusNamespaceService {
 public:
  explicit MilvusNamespaceService(Database* db) : db_(db) {}
  void Register(HttpServer& http);

 private:
  Database* db_;
};

}  // namespace ark::server
