#include "grpc/milvus_rpcs.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <vector>
#include <stdexcept>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/collection_snapshot.h"
#include "engine/database.h"
#include "grpc/field_data.h"
#include "grpc/template_values.h"
#include "server/milvus_service.h"
#include "milvus/common.pb.h"
#include "milvus/milvus.pb.h"
#include "milvus/schema.pb.h"

namespace ark::rpc {
namespace {

namespace mc = milvus::proto::common;
namespace mm = milvus::proto::milvus;
namespace ms = milvus::proto::schema;
using json = nlohmann::json;

// The Milvus version Ark answers GetVersion with: the API of proto/milvus.
constexpr const char* kMilvusVersion = "v2.6.0";

mc::ErrorCode LegacyCode(int code) {
  switch (code) {
    case 0: return mc::Success;
    case 9: return mc::DiskQuotaExhausted;
    case 100: return mc::CollectionNotExists;
    case 700: return mc::IndexNotExist;
    case 1100:
    case 1801:
    case 1802:
    case 1804:
    case 1806: return mc::IllegalArgument;
    case 1800: return mc::PermissionDenied;
    case 1807: return mc::RateLimit;
    default: return mc::UnexpectedError;
  }
}

void SetStatus(mc::Status* st, int code, const std::string& reason) {
  st->set_code(code);
  st->set_reason(reason);
  st->set_error_code(LegacyCode(code));
  st->set_retriable(code == 1807);
}

mc::Status* StatusOf(mc::Status* s) { return s; }
template <class Resp>
mc::Status* StatusOf(Resp* r) {
  return r->mutable_status();
}

// An error the translation itself finds in a request (before any REST call).
struct RequestError {
  int code;
  std::string message;
};
[[noreturn]] void Invalid(const std::string& message) { throw RequestError{1100, message}; }

std::string DbOf(const RpcContext& ctx, const std::string& request_db) {
  if (!request_db.empty()) return request_db;
  if (!ctx.db_name.empty()) return ctx.db_name;
  return "default";
}

// Runs REST route `route` with `body` on database `db`. On success returns
// true and the data (and the envelope's other keys in *extra); on failure
// fills `st` with the route's Milvus code and message and returns false.
// `want_fields`: search and query also answer the schema they read (see
// RequestContext::want_fields) in *extra.
bool Rest(RpcContext& ctx, const std::string& db, const std::string& route, json body, mc::Status* st,
          json* data = nullptr, json* extra = nullptr, bool want_fields = false,
          std::unique_ptr<server::ParsedBody> parsed = nullptr) {
  server::RequestContext rc;
  rc.route = "/v2/vectordb/" + route;
  body["dbName"] = db;
  rc.db_name = db;
  rc.body = std::move(body);
  rc.deadline = ctx.deadline;
  rc.user = ctx.user;
  rc.want_fields = want_fields;
  rc.parsed = std::move(parsed);
  server::HttpServer::MilvusCall call = ctx.http->CallMilvus(rc);
  if (call.error) {
    SetStatus(st, static_cast<int>(call.error->code), call.error->message);
    return false;
  }
  SetStatus(st, 0, "");
  if (data) *data = std::move(call.data);
  if (extra) *extra = std::move(rc.envelope_extra);
  return true;
}

// A handler over typed messages; translation errors and exceptions become
// the response's status.
template <class Req, class Resp>
RpcHandler Unary(void (*fn)(RpcContext&, const Req&, Resp*)) {
  return [fn](RpcContext& ctx, const std::string& bytes, std::string* out) {
    Req req;
    Resp resp;
    if (!req.ParseFromString(bytes)) {
      SetStatus(StatusOf(&resp), 1100, "the request is not a valid " + Req::descriptor()->full_name());
    } else {
      try {
        fn(ctx, req, &resp);
      } catch (const RequestError& e) {
        Resp fresh;
        resp = std::move(fresh);
        SetStatus(StatusOf(&resp), e.code, e.message);
      } catch (const std::invalid_argument& e) {  // from field_data.h, template_values.h
        Resp fresh;
        resp = std::move(fresh);
        SetStatus(StatusOf(&resp), 1100, e.what());
      } catch (const std::exception& e) {
        Resp fresh;
        resp = std::move(fresh);
        SetStatus(StatusOf(&resp), 1200, std::string("internal error: ") + e.what());
      }
    }
    resp.SerializeToString(out);
    return StatusOf(&resp)->code();
  };
}

json KeyValues(const google::protobuf::RepeatedPtrField<mc::KeyValuePair>& kvs) {
  json out = json::object();
  for (const auto& kv : kvs) out[kv.key()] = kv.value();
  return out;
}

// A string parameter that holds a number ("16") as the number REST expects;
// anything else stays a string.
json NumberOrString(const std::string& s) {
  if (s.empty()) return s;
  json parsed = json::parse(s, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_number()) return parsed;
  return s;
}

uint64_t NowTimestamp() {
  // A Milvus hybrid timestamp: physical milliseconds << 18.
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return static_cast<uint64_t>(ms) << 18;
}

// ---- connection and server ----

void Connect(RpcContext&, const mm::ConnectRequest&, mm::ConnectResponse* resp) {
  static std::atomic<int64_t> next{std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()};
  SetStatus(resp->mutable_status(), 0, "");
  auto* info = resp->mutable_server_info();
  info->set_build_tags(kMilvusVersion);
  info->set_deploy_mode("STANDALONE");
  (*info->mutable_reserved())["server"] = "ark";
  resp->set_identifier(next.fetch_add(1));
}

void GetVersion(RpcContext&, const mm::GetVersionRequest&, mm::GetVersionResponse* resp) {
  SetStatus(resp->mutable_status(), 0, "");
  resp->set_version(kMilvusVersion);
}

void CheckHealth(RpcContext&, const mm::CheckHealthRequest&, mm::CheckHealthResponse* resp) {
  SetStatus(resp->mutable_status(), 0, "");
  resp->set_ishealthy(true);
}

// ---- databases ----

void CreateDatabase(RpcContext& ctx, const mm::CreateDatabaseRequest& req, mc::Status* st) {
  json body = json::object();
  if (req.properties_size()) body["properties"] = KeyValues(req.properties());
  Rest(ctx, req.db_name(), "databases/create", body, st);
}

void DropDatabase(RpcContext& ctx, const mm::DropDatabaseRequest& req, mc::Status* st) {
  Rest(ctx, req.db_name(), "databases/drop", json::object(), st);
}

void ListDatabases(RpcContext& ctx, const mm::ListDatabasesRequest&, mm::ListDatabasesResponse* resp) {
  json data;
  if (!Rest(ctx, "default", "databases/list", json::object(), resp->mutable_status(), &data)) return;
  for (const auto& n : data) {
    resp->add_db_names(n.get<std::string>());
    resp->add_created_timestamp(0);
  }
}

void DescribeDatabase(RpcContext& ctx, const mm::DescribeDatabaseRequest& req, mm::DescribeDatabaseResponse* resp) {
  json data;
  if (!Rest(ctx, DbOf(ctx, req.db_name()), "databases/describe", json::object(), resp->mutable_status(), &data)) {
    return;
  }
  resp->set_db_name(data.value("dbName", std::string()));
  resp->set_dbid(data.value("dbID", int64_t{0}));
  for (const auto& p : data.value("properties", json::array())) {
    auto* kv = resp->add_properties();
    kv->set_key(p.value("key", std::string()));
    kv->set_value(p.value("value", std::string()));
  }
}

// As AlterCollection: `properties` set, then `delete_keys` dropped. With
// neither, databases/alter answers its own error (properties required), as
// Milvus refuses an alter that changes nothing. The database is named as for
// CreateDatabase and DropDatabase: by the request, never by default.
void AlterDatabase(RpcContext& ctx, const mm::AlterDatabaseRequest& req, mc::Status* st) {
  if (req.properties_size() || !req.delete_keys_size()) {
    if (!Rest(ctx, req.db_name(), "databases/alter", {{"properties", KeyValues(req.properties())}}, st)) return;
  }
  if (req.delete_keys_size()) {
    json keys = json::array();
    for (const auto& k : req.delete_keys()) keys.push_back(k);
    Rest(ctx, req.db_name(), "databases/drop_properties", {{"propertyKeys", keys}}, st);
  }
}

// ---- collections ----

void CreateCollection(RpcContext& ctx, const mm::CreateCollectionRequest& req, mc::Status* st) {
  ms::CollectionSchema schema;
  if (!schema.ParseFromString(req.schema())) Invalid("schema is not a valid milvus.proto.schema.CollectionSchema");
  json body{{"collectionName", req.collection_name()}, {"schema", SchemaToJson(schema)}};
  if (!schema.description().empty()) body["description"] = schema.description();
  if (req.properties_size()) body["properties"] = KeyValues(req.properties());
  Rest(ctx, DbOf(ctx, req.db_name()), "collections/create", body, st);
}

void DropCollection(RpcContext& ctx, const mm::DropCollectionRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "collections/drop", {{"collectionName", req.collection_name()}}, st);
}

void HasCollection(RpcContext& ctx, const mm::HasCollectionRequest& req, mm::BoolResponse* resp) {
  json data;
  if (!Rest(ctx, DbOf(ctx, req.db_name()), "collections/has", {{"collectionName", req.collection_name()}},
            resp->mutable_status(), &data)) {
    return;
  }
  resp->set_value(data.value("has", false));
}

void ShowCollections(RpcContext& ctx, const mm::ShowCollectionsRequest& req, mm::ShowCollectionsResponse* resp) {
  json data;
  if (!Rest(ctx, DbOf(ctx, req.db_name()), "collections/list", json::object(), resp->mutable_status(), &data)) return;
  for (const auto& n : data) {
    resp->add_collection_names(n.get<std::string>());
    resp->add_collection_ids(0);
    resp->add_created_timestamps(0);
    resp->add_created_utc_timestamps(0);
  }
}

void DescribeCollection(RpcContext& ctx, const mm::DescribeCollectionRequest& req,
                        mm::DescribeCollectionResponse* resp) {
  const std::string db = DbOf(ctx, req.db_name());
  json data;
  if (!Rest(ctx, db, "collections/describe", {{"collectionName", req.collection_name()}}, resp->mutable_status(),
            &data)) {
    return;
  }
  DescribeToProto(data, db, resp);
}

void RenameCollection(RpcContext& ctx, const mm::RenameCollectionRequest& req, mc::Status* st) {
  json body{{"collectionName", req.oldname()}, {"newCollectionName", req.newname()}};
  if (!req.newdbname().empty()) body["newDbName"] = req.newdbname();
  Rest(ctx, DbOf(ctx, req.db_name()), "collections/rename", body, st);
}

void AlterCollection(RpcContext& ctx, const mm::AlterCollectionRequest& req, mc::Status* st) {
  const std::string db = DbOf(ctx, req.db_name());
  if (req.properties_size()) {
    json body{{"collectionName", req.collection_name()}, {"properties", KeyValues(req.properties())}};
    if (!Rest(ctx, db, "collections/alter_properties", body, st)) return;
  }
  if (req.delete_keys_size()) {
    json keys = json::array();
    for (const auto& k : req.delete_keys()) keys.push_back(k);
    Rest(ctx, db, "collections/drop_properties", {{"collectionName", req.collection_name()}, {"propertyKeys", keys}},
         st);
  }
  if (!req.properties_size() && !req.delete_keys_size()) SetStatus(st, 0, "");
}

void GetCollectionStatistics(RpcContext& ctx, const mm::GetCollectionStatisticsRequest& req,
                             mm::GetCollectionStatisticsResponse* resp) {
  json data;
  if (!Rest(ctx, DbOf(ctx, req.db_name()), "collections/get_stats", {{"collectionName", req.collection_name()}},
            resp->mutable_status(), &data)) {
    return;
  }
  auto* kv = resp->add_stats();
  kv->set_key("row_count");
  kv->set_value(std::to_string(data.value("rowCount", int64_t{0})));
}

// ---- compaction, segments, replicas ----

// The node every segment and replica is on: Ark is one process.
constexpr int64_t kNodeId = 1;
// Milvus's partition id for "all partitions" (common.AllPartitionsID): a
// segment whose rows are in more than one partition (Ark seals a
// collection's rows together; Milvus keeps a segment per partition).
constexpr int64_t kAllPartitions = -1;

// The collections/describe answer for the collection a request names by
// name or, when the name is empty, by collectionID (the Node SDK's
// getReplicas may send only the id). Neither: describe's own error for the
// missing name. An id no collection of `db` has: code 100 naming it.
bool DescribeByNameOrId(RpcContext& ctx, const std::string& db, const std::string& name, int64_t id,
                        mc::Status* st, json* described) {
  if (!name.empty() || id == 0) {
    return Rest(ctx, db, "collections/describe", {{"collectionName", name}}, st, described);
  }
  json names;
  if (!Rest(ctx, db, "collections/list", json::object(), st, &names)) return false;
  for (const auto& n : names) {
    json d;
    mc::Status dropped_since;  // listed, then dropped: not the one
    if (Rest(ctx, db, "collections/describe", {{"collectionName", n}}, &dropped_since, &d) &&
        d.value("collectionID", int64_t{-1}) == id) {
      *described = std::move(d);
      SetStatus(st, 0, "");
      return true;
    }
  }
  SetStatus(st, 100, "can't find collection[database=" + db + "][collectionID=" + std::to_string(id) + "]");
  return false;
}

void ManualCompaction(RpcContext& ctx, const mm::ManualCompactionRequest& req, mm::ManualCompactionResponse* resp) {
  // Ark compacts a collection as a whole (collections/compact): a request
  // for chosen segments or one partition would get something else.
  if (req.segment_ids_size()) Invalid("compaction of chosen segments (segment_ids) is not supported by Ark");
  if (req.partition_id() != 0) Invalid("compaction of one partition (partition_id) is not supported by Ark");
  const std::string db = DbOf(ctx, req.db_name());
  // A name wins over an id, as in Milvus's proxy.
  json described;
  if (!DescribeByNameOrId(ctx, db, req.collection_name(), req.collectionid(), resp->mutable_status(), &described)) {
    return;
  }
  json data;
  if (!Rest(ctx, db, "collections/compact", {{"collectionName", described.value("collectionName", std::string())}},
            resp->mutable_status(), &data)) {
    return;
  }
  resp->set_compactionid(data.value("compactionID", int64_t{0}));
  // Ark's compaction is synchronous: its plans are done; one when it rewrote anything.
  json state;
  if (Rest(ctx, db, "collections/get_compaction_state", {{"compactionID", resp->compactionid()}},
           resp->mutable_status(), &state)) {
    resp->set_compactionplancount(static_cast<int32_t>(state.value("completedPlanNo", int64_t{0})));
  }
}

void GetCompactionState(RpcContext& ctx, const mm::GetCompactionStateRequest& req,
                        mm::GetCompactionStateResponse* resp) {
  json data;
  if (!Rest(ctx, DbOf(ctx, ""), "collections/get_compaction_state", {{"compactionID", req.compactionid()}},
            resp->mutable_status(), &data)) {
    return;
  }
  mc::CompactionState state;
  if (!mc::CompactionState_Parse(data.value("state", std::string()), &state)) state = mc::UndefiedState;
  resp->set_state(state);
  resp->set_executingplanno(data.value("executingPlanNo", int64_t{0}));
  resp->set_timeoutplanno(data.value("timeoutPlanNo", int64_t{0}));
  resp->set_completedplanno(data.value("completedPlanNo", int64_t{0}));
  resp->set_failedplanno(data.value("failedPlanNo", int64_t{0}));
}

// One segment of a collection snapshot, as the segment-info RPCs report it.
struct SegmentView {
  int64_t id = 0;
  bool sealed = false;
  std::string file;        // sealed: the segment file (SHA-256 hex)
  int64_t rows = 0;        // visible rows (in the snapshot's partitions)
  int64_t partition = kAllPartitions;
};

// The snapshot's segments: every sealed segment, oldest first, then the
// unsealed rows as one growing segment (when there are any; the segment
// being sealed, if a seal is running, is counted with it). Row counts are
// the visible rows, counted as collections/get_stats counts them
// (ForEachVisibleRow), so they add up to its rowCount.
//
// Ids: Milvus's are int64s that stay the same while the segment lives. A
// sealed segment is a content-addressed file, so its id is the first 15 hex
// digits (60 bits) of the file's SHA-256: stable across calls, restarts and
// replicas, and positive. The growing segment's is 2^61 plus the insert lsn
// of its oldest block with a visible row: stable until that block is sealed,
// and never equal to a sealed id (< 2^60).
std::vector<SegmentView> SegmentsOf(const CollectionSnapshot& snap) {
  std::vector<SegmentView> out;
  std::unordered_map<const RowBlock*, size_t> sealed_at;
  const int partition_column = snap.schema().PartitionColumn();
  for (const auto& block : snap.sealed()) {
    SegmentView s;
    s.sealed = true;
    s.file = block->file();
    s.id = static_cast<int64_t>(std::stoull(s.file.substr(0, 15), nullptr, 16));
    // The segment's partition, from all its rows (deleted ones too: a
    // segment whose rows are all deleted is still in its partition).
    const auto* ids = partition_column < 0 ? nullptr : &block->rows().columns[partition_column].ints;
    s.partition = kDefaultPartitionId;
    if (ids != nullptr && !ids->empty()) {
      s.partition = (*ids)[0];
      if (std::any_of(ids->begin(), ids->end(), [&s](int64_t p) { return p != s.partition; })) {
        s.partition = kAllPartitions;
      }
    }
    sealed_at[block.get()] = out.size();
    out.push_back(std::move(s));
  }
  std::optional<size_t> growing;
  const RowBlock* last = nullptr;
  size_t last_at = 0;
  snap.ForEachVisibleRow([&](const RowBlock& block, size_t row) {
    if (&block != last) {
      last = &block;
      if (block.sealed()) {
        last_at = sealed_at.at(&block);
      } else {
        if (!growing) {
          growing = out.size();
          SegmentView s;
          s.id = static_cast<int64_t>((uint64_t{1} << 61) | block.RowLsn(0));
          s.partition = -2;  // set by the first row below
          out.push_back(std::move(s));
        }
        last_at = *growing;
      }
    }
    SegmentView& s = out[last_at];
    if (!s.sealed) {
      const int64_t p = partition_column < 0 ? kDefaultPartitionId : block.rows().columns[partition_column].ints[row];
      if (s.partition == -2) {
        s.partition = p;
      } else if (s.partition != p) {
        s.partition = kAllPartitions;
      }
    }
    ++s.rows;
  });
  return out;
}

// The snapshot of the collection `described` (a collections/describe
// answer) and its load state; a collection dropped since describe answers
// code 100, as describe would now.
std::shared_ptr<const CollectionSnapshot> SnapshotOf(RpcContext& ctx, const std::string& db, const json& described,
                                                     mc::Status* st, CollectionLoadState* load = nullptr) {
  if (ctx.db == nullptr) {
    SetStatus(st, 1, "segment and replica RPCs need the engine (MilvusGrpcServer built without a Database)");
    return nullptr;
  }
  const std::string name = described.value("collectionName", std::string());
  auto snap = ctx.db->GetSnapshot(db, name);
  Result<CollectionInfo> info = load ? ctx.db->DescribeCollection(db, name) : Result<CollectionInfo>(CollectionInfo{});
  if (!snap.ok() || !info.ok()) {
    SetStatus(st, 100, "can't find collection[database=" + db + "][collection=" + name + "]");
    return nullptr;
  }
  if (load) *load = info->load;
  return *snap;
}

void GetPersistentSegmentInfo(RpcContext& ctx, const mm::GetPersistentSegmentInfoRequest& req,
                              mm::GetPersistentSegmentInfoResponse* resp) {
  const std::string db = DbOf(ctx, req.dbname());
  json described;
  if (!Rest(ctx, db, "collections/describe", {{"collectionName", req.collectionname()}}, resp->mutable_status(),
            &described)) {
    return;
  }
  auto snap = SnapshotOf(ctx, db, described, resp->mutable_status());
  if (!snap) return;
  for (const SegmentView& s : SegmentsOf(*snap)) {
    auto* info = resp->add_infos();
    info->set_segmentid(s.id);
    info->set_collectionid(described.value("collectionID", int64_t{0}));
    info->set_partitionid(s.partition);
    info->set_num_rows(s.rows);
    info->set_state(s.sealed ? mc::Flushed : mc::Growing);  // a sealed segment is on disk
    info->set_level(mc::L1);
  }
}

// The segments a search reads: none when the collection is released (as
// Milvus's query coordinator reports only loaded segments); with some
// partitions loaded, those partitions' rows.
void GetQuerySegmentInfo(RpcContext& ctx, const mm::GetQuerySegmentInfoRequest& req,
                         mm::GetQuerySegmentInfoResponse* resp) {
  const std::string db = DbOf(ctx, req.dbname());
  json described;
  if (!Rest(ctx, db, "collections/describe", {{"collectionName", req.collectionname()}}, resp->mutable_status(),
            &described)) {
    return;
  }
  CollectionLoadState load;
  auto snap = SnapshotOf(ctx, db, described, resp->mutable_status(), &load);
  if (!snap || load.released) return;
  if (!load.partitions.empty()) {
    std::vector<std::string> loaded;  // (a loaded partition may have been dropped since)
    for (const auto& p : load.partitions) {
      if (snap->PartitionId(p).ok()) loaded.push_back(p);
    }
    if (loaded.empty()) return;
    auto scoped = snap->Restrict(loaded);
    if (!scoped.ok()) throw std::runtime_error(scoped.status().message());
    snap = *scoped;
  }
  for (const SegmentView& s : SegmentsOf(*snap)) {
    if (snap->restricted() && s.rows == 0) continue;  // no row of it is loaded
    auto* info = resp->add_infos();
    info->set_segmentid(s.id);
    info->set_collectionid(described.value("collectionID", int64_t{0}));
    info->set_partitionid(s.partition);
    info->set_num_rows(s.rows);
    info->set_state(s.sealed ? mc::Sealed : mc::Growing);
    info->set_level(mc::L1);
    info->set_nodeid(kNodeId);
    info->add_nodeids(kNodeId);
    // The index a sealed segment is searched with, once built (until then
    // it is searched exactly, as a growing segment always is).
    if (s.sealed) {
      auto built = snap->indexes().built.find(s.file);
      if (built != snap->indexes().built.end() && !built->second.empty()) {
        const IndexDefinition* def = snap->indexes().FindByField(built->second.begin()->first);
        if (def != nullptr) info->set_index_name(def->index_name);
      }
    }
  }
}

// One replica (Ark is one process serving every loaded collection): its
// loaded partitions on one shard whose leader is this node. None when the
// collection is released, as Milvus has no replica of an unloaded one.
void GetReplicas(RpcContext& ctx, const mm::GetReplicasRequest& req, mm::GetReplicasResponse* resp) {
  const std::string db = DbOf(ctx, req.db_name());
  json described;
  if (!DescribeByNameOrId(ctx, db, req.collection_name(), req.collectionid(), resp->mutable_status(), &described)) {
    return;
  }
  CollectionLoadState load;
  auto snap = SnapshotOf(ctx, db, described, resp->mutable_status(), &load);
  if (!snap || load.released) return;
  const int64_t id = described.value("collectionID", int64_t{0});
  auto* replica = resp->add_replicas();
  replica->set_replicaid(1);
  replica->set_collectionid(id);
  for (const auto& name : snap->PartitionNames()) {
    if (!load.PartitionLoaded(name)) continue;
    if (auto pid = snap->PartitionId(name); pid.ok()) replica->add_partition_ids(*pid);
  }
  auto* shard = replica->add_shard_replicas();
  shard->set_leaderid(kNodeId);
  shard->set_leader_addr(ctx.http->config().host + ":" + std::to_string(ctx.http->port()));
  shard->set_dm_channel_name("ark-dml_0_" + std::to_string(id) + "v0");
  if (req.with_shard_nodes()) shard->add_node_ids(kNodeId);
  replica->add_node_ids(kNodeId);
  replica->set_resource_group_name("__default_resource_group");
}

// ---- load state ----

void LoadCollection(RpcContext& ctx, const mm::LoadCollectionRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "collections/load", {{"collectionName", req.collection_name()}}, st);
}

