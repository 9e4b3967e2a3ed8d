#include "server/milvus_service.h"

#include "server/milvus_fast_request.h"
#include "server/milvus_request.h"
#include "server/milvus_schema.h"

namespace ark::server {
namespace {

using nlohmann::json;

json KeyToJson(const PrimaryKey& key, bool int64_as_string) {
  if (const auto* i = std::get_if<int64_t>(&key)) {
    return int64_as_string ? json(std::to_string(*i)) : json(*i);
  }
  return json(std::get<std::string>(key));
}

}  // namespace

void MilvusService::Register(HttpServer& http) {
  auto bind = [this](auto method) {
    return [this, method](RequestContext& ctx) { return (this->*method)(ctx); };
  };
  http.RegisterMilvus("collections/create", bind(&MilvusService::CreateCollection));
  http.RegisterMilvus("collections/list", bind(&MilvusService::ListCollections));
  http.RegisterMilvus("collections/has", bind(&MilvusService::HasCollection));
  http.RegisterMilvus("collections/describe", bind(&MilvusService::DescribeCollection));
  http.RegisterMilvus("collections/drop", bind(&MilvusService::DropCollection));
  http.RegisterMilvus("collections/rename", bind(&MilvusService::RenameCollection));
  http.RegisterMilvus("collections/get_stats", bind(&MilvusService::GetStats));
  http.RegisterMilvus("collections/get_load_state", bind(&MilvusService::GetLoadState));
  http.RegisterMilvus("collections/flush", bind(&MilvusService::Flush));
  http.RegisterMilvus("collections/load", [this](RequestContext& c) { return SetLoaded(c, true); });
  http.RegisterMilvus("collections/refresh_load",
                      [this](RequestContext& c) { return SetLoaded(c, true); });
  http.RegisterMilvus("collections/release",
                      [this](RequestContext& c) { return SetLoaded(c, false); });
  http.RegisterMilvus("collections/alter_properties", bind(&MilvusService::AlterProperties));
  http.RegisterMilvus("collections/drop_properties", bind(&MilvusService::DropProperties));
  // The hot routes parse their bodies with simdjson (milvus_fast_request.h).
  http.RegisterMilvusFast("entities/insert", ParseWriteBody,
                          [this](RequestContext& c) { return Write(c, WriteKind::kInsert); });
  http.RegisterMilvusFast("entities/upsert", ParseWriteBody,
                          [this](RequestContext& c) { return Write(c, WriteKind::kUpsert); });
  http.RegisterMilvus("entities/get", bind(&MilvusService::Get));
  http.RegisterMilvusFast("entities/search", ParseSearchBody, bind(&MilvusService::Search));
  http.RegisterMilvus("entities/hybrid_search", bind(&MilvusService::HybridSearch));
  http.RegisterMilvus("entities/query", bind(&MilvusService::Query));
  http.RegisterMilvus("entities/delete", bind(&MilvusService::Delete));
  RegisterPartitions(http);  // milvus_partitions.cc
  http.RegisterMilvus("indexes/create", bind(&MilvusService::CreateIndex));
  http.RegisterMilvus("indexes/list", bind(&MilvusService::ListIndexes));
  http.RegisterMilvus("indexes/describe", bind(&MilvusService::DescribeIndex));
  http.RegisterMilvus("indexes/drop", bind(&MilvusService::DropIndex));
  http.SetErrorMapper([](const std::string& route, const Status& s) {
    ApiError e = ApiErrorFromStatus(s);
    if (s.IsNotFound() && s.message().find("can't find collection") == std::string::npos) {
      // NotFound of something other than a collection: an index (700) or a parameter.
      e.code = route.find("/indexes/") != std::string::npos ? MilvusCode::kIndexNotFound
                                                            : MilvusCode::kInvalidParameter;
    }
    if (s.IsNotFound() && s.message().find("partition not found") != std::string::npos) {
      e.code = static_cast<MilvusCode>(200);  // Milvus merr ErrPartitionNotFound
      return e;
    }
    if (route.find("entities/insert") != std::string::npos ||
        route.find("entities/upsert") != std::string::npos) {
      if (s.Is(StatusCode::kInvalidArgument)) e.code = MilvusCode::kInsertDataError;
      if (s.Is(StatusCode::kAlreadyExists)) e.code = MilvusCode::kPrimaryKeyCheckFailed;
    }
    return e;
  });
}

Result<CollectionInfo> MilvusService::Find(RequestContext& ctx, std::string* name) {
  ARK_ASSIGN_OR_RETURN(*name, RequiredString(ctx.body, "collectionName"));
  auto info = db_->DescribeCollection(ctx.db_name, *name);
  if (!info.ok() && info.status().IsNotFound()) {
    return Status::NotFound("can't find collection[database=" + ctx.db_name + "][collection=" +
                            *name + "]");
  }
  return info;
}

Result<json> MilvusService::CreateCollection(RequestContext& ctx) {
  ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "collectionName"));
  ARK_ASSIGN_OR_RETURN(CollectionSchema schema, SchemaFromCreateRequest(ctx.body, name));
  schema.partition_column = true;  // rows carry their partition (engine/schema.h)
  // Index declarations are validated before the collection exists, so a bad
  // one leaves nothing behind. Quick create indexes its vector field
  // (AUTOINDEX with the requested metric), as Milvus does.
  std::vector<IndexRequest> indexes;
  if (auto p = ctx.body.find("indexParams"); p != ctx.body.end() && !p->is_null()) {
    ARK_ASSIGN_OR_RETURN(indexes, IndexRequestsFromJson(*p, schema, name));
  } else if (!ctx.body.contains("schema")) {
    json quick = json::array({json{{"fieldName", schema.fields[1].name},
                                   {"indexName", schema.fields[1].name},
                                   {"metricType", ctx.body.value("metricType", json("COSINE"))}}});
    ARK_ASSIGN_OR_RETURN(indexes, IndexRequestsFromJson(quick, schema, name));
  }
  if (Status created = db_->CreateCollection(ctx.db_name, name, schema).status(); !created.ok()) {
    // database.max.collections reached (engine FailedPrecondition).
    if (created.Is(StatusCode::kFailedPrecondition)) ThrowApi(MilvusCode::kInvalidParameter, created.message());
    return created;
  }
  for (const IndexRequest& r : indexes) {
    ARK_RETURN_IF_ERROR(db_->CreateIndex(ctx.db_name, name, r.index_name, r.field, r.type,
                                         r.metric, r.params)
                            .status());
  }
  return json::object();  // a new collection is loaded (the engine's default)
}

