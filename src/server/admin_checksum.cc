#include "server/admin_checksum.h"

#include <fmt/format.h>

#include <string>

#include "engine/content_checksum.h"
#include "server/milvus_schema.h"

namespace ark::server {
namespace {

using nlohmann::json;

Result<std::string> OptionalString(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return Status::InvalidArgument(fmt::format("'{}' must be a string, got {}", key, JsonForMessage(*it)));
  }
  return it->get<std::string>();
}

Result<json> ChecksumOf(Database* db, const std::string& database, const std::string& name) {
  auto found = db->GetSnapshot(database, name);
  if (!found.ok()) {
    return found.status().WithContext(
        fmt::format("collectionName '{}', dbName '{}'", name, database.empty() ? "default" : database));
  }
  const auto& snapshot = *found;
  const ContentChecksum c = ComputeContentChecksum(*snapshot);
  ARK_RETURN_IF_ERROR(c.status);
  return json{{"database", snapshot->database()},
              {"name", snapshot->name()},
              {"rows", c.rows},
              {"lsn", c.lsn},
              {"checksum", c.checksum}};
}

}  // namespace

void RegisterChecksumRoutes(HttpServer& http, Database* db) {
  http.RegisterAdmin("collections/checksum", [db](RequestContext& ctx) -> Result<json> {
    if (!ctx.body.is_object()) return Status::InvalidArgument("the body must be a JSON object");
    ARK_ASSIGN_OR_RETURN(std::string database, OptionalString(ctx.body, "dbName"));
    ARK_ASSIGN_OR_RETURN(std::string name, OptionalString(ctx.body, "collectionName"));
    json out = json::array();
    if (!name.empty()) {
      ARK_ASSIGN_OR_RETURN(json one, ChecksumOf(db, database, name));
      out.push_back(std::move(one));
      return json{{"collections", std::move(out)}};
    }
    std::vector<std::string> databases;
    if (database.empty()) {
      databases = db->ListDatabases();
    } else {
      bool known = false;
      for (const auto& d : db->ListDatabases()) known = known || d == database;
      if (!known) return Status::NotFound(fmt::format("dbName '{}': database not found", database));
      databases.push_back(database);
    }
    for (const auto& d : databases) {
      for (const auto& info : db->ListCollections(d)) {
        auto one = ChecksumOf(db, d, info.name);
        if (!one.ok() && one.status().IsNotFound()) continue;  // dropped meanwhile
        ARK_RETURN_IF_ERROR(one.status());
        out.push_back(std::move(*one));
      }
    }
    return json{{"collections", std::move(out)}};
  });
}

}  // namespace ark::server