void ReleaseCollection(RpcContext& ctx, const mm::ReleaseCollectionRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "collections/release", {{"collectionName", req.collection_name()}}, st);
}

json PartitionNames(const google::protobuf::RepeatedPtrField<std::string>& names) {
  json out = json::array();
  for (const auto& n : names) out.push_back(n);
  return out;
}

void LoadPartitions(RpcContext& ctx, const mm::LoadPartitionsRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "partitions/load",
       {{"collectionName", req.collection_name()}, {"partitionNames", PartitionNames(req.partition_names())}}, st);
}

void ReleasePartitions(RpcContext& ctx, const mm::ReleasePartitionsRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "partitions/release",
       {{"collectionName", req.collection_name()}, {"partitionNames", PartitionNames(req.partition_names())}}, st);
}

bool LoadStateOf(RpcContext& ctx, const std::string& db, const std::string& collection,
                 const google::protobuf::RepeatedPtrField<std::string>& partitions, mc::Status* st,
                 mc::LoadState* state) {
  json body{{"collectionName", collection}};
  if (!partitions.empty()) body["partitionNames"] = PartitionNames(partitions);
  json data;
  if (!Rest(ctx, db, "collections/get_load_state", body, st, &data)) return false;
  if (!mc::LoadState_Parse(data.value("loadState", std::string("LoadStateNotLoad")), state)) {
    *state = mc::LoadStateNotLoad;
  }
  return true;
}