// An unknown dbName is 800, as Milvus answers, not an empty list.
void MilvusService::RequireDatabase(const RequestContext& ctx) {
  if (!db_->HasDatabase(ctx.db_name)) {
    ThrowApi(MilvusCode::kDatabaseNotFound, "database not found[database=" + ctx.db_name + "]");
  }
}

Result<json> MilvusService::ListCollections(RequestContext& ctx) {
  RequireDatabase(ctx);
  json names = json::array();
  for (const auto& c : db_->ListCollections(ctx.db_name)) names.push_back(c.name);
  return names;
}

Result<json> MilvusService::HasCollection(RequestContext& ctx) {
  ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "collectionName"));
  RequireDatabase(ctx);
  return json{{"has", db_->DescribeCollection(ctx.db_name, name).ok()}};
}

Result<json> MilvusService::DescribeCollection(RequestContext& ctx) {
  std::string name;
  ARK_ASSIGN_OR_RETURN(CollectionInfo info, Find(ctx, &name));
  json out = DescribeCollectionJson(info, !info.load.released);
  out["indexes"] = IndexesJson(ctx.db_name, name);
  json properties = json::array();
  for (const auto& [k, v] : info.properties) properties.push_back({{"key", k}, {"value", v}});
  out["properties"] = std::move(properties);
  return out;
}

Result<json> MilvusService::DropCollection(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  ARK_RETURN_IF_ERROR(db_->DropCollection(ctx.db_name, name).status());
  return json::object();
}

Result<json> MilvusService::RenameCollection(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  ARK_ASSIGN_OR_RETURN(std::string new_name, RequiredString(ctx.body, "newCollectionName"));
  ARK_ASSIGN_OR_RETURN(std::string new_db, OptionalString(ctx.body, "newDbName", ctx.db_name));
  if (new_db.empty()) new_db = ctx.db_name;
  ARK_RETURN_IF_ERROR(db_->RenameCollection(ctx.db_name, name, new_db, new_name).status());
  return json::object();
}

Result<json> MilvusService::GetStats(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  // The rows a read sees (the snapshot), as partitions/get_stats and
  // count(*) count them: CollectionInfo::live_rows also holds rows whose WAL
  // write failed, until a restart drops them.
  ARK_ASSIGN_OR_RETURN(auto snap, db_->GetSnapshot(ctx.db_name, name));
  return json{{"rowCount", snap->CountRows()}};
}

Result<json> MilvusService::SetLoaded(RequestContext& ctx, bool loaded) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  ARK_RETURN_IF_ERROR(ChangeLoadState(ctx, name, [loaded](CollectionLoadState* state) {
    *state = CollectionLoadState{};
    state->released = !loaded;
    return Status::OK();
  }));
  return json::object();
}

