// MilvusService: the Milvus REST v2 routes over one Database.
//
// Each handler validates its body, calls the engine, and shapes the reply the
// way Milvus does (see the reference notes on REST v2). Collections are
// namespaced by dbName. Ark keeps every collection's data in memory or mapped,
// so load/release only flip the load state that Milvus clients expect to see;
// that state is the engine's (CollectionLoadState: durable, so a restart, a
// restore and a standby report what the primary did).
//
// Search answers one flat list of hits ({id, distance, outputFields...})
// with "topks" beside "data" in the envelope; query with count(*) answers
// [{"count(*)": N}]; entities/get applies outputFields (all fields when
// absent). See docs/server.md for every route's semantics and limits.
//
// Thread-safety: handlers run concurrently; the Database is thread-safe;
// load-state changes (read, change, write back) are serialised by load_mu_.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "engine/collection_snapshot.h"
#include "engine/database.h"
#include "server/http_server.h"

namespace ark::server {

// entities/insert and upsert for a transport whose rows arrive in columns
// (gRPC's FieldData), set as RequestContext::parsed. `build` makes the batch
// straight from the columns for the collection's schema, or returns nullopt
// for anything but the plain case (then `rows` gives the same rows as the
// REST `data` array, and the generic path validates them and names any
// problem, so both paths accept and refuse exactly the same writes; `rows`
// itself refuses columns the schema has no place for).
struct ColumnarWrite : ParsedBody {
  std::function<std::optional<RowBatch>(const CollectionSchema& schema, WriteKind kind)> build;
  std::function<nlohmann::json(const CollectionSchema& schema)> rows;
  size_t num_rows = 0;
};

// entities/search for a transport whose query vectors arrive as floats and
// whose answer goes out in columns (gRPC), set as RequestContext::parsed.
// `vectors` gives the query vectors once the anns field's dim is known, or
// nullopt for anything but the plain case (then `data` gives the REST `data`
// array and the generic ParseQueryVectors names the problem, so both paths
// accept and refuse the same searches). When the projection has no dynamic
// keys the handler leaves its answer in `*out` (and returns null) instead of
// building REST rows; `out->set` says which happened. A grouping search
// (groupingField) fills `out->group` in both cases: the transport sends the
// group values apart from the hits (gRPC's group_by_field_value), and the
// REST rows then do not carry them unless outputFields asks.
struct SearchGroupValues {
  size_t field_index = 0;  // the group field's index in the schema
  FieldSchema field;
  Column values;  // the value each hit was grouped by, one per hit, in answer order
};
struct SearchColumns {
  bool set = false;
  std::shared_ptr<const CollectionSnapshot> snapshot;  // owns the schema
  std::vector<size_t> fields;  // schema fields to return (OutputProjection::SchemaFields)
  SearchResponse response;
  std::optional<SearchGroupValues> group;  // grouping searches only; set even when `set` is not
};
struct ColumnarSearch : ParsedBody {
  std::function<std::optional<std::vector<float>>(uint32_t dim, size_t* num_queries)> vectors;
  std::function<nlohmann::json()> data;
  SearchColumns* out = nullptr;  // owned by the caller; outlives the call
};

class MilvusService {
 public:
  MilvusService(Database* db, const LimitsConfig& limits) : db_(db), limits_(limits) {}
  void Register(HttpServer& http);

 private:
  Result<nlohmann::json> CreateCollection(RequestContext& ctx);
  Result<nlohmann::json> ListCollections(RequestContext& ctx);
  Result<nlohmann::json> HasCollection(RequestContext& ctx);
  Result<nlohmann::json> DescribeCollection(RequestContext& ctx);
  Result<nlohmann::json> DropCollection(RequestContext& ctx);
  Result<nlohmann::json> RenameCollection(RequestContext& ctx);
  Result<nlohmann::json> GetStats(RequestContext& ctx);
  Result<nlohmann::json> SetLoaded(RequestContext& ctx, bool loaded);
  // collections/alter_properties and drop_properties.
  Result<nlohmann::json> AlterProperties(RequestContext& ctx);
  Result<nlohmann::json> DropProperties(RequestContext& ctx);
  Result<nlohmann::json> GetLoadState(RequestContext& ctx);
  Result<nlohmann::json> Flush(RequestContext& ctx);
  Result<nlohmann::json> Write(RequestContext& ctx, WriteKind kind);
  // milvus_entities.cc
  Result<nlohmann::json> Get(RequestContext& ctx);
  Result<nlohmann::json> Search(RequestContext& ctx);
  Result<nlohmann::json> HybridSearch(RequestContext& ctx);
  Result<nlohmann::json> Query(RequestContext& ctx);
  Result<nlohmann::json> Delete(RequestContext& ctx);
  // milvus_indexes.cc
  Result<nlohmann::json> CreateIndex(RequestContext& ctx);
  Result<nlohmann::json> ListIndexes(RequestContext& ctx);
  Result<nlohmann::json> DescribeIndex(RequestContext& ctx);
  Result<nlohmann::json> DropIndex(RequestContext& ctx);
  // milvus_partitions.cc
  void RegisterPartitions(HttpServer& http);
  // `key` (partitionNames) of the body: an array of names (empty if absent).
  static Result<std::vector<std::string>> PartitionNamesFromBody(const nlohmann::json& body,
                                                                 const char* key);
  // `snap` restricted to the partitions named by `key` in the body (code 200
  // for an unknown one, 201 for a released one) or, without them, to the
  // loaded partitions of a partly loaded collection (`load`).
  Result<std::shared_ptr<const CollectionSnapshot>> ScopeToPartitions(
      RequestContext& ctx, const CollectionLoadState& load, std::shared_ptr<const CollectionSnapshot> snap,
      const char* key = "partitionNames");
  // Stores the load state of the collection named in the body: `change`
  // turns its current state into the new one; load_mu_ is held throughout.
  Status ChangeLoadState(RequestContext& ctx, const std::string& name,
                         const std::function<Status(CollectionLoadState*)>& change);
  // describe's `indexes`: [{fieldName, indexName, metricType}].
  nlohmann::json IndexesJson(const std::string& db, const std::string& name) const;

  // A snapshot of the named collection; code 100 when unknown, 101 when released.
  Result<std::shared_ptr<const CollectionSnapshot>> LoadedSnapshot(RequestContext& ctx,
                                                                   std::string* name,
                                                                   CollectionInfo* info);
  Result<SearchRequest> SearchRequestFromJson(const nlohmann::json& body,
                                                     const CollectionSchema& schema,
                                                     const std::string& name, bool hybrid_sub) const;

  // The collection named in the body, or code 100 naming database and collection.
  Result<CollectionInfo> Find(RequestContext& ctx, std::string* name);
  // Code 800 "database not found[database=D]" unless ctx.db_name exists.
  void RequireDatabase(const RequestContext& ctx);

  Database* db_;
  LimitsConfig limits_;
  std::mutex load_mu_;  // serialises load-state changes
};

}  // namespace ark::server