void GetLoadState(RpcContext& ctx, const mm::GetLoadStateRequest& req, mm::GetLoadStateResponse* resp) {
  mc::LoadState state;
  if (LoadStateOf(ctx, DbOf(ctx, req.db_name()), req.collection_name(), req.partition_names(),
                  resp->mutable_status(), &state)) {
    resp->set_state(state);
  }
}

void GetLoadingProgress(RpcContext& ctx, const mm::GetLoadingProgressRequest& req,
                        mm::GetLoadingProgressResponse* resp) {
  mc::LoadState state;
  if (LoadStateOf(ctx, DbOf(ctx, req.db_name()), req.collection_name(), req.partition_names(),
                  resp->mutable_status(), &state)) {
    resp->set_progress(state == mc::LoadStateLoaded ? 100 : 0);
    resp->set_refresh_progress(resp->progress());
  }
}

// ---- partitions ----

void CreatePartition(RpcContext& ctx, const mm::CreatePartitionRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "partitions/create",
       {{"collectionName", req.collection_name()}, {"partitionName", req.partition_name()}}, st);
}

void DropPartition(RpcContext& ctx, const mm::DropPartitionRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "partitions/drop",
       {{"collectionName", req.collection_name()}, {"partitionName", req.partition_name()}}, st);
}