Status MilvusService::ChangeLoadState(RequestContext& ctx, const std::string& name,
                                      const std::function<Status(CollectionLoadState*)>& change) {
  std::lock_guard lock(load_mu_);
  ARK_ASSIGN_OR_RETURN(CollectionInfo info, db_->DescribeCollection(ctx.db_name, name));
  CollectionLoadState state = info.load;
  ARK_RETURN_IF_ERROR(change(&state));
  return db_->SetLoadState(ctx.db_name, name, state).status();
}

Result<json> MilvusService::GetLoadState(RequestContext& ctx) {
  std::string name;
  ARK_ASSIGN_OR_RETURN(CollectionInfo info, Find(ctx, &name));
  ARK_ASSIGN_OR_RETURN(auto parts, PartitionNamesFromBody(ctx.body, "partitionNames"));
  bool loaded = !info.load.released;
  if (loaded && !parts.empty()) {
    ARK_ASSIGN_OR_RETURN(auto snap, db_->GetSnapshot(ctx.db_name, name));
    for (const auto& p : parts) {
      if (!snap->PartitionId(p).ok()) {
        ThrowApi(static_cast<MilvusCode>(200), "partition not found[partition=" + p + "]");
      }
      loaded = loaded && info.load.PartitionLoaded(p);
    }
  }
  if (loaded) {
    return json{{"loadState", "LoadStateLoaded"}, {"loadProgress", 100}};
  }
  return json{{"loadState", "LoadStateNotLoad"}};
}

Result<json> MilvusService::Flush(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  ARK_RETURN_IF_ERROR(db_->Flush(ctx.db_name, name));
  return json::object();
}

Result<json> MilvusService::Write(RequestContext& ctx, WriteKind kind) {
  std::string name;
  ARK_ASSIGN_OR_RETURN(CollectionInfo info, Find(ctx, &name));
  RowBatch batch;
  bool built = false;
  if (auto* columnar = dynamic_cast<ColumnarWrite*>(ctx.parsed.get())) {
    std::optional<RowBatch> rows;
    if (columnar->num_rows > 0 && columnar->num_rows <= limits_.max_rows_per_insert) {
      rows = columnar->build(info.schema, kind);
    }
    if (rows) {
      batch = std::move(*rows);
      built = true;
    } else {
      ctx.body["data"] = columnar->rows(info.schema);  // the generic path below names the problem
    }
    ctx.parsed.reset();
  }
  if (built) {
    // columns taken as they came
  } else if (auto* fast = dynamic_cast<FastWriteRequest*>(ctx.parsed.get())) {
    // Any problem with the rows: the generic path below finds and names it.
    std::optional<RowBatch> rows;
    if (fast->has_data) {
      rows = RowBatchFromDom(info.schema, fast->data, kind, limits_.max_rows_per_insert);
    }
    if (!rows) throw ReparseBody{};
    batch = std::move(*rows);
    ctx.parsed.reset();  // hand the DOM parser back before the engine's work
  } else {
    auto data = ctx.body.find("data");
    if (data == ctx.body.end() || data->is_null()) {
      ThrowApi(MilvusCode::kMissingParameter, "missing required parameters, error: data is required");
    }
    json rows = data->is_array() ? std::move(*data) : json::array({std::move(*data)});
    if (rows.empty()) return Status::InvalidArgument("collection " + name + ": data is empty");
    if (rows.size() > limits_.max_rows_per_insert) {
      return Status::InvalidArgument("collection " + name + ": " + std::to_string(rows.size()) +
                                     " rows in one request exceed limits.max_rows_per_insert (" +
                                     std::to_string(limits_.max_rows_per_insert) + ")");
    }
    ARK_ASSIGN_OR_RETURN(batch, RowBatchFromJson(info.schema, name, rows, kind));
  }
  ARK_ASSIGN_OR_RETURN(std::string partition, OptionalString(ctx.body, "partitionName"));
  Result<WriteResult> written = kind == WriteKind::kInsert
                                    ? db_->Insert(ctx.db_name, name, std::move(batch), partition)
                                    : db_->Upsert(ctx.db_name, name, std::move(batch), partition);
  if (!written.ok()) return written.status();
  json ids = json::array();
  for (const auto& k : written->keys) ids.push_back(KeyToJson(k, ctx.int64_as_string));
  if (kind == WriteKind::kInsert) return json{{"insertCount", written->count}, {"insertIds", ids}};
  return json{{"upsertCount", written->count}, {"upsertIds", ids}};
}

}  // namespace ark::server
