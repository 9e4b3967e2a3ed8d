// MilvusService: partitions/* routes and the load state of partitions.
//
//   partitions/create    {collectionName, partitionName}      -> {}
//   partitions/drop      {collectionName, partitionName}      -> {} (refused while loaded)
//   partitions/has       {collectionName, partitionName}      -> {has}
//   partitions/list      {collectionName}                     -> ["_default", ...]
//   partitions/load      {collectionName, partitionNames: []} -> {}
//   partitions/release   {collectionName, partitionNames: []} -> {}
//   partitions/get_stats {collectionName, partitionName}      -> {rowCount}
//
// Load state (the engine's durable CollectionLoadState): a collection is
// released, partly loaded (only these partitions), or loaded. Reads of a
// partly loaded collection see only its loaded partitions; naming a released
// partition in partitionNames is code 201 (partition not loaded). A partition
// created while the collection is partly loaded is loaded (the engine does it,
// as Milvus 2.4 does).
#include <algorithm>

#include "server/milvus_request.h"
#include "server/milvus_schema.h"
#include "server/milvus_service.h"

namespace ark::server {
namespace {

using nlohmann::json;

// Milvus merr codes for partitions.
constexpr MilvusCode kPartitionNotFound = static_cast<MilvusCode>(200);
constexpr MilvusCode kPartitionNotLoaded = static_cast<MilvusCode>(201);

// partitionNames: an array of non-empty strings; absent/null = empty.
Result<std::vector<std::string>> PartitionNames(const json& body, const char* key, bool required) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) ThrowMissing(key);
    return std::vector<std::string>{};
  }
  if (!it->is_array()) {
    return Status::InvalidArgument(std::string(key) + " must be an array of partition names, got " +
                                   it->dump());
  }
  std::vector<std::string> out;
  for (const json& v : *it) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
      return Status::InvalidArgument(std::string(key) + " must hold non-empty strings, got " + v.dump());
    }
    out.push_back(v.get<std::string>());
  }
  if (required && out.empty()) {
    return Status::InvalidArgument(std::string(key) + " must name at least one partition");
  }
  return out;
}

// Engine NotFound of a partition -> code 200 with Milvus's message.
Status MapPartitionStatus(const Status& s) {
  if (!s.ok() && s.IsNotFound() && s.message().find("partition not found") != std::string::npos) {
    ThrowApi(kPartitionNotFound, s.message());
  }
  return s;
}

}  // namespace

Result<std::vector<std::string>> MilvusService::PartitionNamesFromBody(const json& body,
                                                                       const char* key) {
  return PartitionNames(body, key, false);
}