void HasPartition(RpcContext& ctx, const mm::HasPartitionRequest& req, mm::BoolResponse* resp) {
  json data;
  if (Rest(ctx, DbOf(ctx, req.db_name()), "partitions/has",
           {{"collectionName", req.collection_name()}, {"partitionName", req.partition_name()}},
           resp->mutable_status(), &data)) {
    resp->set_value(data.value("has", false));
  }
}

void ShowPartitions(RpcContext& ctx, const mm::ShowPartitionsRequest& req, mm::ShowPartitionsResponse* resp) {
  json data;
  if (!Rest(ctx, DbOf(ctx, req.db_name()), "partitions/list", {{"collectionName", req.collection_name()}},
            resp->mutable_status(), &data)) {
    return;
  }
  for (const auto& n : data) {
    resp->add_partition_names(n.get<std::string>());
    resp->add_partitionids(0);
    resp->add_created_timestamps(0);
    resp->add_created_utc_timestamps(0);
  }
}

void GetPartitionStatistics(RpcContext& ctx, const mm::GetPartitionStatisticsRequest& req,
                            mm::GetPartitionStatisticsResponse* resp) {
  json data;
  if (!Rest(ctx, DbOf(ctx, req.db_name()), "partitions/get_stats",
            {{"collectionName", req.collection_name()}, {"partitionName", req.partition_name()}},
            resp->mutable_status(), &data)) {
    return;
  }
  auto* kv = resp->add_stats();
  kv->set_key("row_count");
  kv->set_value(std::to_string(data.value("rowCount", int64_t{0})));
}

// ---- aliases ----

void CreateAlias(RpcContext& ctx, const mm::CreateAliasRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "aliases/create",
       {{"collectionName", req.collection_name()}, {"aliasName", req.alias()}}, st);
}

void AlterAlias(RpcContext& ctx, const mm::AlterAliasRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "aliases/alter",
       {{"collectionName", req.collection_name()}, {"aliasName", req.alias()}}, st);
}

void DropAlias(RpcContext& ctx, const mm::DropAliasRequest& req, mc::Status* st) {
  Rest(ctx, DbOf(ctx, req.db_name()), "aliases/drop", {{"aliasName", req.alias()}}, st);
}

