#include "server/milvus_namespace.h"

#include <functional>

#include "server/milvus_error.h"
#include "server/milvus_properties.h"
#include "server/milvus_schema.h"

namespace ark::server {
namespace {

using nlohmann::json;

[[noreturn]] void Throw(MilvusCode code, std::string message) {
  throw HandlerError{{code, std::move(message), 200}};
}

// Engine statuses to Milvus's codes for these routes.
Status Map(const Status& s, MilvusCode not_found) {
  if (s.ok()) return s;
  if (s.IsNotFound()) Throw(not_found, s.message());
  if (s.Is(StatusCode::kAlreadyExists) || s.Is(StatusCode::kFailedPrecondition) ||
      s.Is(StatusCode::kInvalidArgument)) {
    Throw(MilvusCode::kInvalidParameter, s.message());
  }
  return s;
}

std::string DbOf(const RequestContext& ctx) {
  return ctx.db_name.empty() ? std::string(kDefaultDatabase) : ctx.db_name;
}

}  // namespace

void MilvusNamespaceService::Register(HttpServer& http) {
  http.RegisterMilvus("databases/create", [this](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "dbName"));
    ARK_RETURN_IF_ERROR(Map(db_->CreateDatabase(name).status(), MilvusCode::kDatabaseNotFound));
    return json::object();
  });
  http.RegisterMilvus("databases/list", [this](RequestContext&) -> Result<json> {
    return json(db_->ListDatabases());
  });
  http.RegisterMilvus("databases/describe", [this](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "dbName"));
    if (!db_->HasDatabase(name)) Throw(MilvusCode::kDatabaseNotFound, "database not found[database=" + name + "]");
    // A stable id: the position of the name in the sorted list (Ark keeps no
    // numeric database ids).
    auto all = db_->ListDatabases();
    int64_t id = std::find(all.begin(), all.end(), name) - all.begin();
    ARK_ASSIGN_OR_RETURN(auto props, db_->DatabaseProperties(name));
    json properties = json::array();
    for (const auto& [k, v] : props) properties.push_back({{"key", k}, {"value", v}});
    return json{{"dbName", name}, {"dbID", id}, {"properties", properties}};
  });
  // databases/alter {dbName, properties: {key: value}} (milvus_properties.h).
  http.RegisterMilvus("databases/alter", [this](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "dbName"));
    auto set = PropertiesFromBody(ctx.body);
    ARK_RETURN_IF_ERROR(Map(db_->AlterDatabaseProperties(name, set, {}).status(), MilvusCode::kDatabaseNotFound));
    return json::object();
  });
  // databases/drop_properties {dbName, propertyKeys: [key]}
  http.RegisterMilvus("databases/drop_properties", [this](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "dbName"));
    auto keys = PropertyKeysFromBody(ctx.body);
    ARK_RETURN_IF_ERROR(Map(db_->AlterDatabaseProperties(name, {}, keys).status(), MilvusCode::kDatabaseNotFound));
    return json::object();
  });
  http.RegisterMilvus("databases/drop", [this](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "dbName"));
    auto r = db_->DropDatabase(name);
    if (!r.ok() && r.status().IsNotFound()) {
      Throw(MilvusCode::kDatabaseNotFound, "database not found[database=" + name + "]");
    }
    ARK_RETURN_IF_ERROR(Map(r.status(), MilvusCode::kDatabaseNotFound));
    return json::object();
  });
  auto set_alias = [this](RequestContext& ctx, bool replace) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string collection, RequiredString(ctx.body, "collectionName"));
    ARK_ASSIGN_OR_RETURN(std::string alias, RequiredString(ctx.body, "aliasName"));
    auto r = db_->CreateAlias(DbOf(ctx), alias, collection, replace);
    if (!r.ok() && r.status().IsNotFound() && r.status().message().find("collection") != std::string::npos) {
      Throw(MilvusCode::kCollectionNotFound,
            "can't find collection[database=" + DbOf(ctx) + "][collection=" + collection + "]");
    }
    ARK_RETURN_IF_ERROR(Map(r.status(), MilvusCode::kInvalidParameter));
    return json::object();
  };
  http.RegisterMilvus("aliases/create", [set_alias](RequestContext& ctx) { return set_alias(ctx, false); });
  http.RegisterMilvus("aliases/alter", [set_alias](RequestContext& ctx) { return set_alias(ctx, true); });
  http.RegisterMilvus("aliases/describe", [this](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string alias, RequiredString(ctx.body, "aliasName"));
    auto r = db_->DescribeAlias(DbOf(ctx), alias);
    ARK_RETURN_IF_ERROR(Map(r.status(), MilvusCode::kInvalidParameter));
    return json{{"aliasName", alias}, {"collectionName", *r}, {"dbName", DbOf(ctx)}};
  });
  http.RegisterMilvus("aliases/drop", [this](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string alias, RequiredString(ctx.body, "aliasName"));
    ARK_RETURN_IF_ERROR(Map(db_->DropAlias(DbOf(ctx), alias).status(), MilvusCode::kInvalidParameter));
    return json::object();
  });
  http.RegisterMilvus("collections/compact", [this](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "collectionName"));
    // Only a missing collection is "collection not found"; any other
    // NotFound from inside the compaction (a file) is an internal error.
    if (!db_->DescribeCollection(DbOf(ctx), name).ok()) {
      Throw(MilvusCode::kCollectionNotFound,
            "can't find collection[database=" + DbOf(ctx) + "][collection=" + name + "]");
    }
    auto r = db_->Compact(DbOf(ctx), name);
    if (!r.ok() && r.status().IsNotFound()) return Status::Internal("compaction failed: " + r.status().message());
    ARK_RETURN_IF_ERROR(Map(r.status(), MilvusCode::kInvalidParameter));
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t id = next_compaction_id_++;
    compactions_[id] = *r;
    while (compactions_.size() > 1000) compactions_.erase(compactions_.begin());
    return json{{"compactionID", id}};
  });
  http.RegisterMilvus("collections/get_compaction_state", [this](RequestContext& ctx) -> Result<json> {
    auto it = ctx.body.find("compactionID");
    if (it == ctx.body.end() || it->is_null()) {
      Throw(MilvusCode::kMissingParameter, "missing required parameters, error: compactionID is required");
    }
    if (!it->is_number_integer()) Throw(MilvusCode::kInvalidParameter, "compactionID must be an integer");
    std::lock_guard<std::mutex> lock(mu_);
    auto c = compactions_.find(it->get<int64_t>());
    if (c == compactions_.end()) {
      Throw(MilvusCode::kInvalidParameter, "unknown compactionID " + it->dump());
    }
    const CompactionResult& r = c->second;
    return json{{"compactionID", c->first},
                {"state", "Completed"},
                {"executingPlanNo", 0},
                {"timeoutPlanNo", 0},
                {"completedPlanNo", r.segments_before > 0 ? 1 : 0},
                {"segmentsBefore", r.segments_before},
                {"segmentsAfter", r.segments_after},
                {"rowsBefore", r.rows_before},
                {"rowsAfter", r.rows_after}};
  });
  http.RegisterMilvus("aliases/list", [this](RequestContext& ctx) -> Result<json> {
    std::string collection;
    if (auto it = ctx.body.find("collectionName"); it != ctx.body.end() && !it->is_null()) {
      if (!it->is_string()) Throw(MilvusCode::kInvalidParameter, "collectionName must be a string");
      collection = it->get<std::string>();
    }
    if (!db_->HasDatabase(DbOf(ctx))) Throw(MilvusCode::kDatabaseNotFound, "database not found[database=" + DbOf(ctx) + "]");
    auto r = db_->ListAliases(DbOf(ctx), collection);
    if (!r.ok() && r.status().IsNotFound()) {
      Throw(MilvusCode::kCollectionNotFound,
            "can't find collection[database=" + DbOf(ctx) + "][collection=" + collection + "]");
    }
    ARK_RETURN_IF_ERROR(r.status());
    return json(*r);
  });
}

}  // namespace ark::server
