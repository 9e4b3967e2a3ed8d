#include "server/milvus_service.h"

#include "server/milvus_schema.h"

namespace ark::server {
namespace {

using nlohmann::json;

[[noreturn]] void ThrowApi(MilvusCode code, std::string message) {
  throw HandlerError{{code, std::move(message), 200}};
}

json KeyToJson(const PrimaryKey& key, bool int64_as_string) {
  if (const auto* i = std::get_if<int64_t>(&key)) {
    return int64_as_string ? json(std::to_string(*i)) : json(*i);
  }
  return json(std::get<std::string>(key));
}

Result<std::vector<PrimaryKey>> KeysFromJson(const json& ids, const FieldSchema& pk,
                                             const std::string& collection) {
  json list = ids.is_array() ? ids : json::array({ids});
  std::vector<PrimaryKey> keys;
  for (const json& v : list) {
    if (pk.type == DataType::kInt64) {
      if (v.is_number_integer()) {
        keys.emplace_back(v.get<int64_t>());
        continue;
      }
      if (v.is_string()) {  // int64 ids travel as strings when clients avoid precision loss
        const std::string& s = v.get_ref<const std::string&>();
        char* end = nullptr;
        errno = 0;
        long long n = std::strtoll(s.c_str(), &end, 10);
        if (!s.empty() && *end == '\0' && errno == 0) {
          keys.emplace_back(static_cast<int64_t>(n));
          continue;
        }
      }
    } else if (v.is_string()) {
      keys.emplace_back(v.get<std::string>());
      continue;
    }
    return Status::InvalidArgument("collection " + collection + ": id " + v.dump() +
                                   " is not a valid " + std::string(DataTypeName(pk.type)) +
                                   " primary key");
  }
  return keys;
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
  http.RegisterMilvus("entities/insert",
                      [this](RequestContext& c) { return Write(c, WriteKind::kInsert); });
  http.RegisterMilvus("entities/upsert",
                      [this](RequestContext& c) { return Write(c, WriteKind::kUpsert); });
  http.RegisterMilvus("entities/get", bind(&MilvusService::Get));
  http.SetErrorMapper([](const std::string& route, const Status& s) {
    ApiError e = ApiErrorFromStatus(s);
    if (s.IsNotFound() && s.message().find("can't find collection") == std::string::npos) {
      e.code = MilvusCode::kInvalidParameter;  // NotFound of something other than a collection
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

bool MilvusService::IsLoaded(const std::string& db, const std::string& name) {
  std::lock_guard lock(mu_);
  return released_.count({db, name}) == 0;
}

Result<json> MilvusService::CreateCollection(RequestContext& ctx) {
  ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "collectionName"));
  ARK_ASSIGN_OR_RETURN(CollectionSchema schema, SchemaFromCreateRequest(ctx.body, name));
  ARK_RETURN_IF_ERROR(db_->CreateCollection(ctx.db_name, name, schema).status());
  std::lock_guard lock(mu_);
  released_.erase({ctx.db_name, name});
  return json::object();
}

Result<json> MilvusService::ListCollections(RequestContext& ctx) {
  json names = json::array();
  for (const auto& c : db_->ListCollections(ctx.db_name)) names.push_back(c.name);
  return names;
}

Result<json> MilvusService::HasCollection(RequestContext& ctx) {
  ARK_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "collectionName"));
  return json{{"has", db_->DescribeCollection(ctx.db_name, name).ok()}};
}

Result<json> MilvusService::DescribeCollection(RequestContext& ctx) {
  std::string name;
  ARK_ASSIGN_OR_RETURN(CollectionInfo info, Find(ctx, &name));
  return DescribeCollectionJson(info, IsLoaded(ctx.db_name, name));
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
  std::string new_db = ctx.body.value("newDbName", ctx.db_name);
  ARK_RETURN_IF_ERROR(db_->RenameCollection(ctx.db_name, name, new_db, new_name).status());
  return json::object();
}

Result<json> MilvusService::GetStats(RequestContext& ctx) {
  std::string name;
  ARK_ASSIGN_OR_RETURN(CollectionInfo info, Find(ctx, &name));
  return json{{"rowCount", info.live_rows}};
}

Result<json> MilvusService::SetLoaded(RequestContext& ctx, bool loaded) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  std::lock_guard lock(mu_);
  if (loaded) {
    released_.erase({ctx.db_name, name});
  } else {
    released_.insert({ctx.db_name, name});
  }
  return json::object();
}

Result<json> MilvusService::GetLoadState(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  if (IsLoaded(ctx.db_name, name)) {
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
  ARK_ASSIGN_OR_RETURN(RowBatch batch, RowBatchFromJson(info.schema, name, rows, kind));
  Result<WriteResult> written = kind == WriteKind::kInsert
                                    ? db_->Insert(ctx.db_name, name, std::move(batch))
                                    : db_->Upsert(ctx.db_name, name, std::move(batch));
  if (!written.ok()) return written.status();
  json ids = json::array();
  for (const auto& k : written->keys) ids.push_back(KeyToJson(k, ctx.int64_as_string));
  if (kind == WriteKind::kInsert) return json{{"insertCount", written->count}, {"insertIds", ids}};
  return json{{"upsertCount", written->count}, {"upsertIds", ids}};
}

Result<json> MilvusService::Get(RequestContext& ctx) {
  std::string name;
  ARK_ASSIGN_OR_RETURN(CollectionInfo info, Find(ctx, &name));
  auto ids = ctx.body.find("id");
  if (ids == ctx.body.end() || ids->is_null()) {
    ThrowApi(MilvusCode::kMissingParameter, "missing required parameters, error: id is required");
  }
  ARK_ASSIGN_OR_RETURN(auto keys, KeysFromJson(*ids, info.schema.PrimaryKey(), name));
  ARK_ASSIGN_OR_RETURN(RowBatch rows, db_->Get(ctx.db_name, name, keys));
  json out = RowBatchToJson(info.schema, rows);
  if (ctx.int64_as_string) {
    const std::string& pk = info.schema.PrimaryKey().name;
    for (auto& row : out) {
      if (row.contains(pk) && row[pk].is_number_integer()) {
        row[pk] = std::to_string(row[pk].get<int64_t>());
      }
    }
  }
  return out;
}

}  // namespace ark::server