void DescribeAlias(RpcContext& ctx, const mm::DescribeAliasRequest& req, mm::DescribeAliasResponse* resp) {
  const std::string db = DbOf(ctx, req.db_name());
  json data;
  if (!Rest(ctx, db, "aliases/describe", {{"aliasName", req.alias()}}, resp->mutable_status(), &data)) return;
  resp->set_db_name(db);
  resp->set_alias(req.alias());
  resp->set_collection(data.value("collectionName", std::string()));
}

void ListAliases(RpcContext& ctx, const mm::ListAliasesRequest& req, mm::ListAliasesResponse* resp) {
  const std::string db = DbOf(ctx, req.db_name());
  json body = json::object();
  if (!req.collection_name().empty()) body["collectionName"] = req.collection_name();
  json data;
  if (!Rest(ctx, db, "aliases/list", body, resp->mutable_status(), &data)) return;
  resp->set_db_name(db);
  resp->set_collection_name(req.collection_name());
  for (const auto& a : data) resp->add_aliases(a.get<std::string>());
}

// ---- indexes ----

void CreateIndex(RpcContext& ctx, const mm::CreateIndexRequest& req, mc::Status* st) {
  json index{{"fieldName", req.field_name()}};
  if (!req.index_name().empty()) index["indexName"] = req.index_name();
  json params = json::object();
  for (const auto& kv : req.extra_params()) {
    if (kv.key() == "index_type") {
      index["indexType"] = kv.value();
    } else if (kv.key() == "metric_type") {
      index["metricType"] = kv.value();
    } else if (kv.key() == "params") {
      json p = json::parse(kv.value(), nullptr, false);
      if (p.is_discarded() || !p.is_object()) Invalid("index param 'params' must be a JSON object, got " + kv.value());
      for (auto& [k, v] : p.items()) params[k] = v;
    } else {
      params[kv.key()] = NumberOrString(kv.value());
    }
  }
  if (!params.empty()) index["params"] = params;
  Rest(ctx, DbOf(ctx, req.db_name()), "indexes/create",
       {{"collectionName", req.collection_name()}, {"indexParams", json::array({index})}}, st);
}

// The REST descriptions of the collection's indexes that match `field` and
// `index` (either empty: any).
bool DescribeIndexes(RpcContext& ctx, const std::string& db, const std::string& collection,
                     const std::string& field, const std::string& index, mc::Status* st, json* out) {
  json names;
  if (!Rest(ctx, db, "indexes/list", {{"collectionName", collection}}, st, &names)) return false;
  *out = json::array();
  for (const auto& n : names) {
    json one;
    if (!Rest(ctx, db, "indexes/describe", {{"collectionName", collection}, {"indexName", n}}, st, &one)) {
      return false;
    }
    for (auto& d : one) {
      if (!field.empty() && d.value("fieldName", std::string()) != field) continue;
      if (!index.empty() && d.value("indexName", std::string()) != index) continue;
      out->push_back(std::move(d));
    }
  }
  if (out->empty()) {
    SetStatus(st, 700,
              "index not found[collection=" + collection + "]" + (index.empty() ? "" : "[index=" + index + "]"));
    return false;
  }
  return true;
}

mc::IndexState IndexStateOf(const json& d) {
  mc::IndexState state = mc::Finished;
  if (auto s = d.find("indexState"); s != d.end() && s->is_string()) {
    if (!mc::IndexState_Parse(s->get<std::string>(), &state)) state = mc::Finished;
  }
  return state;
}

void DescribeIndex(RpcContext& ctx, const mm::DescribeIndexRequest& req, mm::DescribeIndexResponse* resp) {
  json ds;
  if (!DescribeIndexes(ctx, DbOf(ctx, req.db_name()), req.collection_name(), req.field_name(), req.index_name(),
                       resp->mutable_status(), &ds)) {
    return;
  }
  for (const auto& d : ds) {
    auto* out = resp->add_index_descriptions();
    out->set_index_name(d.value("indexName", std::string()));
    out->set_field_name(d.value("fieldName", std::string()));
    auto add = [out](const std::string& k, const std::string& v) {
      auto* kv = out->add_params();
      kv->set_key(k);
      kv->set_value(v);
    };
    add("index_type", d.value("indexType", std::string()));
    add("metric_type", d.value("metricType", std::string()));
    add("params", d.value("params", json::object()).dump());
    out->set_state(IndexStateOf(d));
    out->set_total_rows(d.value("totalRows", int64_t{0}));
    out->set_indexed_rows(d.value("indexedRows", int64_t{0}));
    out->set_pending_index_rows(d.value("pendingRows", int64_t{0}));
    out->set_index_state_fail_reason(d.value("failReason", std::string()));
  }
}

void GetIndexState(RpcContext& ctx, const mm::GetIndexStateRequest& req, mm::GetIndexStateResponse* resp) {
  json ds;
  if (!DescribeIndexes(ctx, DbOf(ctx, req.db_name()), req.collection_name(), req.field_name(), req.index_name(),
                       resp->mutable_status(), &ds)) {
    return;
  }
  resp->set_state(IndexStateOf(ds[0]));
  resp->set_fail_reason(ds[0].value("failReason", std::string()));
}

void GetIndexBuildProgress(RpcContext& ctx, const mm::GetIndexBuildProgressRequest& req,
                           mm::GetIndexBuildProgressResponse* resp) {
  json ds;
  if (!DescribeIndexes(ctx, DbOf(ctx, req.db_name()), req.collection_name(), req.field_name(), req.index_name(),
                       resp->mutable_status(), &ds)) {
    return;
  }
  resp->set_indexed_rows(ds[0].value("indexedRows", int64_t{0}));
  resp->set_total_rows(ds[0].value("totalRows", int64_t{0}));
}

void DropIndex(RpcContext& ctx, const mm::DropIndexRequest& req, mc::Status* st) {
  const std::string db = DbOf(ctx, req.db_name());
  std::string index = req.index_name();
  if (index.empty()) {
    json ds;
    if (!DescribeIndexes(ctx, db, req.collection_name(), req.field_name(), "", st, &ds)) return;
    index = ds[0].value("indexName", std::string());
  }
  Rest(ctx, db, "indexes/drop", {{"collectionName", req.collection_name()}, {"indexName", index}}, st);
}

// ---- writes ----

void SetIds(const json& ids, ms::IDs* out) {
  bool strings = !ids.empty() && ids[0].is_string();
  for (const auto& id : ids) {
    if (strings) {
      out->mutable_str_id()->add_data(id.get<std::string>());
    } else {
      out->mutable_int_id()->add_data(id.get<int64_t>());
    }
  }
}