void MilvusService::RegisterPartitions(HttpServer& http) {
  http.RegisterMilvus("partitions/create", [this](RequestContext& ctx) -> Result<json> {
    std::string name;
    ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
    ARK_ASSIGN_OR_RETURN(std::string partition, RequiredString(ctx.body, "partitionName"));
    auto r = db_->CreatePartition(ctx.db_name, name, partition);
    if (!r.ok() && (r.status().Is(StatusCode::kAlreadyExists) ||
                    r.status().Is(StatusCode::kFailedPrecondition))) {
      ThrowApi(MilvusCode::kInvalidParameter, r.status().message());
    }
    ARK_RETURN_IF_ERROR(r.status());
    return json::object();
  });
  http.RegisterMilvus("partitions/drop", [this](RequestContext& ctx) -> Result<json> {
    std::string name;
    ARK_ASSIGN_OR_RETURN(CollectionInfo info, Find(ctx, &name));
    ARK_ASSIGN_OR_RETURN(std::string partition, RequiredString(ctx.body, "partitionName"));
    ARK_ASSIGN_OR_RETURN(auto snap, db_->GetSnapshot(ctx.db_name, name));
    ARK_RETURN_IF_ERROR(MapPartitionStatus(snap->PartitionId(partition).status()));
    if (partition == kDefaultPartition) ThrowApi(MilvusCode::kInvalidParameter, "default partition cannot be deleted");
    if (info.load.PartitionLoaded(partition)) {
      ThrowApi(MilvusCode::kInvalidParameter,
               "partition cannot be dropped, partition is loaded, please release it first[partition=" +
                   partition + "]");
    }
    ARK_RETURN_IF_ERROR(MapPartitionStatus(db_->DropPartition(ctx.db_name, name, partition).status()));
    return json::object();
  });
  http.RegisterMilvus("partitions/has", [this](RequestContext& ctx) -> Result<json> {
    std::string name;
    ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
    ARK_ASSIGN_OR_RETURN(std::string partition, RequiredString(ctx.body, "partitionName"));
    ARK_ASSIGN_OR_RETURN(auto snap, db_->GetSnapshot(ctx.db_name, name));
    return json{{"has", snap->PartitionId(partition).ok()}};
  });
  http.RegisterMilvus("partitions/list", [this](RequestContext& ctx) -> Result<json> {
    std::string name;
    ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
    ARK_ASSIGN_OR_RETURN(auto names, db_->ListPartitions(ctx.db_name, name));
    return json(names);
  });
  http.RegisterMilvus("partitions/get_stats", [this](RequestContext& ctx) -> Result<json> {
    std::string name;
    ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
    ARK_ASSIGN_OR_RETURN(std::string partition, RequiredString(ctx.body, "partitionName"));
    ARK_ASSIGN_OR_RETURN(auto snap, db_->GetSnapshot(ctx.db_name, name));
    auto scoped = snap->Restrict({partition});
    ARK_RETURN_IF_ERROR(MapPartitionStatus(scoped.status()));
    ARK_ASSIGN_OR_RETURN(uint64_t rows, (*scoped)->Count("", nullptr));
    return json{{"rowCount", rows}};
  });
  auto set_loaded = [this](RequestContext& ctx, bool load) -> Result<json> {
    std::string name;
    ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
    ARK_ASSIGN_OR_RETURN(auto parts, PartitionNames(ctx.body, "partitionNames", true));
    ARK_ASSIGN_OR_RETURN(auto snap, db_->GetSnapshot(ctx.db_name, name));
    for (const auto& p : parts) ARK_RETURN_IF_ERROR(MapPartitionStatus(snap->PartitionId(p).status()));
    auto all = snap->PartitionNames();
    ARK_RETURN_IF_ERROR(MapPartitionStatus(ChangeLoadState(ctx, name, [&](CollectionLoadState* state) {
      // The loaded set, spelled out; the engine stores "every partition" as fully loaded.
      std::set<std::string> loaded;
      if (!state->released) {
        if (state->partitions.empty()) {
          loaded.insert(all.begin(), all.end());
        } else {
          loaded = state->partitions;
        }
      }
      for (const auto& p : parts) {
        if (load) {
          loaded.insert(p);
        } else {
          loaded.erase(p);
        }
      }
      state->released = loaded.empty();
      state->partitions = std::move(loaded);
      return Status::OK();
    })));
    return json::object();
  };
  http.RegisterMilvus("partitions/load", [set_loaded](RequestContext& c) { return set_loaded(c, true); });
  http.RegisterMilvus("partitions/release", [set_loaded](RequestContext& c) { return set_loaded(c, false); });
}

Result<std::shared_ptr<const CollectionSnapshot>> MilvusService::ScopeToPartitions(
    RequestContext& ctx, const CollectionLoadState& load, std::shared_ptr<const CollectionSnapshot> snap,
    const char* key) {
  ARK_ASSIGN_OR_RETURN(auto parts, PartitionNames(ctx.body, key, false));
  if (parts.empty()) {
    // Only the loaded partitions of a partly loaded collection.
    if (load.partitions.empty()) return snap;
    parts.assign(load.partitions.begin(), load.partitions.end());
  } else {
    for (const auto& p : parts) {
      ARK_RETURN_IF_ERROR(MapPartitionStatus(snap->PartitionId(p).status()));
      if (!load.PartitionLoaded(p)) {
        ThrowApi(kPartitionNotLoaded, "partition not loaded[partition=" + p + "]");
      }
    }
  }
  auto scoped = snap->Restrict(parts);
  ARK_RETURN_IF_ERROR(MapPartitionStatus(scoped.status()));
  return scoped;
}

}  // namespace ark::server