template <class Req>
void Write(RpcContext& ctx, const Req& req, mm::MutationResult* resp, bool upsert) {
  const std::string db = DbOf(ctx, req.db_name());
  // The columns go to the engine as they are when they fit the schema
  // plainly; otherwise as REST rows, through REST's validation.
  auto columnar = std::make_unique<server::ColumnarWrite>();
  const auto& fields = req.fields_data();
  uint32_t num_rows = req.num_rows();
  if (num_rows == 0) num_rows = static_cast<uint32_t>(NumRowsOfFieldData(fields));
  columnar->num_rows = num_rows;
  columnar->build = [&fields, num_rows](const CollectionSchema& schema, WriteKind kind) {
    return BatchFromFieldData(fields, num_rows, schema, kind);
  };
  columnar->rows = [&fields, num_rows](const CollectionSchema& schema) {
    try {
      return RowsFromFieldData(fields, num_rows, &schema);
    } catch (const std::invalid_argument& e) {  // answered as the handler's own error
      throw server::HandlerError{{server::MilvusCode::kInvalidParameter, e.what(), 200}};
    }
  };
  json body{{"collectionName", req.collection_name()}};
  if (!req.partition_name().empty()) body["partitionName"] = req.partition_name();
  json data;
  if (!Rest(ctx, db, upsert ? "entities/upsert" : "entities/insert", std::move(body), resp->mutable_status(),
            &data, nullptr, false, std::move(columnar))) {
    return;
  }
  const json& ids = data[upsert ? "upsertIds" : "insertIds"];
  SetIds(ids, resp->mutable_ids());
  int64_t count = data.value(upsert ? "upsertCount" : "insertCount", int64_t{0});
  if (upsert) {
    resp->set_upsert_cnt(count);
  } else {
    resp->set_insert_cnt(count);
  }
  for (int64_t i = 0; i < count; ++i) resp->add_succ_index(static_cast<uint32_t>(i));
  resp->set_timestamp(NowTimestamp());
}

void Insert(RpcContext& ctx, const mm::InsertRequest& req, mm::MutationResult* resp) { Write(ctx, req, resp, false); }
void Upsert(RpcContext& ctx, const mm::UpsertRequest& req, mm::MutationResult* resp) { Write(ctx, req, resp, true); }

void Delete(RpcContext& ctx, const mm::DeleteRequest& req, mm::MutationResult* resp) {
  json body{{"collectionName", req.collection_name()}, {"filter", req.expr()}};
  if (req.expr_template_values_size()) body["exprParams"] = ExprParamsFromTemplates(req.expr_template_values());
  if (!req.partition_name().empty()) body["partitionName"] = req.partition_name();
  json data;
  if (!Rest(ctx, DbOf(ctx, req.db_name()), "entities/delete", body, resp->mutable_status(), &data)) return;
  resp->set_delete_cnt(data.value("deleteCount", int64_t{0}));
  resp->set_timestamp(NowTimestamp());
}

void Flush(RpcContext& ctx, const mm::FlushRequest& req, mm::FlushResponse* resp) {
  const std::string db = DbOf(ctx, req.db_name());
  resp->set_db_name(db);
  for (const auto& name : req.collection_names()) {
    if (!Rest(ctx, db, "collections/flush", {{"collectionName", name}}, resp->mutable_status())) return;
    (*resp->mutable_coll_segids())[name];
    (*resp->mutable_flush_coll_segids())[name];
    (*resp->mutable_coll_seal_times())[name] = static_cast<int64_t>(NowTimestamp() >> 18) / 1000;
    (*resp->mutable_coll_flush_ts())[name] = NowTimestamp();
  }
  SetStatus(resp->mutable_status(), 0, "");
}

// Ark's flush is synchronous: whatever a client asks about is flushed.
void GetFlushState(RpcContext&, const mm::GetFlushStateRequest&, mm::GetFlushStateResponse* resp) {
  SetStatus(resp->mutable_status(), 0, "");
  resp->set_flushed(true);
}

// ---- reads ----

void Query(RpcContext& ctx, const mm::QueryRequest& req, mm::QueryResults* resp) {
  const std::string db = DbOf(ctx, req.db_name());
  json body{{"collectionName", req.collection_name()}, {"filter", req.expr()}};
  if (req.expr_template_values_size()) body["exprParams"] = ExprParamsFromTemplates(req.expr_template_values());
  json output = json::array();
  for (const auto& f : req.output_fields()) output.push_back(f);
  body["outputFields"] = output;
  if (req.partition_names_size()) body["partitionNames"] = PartitionNames(req.partition_names());
  json params = KeyValues(req.query_params());
  for (const char* key : {"limit", "offset"}) {
    if (params.contains(key)) body[key] = NumberOrString(params[key].get<std::string>());
  }
  json rows, extra;
  if (!Rest(ctx, db, "entities/query", std::move(body), resp->mutable_status(), &rows, &extra, true)) return;
  resp->set_collection_name(req.collection_name());
  QueryRowsToProto(extra, rows, output, resp);
}

// One vector search of a SearchRequest as REST JSON: the body of
// entities/search, or (`hybrid_sub`) one element of entities/hybrid_search's
// `search` array. A sub-search carries no collection, partitions, output
// fields or offset: the hybrid request's own apply (Milvus ignores a
// sub-search's offset too). Templates become `exprParams`. *limit: the topk
// asked for, 0 when none. `with_data`: the vectors as the REST `data`
// array (Search hands them over as floats instead).
json SearchBodyOf(const mm::SearchRequest& req, bool hybrid_sub, int64_t* limit, bool with_data = true) {
  if (req.sub_reqs_size()) Invalid("search with sub_reqs is not supported by Ark's gRPC API yet");
  if (!req.has_placeholder_group()) Invalid("search needs vectors (placeholder_group); search by ids is not supported");
  json params = KeyValues(req.search_params());
  json body = json::object();
  if (!hybrid_sub) body["collectionName"] = req.collection_name();
  if (with_data) body["data"] = VectorsFromPlaceholders(req.placeholder_group());
  if (!req.dsl().empty()) body["filter"] = req.dsl();
  if (req.expr_template_values_size()) body["exprParams"] = ExprParamsFromTemplates(req.expr_template_values());
  if (!hybrid_sub) {
    if (req.partition_names_size()) body["partitionNames"] = PartitionNames(req.partition_names());
    json output = json::array();
    for (const auto& f : req.output_fields()) output.push_back(f);
    body["outputFields"] = output;
  }
  *limit = 0;
  for (const char* key : {"topk", "limit"}) {
    if (params.contains(key)) {
      json v = NumberOrString(params[key].get<std::string>());
      if (!v.is_number_integer()) Invalid(std::string("search param ") + key + " must be an integer");
      *limit = v.get<int64_t>();
      body["limit"] = v;  // as REST's parser reads it (non-negative: unsigned)
    }
  }
  if (!hybrid_sub && params.contains("offset")) body["offset"] = NumberOrString(params["offset"].get<std::string>());
  if (params.contains("anns_field") && !params["anns_field"].get<std::string>().empty()) {
    body["annsField"] = params["anns_field"];
  }
  json search_params = json::object();
  if (params.contains("metric_type") && !params["metric_type"].get<std::string>().empty()) {
    search_params["metricType"] = params["metric_type"];
  }
  if (params.contains("params")) {
    json p = json::parse(params["params"].get<std::string>(), nullptr, false);
    if (p.is_discarded() || !(p.is_object() || p.is_null())) Invalid("search param 'params' must be a JSON object");
    if (p.is_object()) {
      // The SDKs send either {"ef": 64} or {"params": {"ef": 64}}.
      search_params["params"] = p.contains("params") && p["params"].is_object() ? p["params"] : p;
    }
  }
  if (params.contains("group_by_field") && !params["group_by_field"].get<std::string>().empty()) {
    if (hybrid_sub) Invalid("hybrid search with group_by_field in a sub-request is not supported by Ark's gRPC API yet");
    // Grouping search: the REST keys, so that one handler groups for both.
    body["groupingField"] = params["group_by_field"];
    if (params.contains("group_size")) {
      json n = NumberOrString(params["group_size"].get<std::string>());
      if (!n.is_number_integer()) Invalid("search param group_size must be an integer, got " + params["group_size"].dump());
      body["groupSize"] = n;  // REST refuses one below 1, naming it
    }
    if (params.contains("strict_group_size")) {
      const std::string& v = params["strict_group_size"].get_ref<const std::string&>();
      if (v != "true" && v != "True" && v != "false" && v != "False") {
        Invalid("search param strict_group_size must be true or false, got " + v);
      }
      body["strictGroupSize"] = v == "true" || v == "True";
    }
  }
  if (hybrid_sub) {
    // A sub-search takes metricType beside its params, and its search
    // parameters one level down ({"params": {"ef": 64}}), so REST parses them
    // as it parses entities/search's searchParams.
    if (search_params.contains("metricType")) body["metricType"] = search_params["metricType"];
    if (search_params.contains("params")) body["params"] = json{{"params", search_params["params"]}};
  } else if (!search_params.empty()) {
    body["searchParams"] = search_params;
  }
  return body;
}

// A round_decimal parameter: Milvus's range, -1 (no rounding) or 0..6 decimals.
int RoundDecimal(const char* what, const std::string& value) {
  json v = NumberOrString(value);
  if (!v.is_number_integer() || v.get<int64_t>() < -1 || v.get<int64_t>() > 6) {
    Invalid(std::string(what) + " param round_decimal must be -1 or an integer in [0, 6], got " + value);
  }
  return v.get<int>();
}

// HybridSearchRequest.rank_params (what pymilvus and the Node SDK send:
// strategy, params as JSON, limit, offset, round_decimal) -> the REST
// hybrid_search body's `rerank`, `limit` and `offset`; returns round_decimal
// (-1: none).
int RankParams(const google::protobuf::RepeatedPtrField<mc::KeyValuePair>& kvs, json* body) {
  json rerank = json::object();
  int round_decimal = -1;
  for (const auto& kv : kvs) {
    const std::string& key = kv.key();
    if (key == "strategy") {
      rerank["strategy"] = kv.value();
    } else if (key == "params") {
      json p = json::parse(kv.value(), nullptr, false);
      if (p.is_discarded() || !p.is_object()) Invalid("rank param 'params' must be a JSON object, got " + kv.value());
      rerank["params"] = p;
    } else if (key == "limit" || key == "offset") {
      (*body)[key] = NumberOrString(kv.value());
    } else if (key == "round_decimal") {
      round_decimal = RoundDecimal("rank", kv.value());
    } else if (key == "group_by_field" || key == "group_size" || key == "strict_group_size" ||
               key == "rank_group_scorer") {
      Invalid("hybrid search with " + key + " is not supported by Ark's gRPC API yet");
    }
  }
  if (!rerank.empty()) (*body)["rerank"] = rerank;  // none: REST's default, RRF(k=60)
  return round_decimal;
}

// Milvus rounds hybrid scores on the server: floor(score * 10^d + 0.5) / 10^d.
void RoundScores(int decimals, ms::SearchResultData* results) {
  if (decimals < 0) return;
  const double scale = std::pow(10.0, decimals);
  for (float& s : *results->mutable_scores()) {
    s = static_cast<float>(std::floor(static_cast<double>(s) * scale + 0.5) / scale);
  }
}

// The SDKs' search iterator (v2): each call asks for the next batch and
// passes back the token of the previous answer. Ark's token is the number of
// hits already returned, so a batch is the search's next page (offset =
// token, limit = batch size): stateless, and the same hits in the same order
// as one search of the whole depth. pymilvus sends the keys as search params,
// the Node SDK inside the `params` JSON; both are read.
struct SearchIterator {
  bool on = false;
  uint64_t returned = 0;  // from the token
  std::optional<int64_t> batch;
  float last_bound = 0;
};

constexpr std::string_view kIteratorTokenPrefix = "ark-iter-v1:";

bool Truthy(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) return v == "true" || v == "True" || v == "1";
  return v.is_number() && v != 0;
}

SearchIterator IteratorOf(const mm::SearchRequest& req) {
  json kv = KeyValues(req.search_params());
  json nested = json::object();
  if (kv.contains("params")) {
    nested = json::parse(kv["params"].get<std::string>(), nullptr, false);
    if (!nested.is_object()) nested = json::object();
  }
  auto find = [&](const char* key) -> const json* {
    if (kv.contains(key)) return &kv[key];
    if (nested.contains(key)) return &nested[key];
    return nullptr;
  };
  SearchIterator it;
  const json* v2 = find("search_iter_v2");
  if (v2 == nullptr || !Truthy(*v2)) {
    const json* v1 = find("iterator");
    if (v1 != nullptr && Truthy(*v1)) {
      Invalid("search iterator v1 (range search with radius) is not supported by Ark; use search_iter_v2 "
              "(the SDKs' default)");
    }
    return it;
  }
  it.on = true;
  if (const json* b = find("search_iter_batch_size")) {
    json n = b->is_string() ? NumberOrString(b->get<std::string>()) : *b;
    if (!n.is_number_integer() || n.get<int64_t>() <= 0) {
      Invalid("search param search_iter_batch_size must be a positive integer, got " + b->dump());
    }
    it.batch = n.get<int64_t>();
  }
  if (const json* t = find("search_iter_id"); t != nullptr && !(t->is_string() && t->get_ref<const std::string&>().empty())) {
    const std::string token = t->is_string() ? t->get<std::string>() : t->dump();
    uint64_t n = 0;
    const char* digits = token.data() + kIteratorTokenPrefix.size();
    const char* end = token.data() + token.size();
    auto [ptr, ec] = std::from_chars(digits, end, n);
    if (token.rfind(kIteratorTokenPrefix, 0) != 0 || digits == end || ec != std::errc() || ptr != end) {
      Invalid("search param search_iter_id is not a token this server gave: " + token);
    }
    it.returned = n;
  }
  if (const json* b = find("search_iter_last_bound")) {
    json n = b->is_string() ? NumberOrString(b->get<std::string>()) : *b;
    if (n.is_number()) it.last_bound = n.get<float>();
  }
  return it;
}

void Search(RpcContext& ctx, const mm::SearchRequest& req, mm::SearchResults* resp) {
  int64_t limit = 0;
  json body = SearchBodyOf(req, false, &limit, false);
  int round_decimal = -1;
  for (const auto& kv : req.search_params()) {
    if (kv.key() == "round_decimal") round_decimal = RoundDecimal("search", kv.value());
  }
  const SearchIterator iterator = IteratorOf(req);
  if (iterator.on && body.contains("groupingField")) {
    Invalid("search iterator with group_by_field is not supported by Ark's gRPC API yet");
  }
  if (iterator.on) {
    if (iterator.batch) limit = *iterator.batch;
    // As REST's parser reads a JSON limit: a non-negative one is unsigned.
    body["limit"] = limit >= 0 ? json(static_cast<uint64_t>(limit)) : json(limit);
    body["offset"] = iterator.returned;  // REST's window check bounds the depth
  }
  // The vectors go to the handler as floats and the hits come back as
  // columns: no JSON on the way (docs/benchmarks/server.md measures it).
  server::SearchColumns columns;
  auto columnar = std::make_unique<server::ColumnarSearch>();
  const std::string& group = req.placeholder_group();
  columnar->vectors = [&group](uint32_t dim, size_t* num_queries) {
    return FloatsFromPlaceholders(group, dim, num_queries);
  };
  columnar->data = [&group] {
    try {
      return VectorsFromPlaceholders(group);
    } catch (const std::invalid_argument& e) {  // answered as the handler's own error
      throw server::HandlerError{{server::MilvusCode::kInvalidParameter, e.what(), 200}};
    }
  };
  columnar->out = &columns;
  json hits, extra;
  if (!Rest(ctx, DbOf(ctx, req.db_name()), "entities/search", std::move(body), resp->mutable_status(), &hits, &extra,
            true, std::move(columnar))) {
    return;
  }
  resp->set_collection_name(req.collection_name());
  if (columns.set) {
    SearchHitsToProto(columns.snapshot->schema(), columns.fields, columns.response, limit, resp->mutable_results());
  } else {
    SearchResultsToProto(extra, hits, extra.value("topks", json::array()), limit, resp->mutable_results());
  }
  if (columns.group) {
    GroupValuesToProto(columns.group->field, columns.group->field_index, columns.group->values,
                       resp->mutable_results());
  }
  RoundScores(round_decimal, resp->mutable_results());
  if (iterator.on) {
    ms::SearchResultData* results = resp->mutable_results();
    auto* next = results->mutable_search_iterator_v2_results();
    next->set_token(std::string(kIteratorTokenPrefix) +
                    std::to_string(iterator.returned + static_cast<uint64_t>(results->scores_size())));
    next->set_last_bound(results->scores_size() ? results->scores(results->scores_size() - 1) : iterator.last_bound);
    resp->set_session_ts(NowTimestamp());
  }
}

void HybridSearch(RpcContext& ctx, const mm::HybridSearchRequest& req, mm::SearchResults* resp) {
  if (req.has_function_score() && req.function_score().functions_size()) {
    Invalid("hybrid search with a function_score reranker is not supported by Ark's gRPC API yet "
            "(rank_params with the rrf or weighted strategy are)");
  }
  if (req.function_chains_size()) Invalid("hybrid search with function_chains is not supported by Ark's gRPC API yet");
  const std::string db = DbOf(ctx, req.db_name());
  json body{{"collectionName", req.collection_name()}};
  json subs = json::array();
  for (const auto& sub : req.requests()) {
    int64_t sub_limit;
    subs.push_back(SearchBodyOf(sub, true, &sub_limit));
  }
  body["search"] = std::move(subs);
  const int round_decimal = RankParams(req.rank_params(), &body);
  if (req.partition_names_size()) body["partitionNames"] = PartitionNames(req.partition_names());
  json output = json::array();
  for (const auto& f : req.output_fields()) output.push_back(f);
  body["outputFields"] = output;
  const int64_t limit = body.contains("limit") && body["limit"].is_number_integer() ? body["limit"].get<int64_t>() : 0;

  json hits, extra;
  if (!Rest(ctx, db, "entities/hybrid_search", std::move(body), resp->mutable_status(), &hits, &extra, true)) return;
  resp->set_collection_name(req.collection_name());
  SearchResultsToProto(extra, hits, extra.value("topks", json::array()), limit, resp->mutable_results());
  RoundScores(round_decimal, resp->mutable_results());
}

// Registered by method name. The handler's request and response types are
// those of the method in proto/milvus/milvus.proto (checked by a test).
// ARK_READ: the RPC only reads memory (snapshots, schemas, states) and never
// waits on the disk, an index build or a lock held across I/O.
#define ARK_RPC(name) {#name, Rpc{Unary(&name), false}}
#define ARK_READ(name) {#name, Rpc{Unary(&name), true}}

}  // namespace

const std::map<std::string, Rpc>& MilvusRpcs() {
  static const auto* table = new std::map<std::string, Rpc>{
      ARK_READ(Connect),
      ARK_READ(GetVersion),
      ARK_READ(CheckHealth),
      ARK_RPC(CreateDatabase),
      ARK_RPC(DropDatabase),
      ARK_READ(ListDatabases),
      ARK_READ(DescribeDatabase),
      ARK_RPC(AlterDatabase),
      ARK_RPC(CreateCollection),
      ARK_RPC(DropCollection),
      ARK_READ(HasCollection),
      ARK_READ(ShowCollections),
      ARK_READ(DescribeCollection),
      ARK_RPC(RenameCollection),
      ARK_RPC(AlterCollection),
      ARK_READ(GetCollectionStatistics),
      ARK_RPC(ManualCompaction),
      ARK_READ(GetCompactionState),
      ARK_READ(GetPersistentSegmentInfo),
      ARK_READ(GetQuerySegmentInfo),
      ARK_READ(GetReplicas),
      ARK_RPC(LoadCollection),
      ARK_RPC(ReleaseCollection),
      ARK_RPC(LoadPartitions),
      ARK_RPC(ReleasePartitions),
      ARK_READ(GetLoadState),
      ARK_READ(GetLoadingProgress),
      ARK_RPC(CreatePartition),
      ARK_RPC(DropPartition),
      ARK_READ(HasPartition),
      ARK_READ(ShowPartitions),
      ARK_READ(GetPartitionStatistics),
      ARK_RPC(CreateAlias),
      ARK_RPC(AlterAlias),
      ARK_RPC(DropAlias),
      ARK_READ(DescribeAlias),
      ARK_READ(ListAliases),
      ARK_RPC(CreateIndex),
      ARK_READ(DescribeIndex),
      ARK_READ(GetIndexState),
      ARK_READ(GetIndexBuildProgress),
      ARK_RPC(DropIndex),
      ARK_RPC(Insert),
      ARK_RPC(Upsert),
      ARK_RPC(Delete),
      ARK_RPC(Flush),
      ARK_READ(GetFlushState),
      ARK_READ(Search),
      ARK_READ(Query),
      ARK_READ(HybridSearch),
  };
  return *table;
}

namespace {

// A response of `method`'s output type with its status set, built by
// reflection: the output is either common.Status or a message with a
// `status` field of that type (every unary MilvusService method's is).
std::optional<std::string> StatusReply(const std::string& method, int code, const std::string& reason) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("milvus.proto.milvus.MilvusService");
  if (service == nullptr) return std::nullopt;
  const google::protobuf::MethodDescriptor* m = service->FindMethodByName(method);
  if (m == nullptr || m->client_streaming() || m->server_streaming()) return std::nullopt;
  mc::Status status;
  SetStatus(&status, code, reason);
  const google::protobuf::Descriptor* out = m->output_type();
  if (out == mc::Status::descriptor()) return status.SerializeAsString();
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(out);
  if (prototype == nullptr) return std::nullopt;
  std::unique_ptr<google::protobuf::Message> reply(prototype->New());
  const google::protobuf::FieldDescriptor* field = out->FindFieldByName("status");
  if (field != nullptr && field->message_type() == mc::Status::descriptor()) {
    reply->GetReflection()->MutableMessage(reply.get(), field)->CopyFrom(status);
  }
  return reply->SerializeAsString();
}

}  // namespace

std::optional<std::string> UnimplementedReply(const std::string& method) {
  return StatusReply(method, 1,
                     "the Milvus RPC " + method + " is not supported by Ark (docs/grpc.md lists the RPCs it serves)");
}

std::optional<std::string> ErrorReply(const std::string& method, int code, const std::string& reason) {
  return StatusReply(method, code, reason);
}

}  // namespace ark::rpc
