// MilvusService: entities/search, query, delete, get and hybrid_search.
#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>

#include "engine/collection_snapshot.h"
#include "server/milvus_fast_request.h"
#include "server/milvus_rank.h"
#include "server/milvus_request.h"
#include "server/milvus_schema.h"
#include "server/milvus_service.h"

namespace ark::server {
namespace {

// RequestContext::want_fields: the schema the handler read, in describe's shape.
void AddFieldsFor(RequestContext& ctx, const CollectionSchema& schema) {
  if (!ctx.want_fields) return;
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& f : schema.fields) fields.push_back(FieldJson(f, schema.auto_id));
  ctx.envelope_extra["fields"] = std::move(fields);
  ctx.envelope_extra["enableDynamicField"] = schema.enable_dynamic_field;
}

using nlohmann::json;

constexpr size_t kDefaultSearchLimit = 100;  // Milvus REST v2's default topK

const json* Member(const json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

// exprParams (Milvus 2.5 filter templates), or nullptr.
Result<const json*> ExprParams(const json& body, const std::string& collection) {
  const json* p = Member(body, "exprParams");
  if (p != nullptr && !p->is_object()) {
    return Status::InvalidArgument("collection " + collection +
                                   ": exprParams must be an object, got " + p->dump());
  }
  return p;
}

// Search parameters from an object that may hold "metricType" and "params"
// (searchParams of entities/search, or a hybrid sub-search), or ef/nprobe
// directly (a hybrid sub-search's `params`).
Status ApplySearchParams(const json& obj, const std::string& collection, SearchRequest* req) {
  if (obj.is_null()) return Status::OK();
  if (!obj.is_object()) {
    return Status::InvalidArgument("collection " + collection +
                                   ": searchParams must be an object, got " + obj.dump());
  }
  if (const json* m = Member(obj, "metricType"); m != nullptr) {
    if (!m->is_string()) return Status::InvalidArgument("metricType must be a string");
    if (!m->get_ref<const std::string&>().empty()) {
      auto metric = ParseMetric(m->get<std::string>());
      if (!metric.ok()) return metric.status().WithContext("collection " + collection);
      req->metric = *metric;
    }
  }
  json params = json::object();
  if (const json* p = Member(obj, "params"); p != nullptr) {
    if (!p->is_object()) {
      return Status::InvalidArgument("collection " + collection +
                                     ": search params must be an object, got " + p->dump());
    }
    params = *p;
  }
  for (const char* key : {"ef", "nprobe"}) {
    if (obj.contains(key) && !params.contains(key)) params[key] = obj[key];
  }
  auto parsed = ParseSearchParams(params);
  if (!parsed.ok()) return parsed.status().WithContext("collection " + collection);
  req->params = *parsed;
  return Status::OK();
}

json KeyJson(const PrimaryKey& key, bool int64_as_string) {
  if (const auto* i = std::get_if<int64_t>(&key)) {
    return int64_as_string ? json(std::to_string(*i)) : json(*i);
  }
  return json(std::get<std::string>(key));
}

}  // namespace

Result<std::shared_ptr<const CollectionSnapshot>> MilvusService::LoadedSnapshot(
    RequestContext& ctx, std::string* name, CollectionInfo* info) {
  ARK_ASSIGN_OR_RETURN(*info, Find(ctx, name));
  if (info->load.released) {
    ThrowApi(MilvusCode::kCollectionNotLoaded,
             "collection not loaded[database=" + ctx.db_name + "][collection=" + *name + "]");
  }
  ARK_ASSIGN_OR_RETURN(auto snap, db_->GetSnapshot(ctx.db_name, *name));
  return ScopeToPartitions(ctx, info->load, std::move(snap));  // partitionNames
}

// Reads a search's query vectors once the field's dim is known.
using VectorReader = std::function<Result<std::vector<float>>(uint32_t dim, size_t* num_queries)>;

namespace {

// One search request from `body` (entities/search or a hybrid sub-search),
// its vectors from `read_vectors` (`has_data`: the body has a non-null data).
Result<SearchRequest> BuildSearchRequest(const json& body, bool has_data,
                                         const VectorReader& read_vectors,
                                         const CollectionSchema& schema, const std::string& name,
                                         bool hybrid_sub, size_t max_window) {
  if (!has_data) ThrowMissing("data");
  SearchRequest req;
  ARK_ASSIGN_OR_RETURN(req.anns_field, OptionalString(body, "annsField"));
  ARK_ASSIGN_OR_RETURN(const FieldSchema* field, VectorField(schema, name, req.anns_field));
  req.anns_field = field->name;
  ARK_ASSIGN_OR_RETURN(req.vectors, read_vectors(field->dim, &req.num_queries));
  ARK_ASSIGN_OR_RETURN(Window w, ParseWindow(body, name, kDefaultSearchLimit, max_window));
  req.limit = w.limit;
  req.offset = w.offset;
  ARK_ASSIGN_OR_RETURN(req.filter, OptionalString(body, "filter"));
  ARK_ASSIGN_OR_RETURN(const json* params, ExprParams(body, name));
  if (params != nullptr) req.filter_params = *params;
  if (hybrid_sub) {
    // {metricType, params:{ef}} or params:{ef} with metricType beside it.
    json sp = json::object();
    if (body.contains("metricType")) sp["metricType"] = body["metricType"];
    if (const json* p = Member(body, "params"); p != nullptr) {
      if (!p->is_object()) {
        return Status::InvalidArgument("collection " + name + ": params must be an object");
      }
      for (auto& [k, v] : p->items()) {
        if (k == "params" || k == "metricType" || k == "ef" || k == "nprobe") sp[k] = v;
      }
    }
    ARK_RETURN_IF_ERROR(ApplySearchParams(sp, name, &req));
  } else {
    json sp = body.value("searchParams", json());
    if (sp.is_null() && body.contains("metricType")) sp = json{{"metricType", body["metricType"]}};
    ARK_RETURN_IF_ERROR(ApplySearchParams(sp, name, &req));
  }
  return req;
}

// Grouping search (entities/search `groupingField`): the answer holds up to
// `limit` groups (distinct values of the field) after skipping `offset`
// groups, groups ordered by their best hit, each with up to `group_size`
// hits by score.
struct Grouping {
  size_t field = 0;  // schema field index (== its column in the hit rows)
  size_t group_size = 1;
  bool strict = false;  // search deeper until every kept group is full (or the rows run out)
};

// Milvus's groupable types: integers, Bool and VarChar (a float has no
// useful equality, a vector or a JSON document no single value).
bool Groupable(DataType t) {
  switch (t) {
    case DataType::kBool:
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kVarChar:
      return true;
    default:
      return false;
  }
}

// The grouping an entities/search body asks for (nullopt without a
// groupingField). `window` is limit + offset (groups); groupSize times it must
// fit `max_window`, so that a grouped answer is bounded as a plain one is.
// groupSize and strictGroupSize are checked even without a groupingField: a
// malformed key is refused wherever it is sent.
Result<std::optional<Grouping>> ParseGrouping(const json& body, const CollectionSchema& schema,
                                              const std::string& name, size_t window,
                                              size_t max_window) {
  const std::string ctx = "collection " + name;
  Grouping g;
  if (const json* size = Member(body, "groupSize"); size != nullptr) {
    if (!size->is_number_unsigned() || size->get<uint64_t>() == 0) {
      return Status::InvalidArgument(ctx + ": groupSize must be a positive integer, got " + size->dump());
    }
    const uint64_t n = size->get<uint64_t>();
    const size_t bound = std::min(max_window, kMaxSearchWindow);
    if (n > bound || n * window > bound) {
      return Status::InvalidArgument(ctx + ": groupSize * (limit + offset) is " +
                                     (n > bound ? "more than " + std::to_string(bound)
                                                : std::to_string(n * window)) +
                                     ", the maximum is " + std::to_string(bound));
    }
    g.group_size = static_cast<size_t>(n);
  }
  if (const json* strict = Member(body, "strictGroupSize"); strict != nullptr) {
    if (!strict->is_boolean()) {
      return Status::InvalidArgument(ctx + ": strictGroupSize must be true or false, got " + strict->dump());
    }
    g.strict = strict->get<bool>();
  }
  const json* field = Member(body, "groupingField");
  if (field == nullptr) return std::optional<Grouping>();
  if (!field->is_string()) {
    return Status::InvalidArgument(ctx + ": groupingField must be a field name, got " + field->dump());
  }
  const std::string& fname = field->get_ref<const std::string&>();
  if (fname.empty()) return std::optional<Grouping>();  // as Milvus: an empty name groups nothing
  const int index = schema.FieldIndex(fname);
  if (index < 0) {
    if (schema.enable_dynamic_field) {
      return Status::InvalidArgument(ctx + ": groupingField " + fname +
                                     " is not a schema field; dynamic keys cannot be grouped by");
    }
    return Status::InvalidArgument(ctx + ": groupingField " + fname + " not exist");
  }
  const FieldSchema& f = schema.fields[static_cast<size_t>(index)];
  if (!Groupable(f.type)) {
    return Status::InvalidArgument(ctx + ": groupingField " + fname + " has type " +
                                   std::string(DataTypeName(f.type)) +
                                   "; grouping needs Int8, Int16, Int32, Int64, Bool or VarChar");
  }
  g.field = static_cast<size_t>(index);
  return std::optional<Grouping>(g);
}

// The value a hit is grouped by (Bool and integers are held as int64).
PrimaryKey GroupKey(const Column& values, size_t row) {
  if (values.type == DataType::kVarChar) return values.strings[row];
  return values.ints[row];
}

// The hits one query keeps after grouping (indices into its hits, in answer
// order) and whether the searched depth held enough: `offset + limit` groups
// and, when strict, every one of them full.
struct GroupCut {
  std::vector<uint32_t> rows;
  bool enough = false;
};

GroupCut CutGroups(const SearchHits& hits, const Grouping& g, size_t offset, size_t limit) {
  const Column& values = hits.rows.columns[g.field];
  const size_t wanted = offset + limit;
  std::unordered_map<PrimaryKey, size_t> group_of;
  std::vector<std::vector<uint32_t>> groups;  // in the order of their best hit
  for (size_t i = 0; i < hits.scores.size(); ++i) {
    PrimaryKey key = GroupKey(values, i);
    auto it = group_of.find(key);
    if (it == group_of.end()) {
      if (groups.size() == wanted) continue;  // a later group never outranks a kept one
      it = group_of.emplace(std::move(key), groups.size()).first;
      groups.emplace_back();
    }
    if (groups[it->second].size() < g.group_size) groups[it->second].push_back(static_cast<uint32_t>(i));
  }
  GroupCut cut;
  cut.enough = groups.size() == wanted;
  for (size_t k = 0; k < groups.size(); ++k) {
    if (g.strict && groups[k].size() < g.group_size) cut.enough = false;
    if (k >= offset) cut.rows.insert(cut.rows.end(), groups[k].begin(), groups[k].end());
  }
  return cut;
}

// Rows `rows` of hit rows `batch`; columns the search left empty
// (SearchRequest::output_columns) stay empty.
RowBatch SelectHitRows(const RowBatch& batch, const std::vector<uint32_t>& rows) {
  RowBatch out;
  out.num_rows = rows.size();
  for (const Column& c : batch.columns) {
    Column e;
    e.type = c.type;
    e.dim = c.dim;
    if (c.size() > 0) {
      e.Reserve(rows.size());
      for (uint32_t r : rows) e.AppendFrom(c, r);
    }
    out.columns.push_back(std::move(e));
  }
  return out;
}

// A grouped search: the engine is asked for a deeper top-k than the answer
// needs (limit x groupSize x 4 at first), deepened x4 until every query has
// enough groups or the engine's window (kMaxSearchWindow) or the rows run
// out; then the hits are grouped and cut. `req` must return column g.field.
Result<SearchResponse> GroupedSearch(const CollectionSnapshot& snap, SearchRequest req,
                                     const Grouping& g) {
  const size_t offset = req.offset;
  const size_t limit = req.limit;
  size_t depth = std::min(kMaxSearchWindow, (offset + limit) * g.group_size * 4);
  req.offset = 0;
  for (;;) {
    req.limit = depth;
    ARK_ASSIGN_OR_RETURN(SearchResponse resp, snap.Search(req));
    std::vector<GroupCut> cuts;
    bool deeper = false;
    for (const SearchHits& hits : resp.queries) {
      cuts.push_back(CutGroups(hits, g, offset, limit));
      // Fewer hits than asked: the (filtered) rows are exhausted.
      if (!cuts.back().enough && hits.scores.size() >= depth) deeper = true;
    }
    if (deeper && depth < kMaxSearchWindow) {
      depth = std::min(kMaxSearchWindow, depth * 4);
      continue;
    }
    for (size_t q = 0; q < resp.queries.size(); ++q) {
      SearchHits& hits = resp.queries[q];
      SearchHits kept;
      for (uint32_t r : cuts[q].rows) kept.scores.push_back(hits.scores[r]);
      kept.rows = SelectHitRows(hits.rows, cuts[q].rows);
      hits = std::move(kept);
    }
    return resp;
  }
}

}  // namespace

Result<SearchRequest> MilvusService::SearchRequestFromJson(const json& body,
                                                           const CollectionSchema& schema,
                                                           const std::string& name,
                                                           bool hybrid_sub) const {
  const json* data = Member(body, "data");
  auto read = [&](uint32_t dim, size_t* num_queries) {
    return ParseQueryVectors(*data, name, dim, num_queries);
  };
  return BuildSearchRequest(body, data != nullptr, read, schema, name, hybrid_sub,
                            limits_.max_limit_offset);
}

Result<json> MilvusService::Search(RequestContext& ctx) {
  std::string name;
  CollectionInfo info;
  ARK_ASSIGN_OR_RETURN(auto snap, LoadedSnapshot(ctx, &name, &info));
  SearchRequest req;
  auto* columnar = dynamic_cast<ColumnarSearch*>(ctx.parsed.get());
  if (columnar != nullptr) {
    // Floats straight from the transport; anything unusual goes through the
    // REST `data` and ParseQueryVectors, which name the problem.
    auto read = [&](uint32_t dim, size_t* num_queries) -> Result<std::vector<float>> {
      if (auto vectors = columnar->vectors(dim, num_queries)) return std::move(*vectors);
      return ParseQueryVectors(columnar->data(), name, dim, num_queries);
    };
    ARK_ASSIGN_OR_RETURN(req, BuildSearchRequest(ctx.body, true, read, snap->schema(), name, false,
                                                 limits_.max_limit_offset));
  } else if (auto* fast = dynamic_cast<FastSearchRequest*>(ctx.parsed.get())) {
    // Vectors straight from the DOM; on any problem the generic path names it.
    auto read = [&](uint32_t dim, size_t* num_queries) -> Result<std::vector<float>> {
      auto vectors = QueryVectorsFromDom(fast->data, dim, num_queries);
      if (!vectors) throw ReparseBody{};
      return std::move(*vectors);
    };
    ARK_ASSIGN_OR_RETURN(req, BuildSearchRequest(ctx.body, fast->has_data, read, snap->schema(),
                                                 name, false, limits_.max_limit_offset));
    ctx.parsed.reset();  // hand the DOM parser back before the search
  } else {
    ARK_ASSIGN_OR_RETURN(req, SearchRequestFromJson(ctx.body, snap->schema(), name, false));
  }
  ARK_ASSIGN_OR_RETURN(OutputProjection proj,
                       OutputProjection::Make(snap->schema(), name,
                                              ctx.body.value("outputFields", json())));
  ARK_ASSIGN_OR_RETURN(std::optional<Grouping> grouping,
                       ParseGrouping(ctx.body, snap->schema(), name, req.limit + req.offset,
                                     limits_.max_limit_offset));
  req.output_columns = proj.Columns();  // a first search decodes no column it does not return
  SearchResponse resp;
  if (grouping) {
    req.output_columns[grouping->field] = true;  // the hits are grouped by its values
    ARK_ASSIGN_OR_RETURN(resp, GroupedSearch(*snap, std::move(req), *grouping));
  } else {
    ARK_ASSIGN_OR_RETURN(resp, snap->Search(req));
  }
  const CollectionSchema& schema = snap->schema();
  if (columnar != nullptr) {
    SearchColumns* answer = columnar->out;
    if (grouping) {
      // gRPC answers the group values beside the hits (group_by_field_value),
      // whichever way the hits travel.
      SearchGroupValues& group = answer->group.emplace();
      group.field_index = grouping->field;
      group.field = schema.fields[grouping->field];
      group.values.type = group.field.type;
      for (const SearchHits& hits : resp.queries) {
        for (size_t i = 0; i < hits.scores.size(); ++i) {
          group.values.AppendFrom(hits.rows.columns[grouping->field], i);
        }
      }
    }
    if (auto fields = proj.SchemaFields()) {
      answer->fields = std::move(*fields);
      answer->response = std::move(resp);
      answer->snapshot = std::move(snap);
      answer->set = true;
      return json();
    }
  }
  AddFieldsFor(ctx, schema);
  const size_t pk_col = schema.PrimaryKeyIndex();
  json out = json::array();
  json topks = json::array();
  for (const SearchHits& hits : resp.queries) {
    topks.push_back(hits.scores.size());
    for (size_t i = 0; i < hits.scores.size(); ++i) {
      json row = proj.Row(hits.rows, i, ctx.int64_as_string);
      row["id"] = KeyJson(PrimaryKeyAt(hits.rows.columns[pk_col], i), ctx.int64_as_string);
      row["distance"] = hits.scores[i];
      if (grouping && columnar == nullptr) {
        // REST hits carry the value they were grouped by, as Milvus's do
        // (gRPC sends it apart, in group_by_field_value).
        const FieldSchema& f = schema.fields[grouping->field];
        const Column& c = hits.rows.columns[grouping->field];
        row[f.name] = ctx.int64_as_string && f.type == DataType::kInt64 ? json(std::to_string(c.ints[i]))
                                                                        : FieldValueToJson(f, c, i);
      }
      out.push_back(std::move(row));
    }
  }
  ctx.envelope_extra["topks"] = std::move(topks);
  return out;
}

Result<json> MilvusService::HybridSearch(RequestContext& ctx) {
  std::string name;
  CollectionInfo info;
  ARK_ASSIGN_OR_RETURN(auto snap, LoadedSnapshot(ctx, &name, &info));
  const CollectionSchema& schema = snap->schema();
  AddFieldsFor(ctx, schema);
  const json* subs = Member(ctx.body, "search");
  if (subs == nullptr) ThrowMissing("search");
  if (Member(ctx.body, "groupingField") != nullptr) {
    return Status::InvalidArgument("collection " + name +
                                   ": groupingField is not supported by entities/hybrid_search in Ark "
                                   "(entities/search groups)");
  }
  if (!subs->is_array() || subs->empty()) {
    return Status::InvalidArgument("collection " + name +
                                   ": search must be a non-empty array of sub-searches");
  }
  if (subs->size() > 1024) {
    return Status::InvalidArgument("collection " + name + ": at most 1024 sub-searches");
  }
  ARK_ASSIGN_OR_RETURN(Reranker ranker,
                       Reranker::FromJson(ctx.body.value("rerank", json()), subs->size()));
  ARK_ASSIGN_OR_RETURN(Window w, ParseWindow(ctx.body, name, kDefaultSearchLimit, limits_.max_limit_offset));
  ARK_ASSIGN_OR_RETURN(OutputProjection proj,
                       OutputProjection::Make(schema, name, ctx.body.value("outputFields", json())));
  std::vector<SearchResponse> responses;
  size_t nq = 0;
  for (size_t s = 0; s < subs->size(); ++s) {
    const json& sub = (*subs)[s];
    if (!sub.is_object()) {
      return Status::InvalidArgument("collection " + name + ": search[" + std::to_string(s) +
                                     "] must be an object");
    }
    if (Member(sub, "groupingField") != nullptr) {
      return Status::InvalidArgument("collection " + name + ": search[" + std::to_string(s) +
                                     "]: groupingField is not supported by entities/hybrid_search in Ark");
    }
    ARK_ASSIGN_OR_RETURN(SearchRequest req, SearchRequestFromJson(sub, schema, name, true));
    if (s == 0) nq = req.num_queries;
    if (req.num_queries != nq) {
      return Status::InvalidArgument("collection " + name +
                                     ": every sub-search must have the same number of vectors");
    }
    ARK_ASSIGN_OR_RETURN(SearchResponse resp, snap->Search(req));
    responses.push_back(std::move(resp));
  }
  const size_t pk_col = schema.PrimaryKeyIndex();
  json out = json::array();
  json topks = json::array();
  for (size_t q = 0; q < nq; ++q) {
    std::vector<RankedList> lists;
    for (const SearchResponse& resp : responses) {
      const SearchHits& hits = resp.queries[q];
      RankedList list;
      list.metric = resp.metric;
      list.scores = hits.scores;
      for (size_t i = 0; i < hits.scores.size(); ++i) {
        list.keys.push_back(PrimaryKeyToString(PrimaryKeyAt(hits.rows.columns[pk_col], i)));
      }
      lists.push_back(std::move(list));
    }
    std::vector<FusedHit> fused = Fuse(ranker, lists);
    size_t taken = 0;
    for (size_t i = w.offset; i < fused.size() && taken < w.limit; ++i, ++taken) {
      const RowBatch& rows = responses[fused[i].list].queries[q].rows;
      json row = proj.Row(rows, fused[i].row, ctx.int64_as_string);
      row["id"] = KeyJson(PrimaryKeyAt(rows.columns[pk_col], fused[i].row), ctx.int64_as_string);
      row["distance"] = fused[i].score;
      out.push_back(std::move(row));
    }
    topks.push_back(taken);
  }
  ctx.envelope_extra["topks"] = std::move(topks);
  return out;
}

Result<json> MilvusService::Query(RequestContext& ctx) {
  std::string name;
  CollectionInfo info;
  ARK_ASSIGN_OR_RETURN(auto snap, LoadedSnapshot(ctx, &name, &info));
  const CollectionSchema& schema = snap->schema();
  AddFieldsFor(ctx, schema);
  ARK_ASSIGN_OR_RETURN(std::string filter, OptionalString(ctx.body, "filter"));
  ARK_ASSIGN_OR_RETURN(const json* params, ExprParams(ctx.body, name));
  ARK_ASSIGN_OR_RETURN(OutputProjection proj,
                       OutputProjection::Make(schema, name, ctx.body.value("outputFields", json())));
  ARK_ASSIGN_OR_RETURN(Window w, ParseWindow(ctx.body, name, 0, limits_.max_limit_offset));
  if (proj.wants_count()) {
    ARK_ASSIGN_OR_RETURN(uint64_t n, snap->Count(filter, params));
    return json::array({json{{"count(*)", n}}});
  }
  if (filter.empty() && !w.limit_given) {
    return Status::InvalidArgument("collection " + name +
                                   ": empty expression should be used with limit");
  }
  QueryRequest req;
  req.filter = filter;
  if (params != nullptr) req.filter_params = *params;
  req.offset = w.offset;
  if (w.limit_given) req.limit = w.limit;
  ARK_ASSIGN_OR_RETURN(RowBatch rows, snap->Query(req));
  json out = json::array();
  for (size_t i = 0; i < rows.num_rows; ++i) out.push_back(proj.Row(rows, i, ctx.int64_as_string));
  return out;
}

Result<json> MilvusService::Get(RequestContext& ctx) {
  std::string name;
  CollectionInfo info;
  ARK_ASSIGN_OR_RETURN(auto snap, LoadedSnapshot(ctx, &name, &info));
  const json* ids = Member(ctx.body, "id");
  if (ids == nullptr) ThrowMissing("id");
  ARK_ASSIGN_OR_RETURN(auto keys, KeysFromJson(*ids, snap->schema().PrimaryKey(), name));
  const json fields = ctx.body.value("outputFields", json());
  OutputProjection proj = OutputProjection::All(snap->schema());
  if (!fields.is_null() && !fields.empty()) {
    ARK_ASSIGN_OR_RETURN(proj, OutputProjection::Make(snap->schema(), name, fields));
    if (proj.wants_count()) {
      return Status::InvalidArgument("collection " + name + ": count(*) is not valid for get");
    }
  }
  ARK_ASSIGN_OR_RETURN(RowBatch rows, snap->Get(keys));
  json out = json::array();
  for (size_t i = 0; i < rows.num_rows; ++i) out.push_back(proj.Row(rows, i, ctx.int64_as_string));
  return out;
}

Result<json> MilvusService::Delete(RequestContext& ctx) {
  std::string name;
  CollectionInfo info;
  ARK_ASSIGN_OR_RETURN(info, Find(ctx, &name));
  const json* filter = Member(ctx.body, "filter");
  const json* ids = Member(ctx.body, "id");
  WriteResult written;
  ARK_ASSIGN_OR_RETURN(std::string partition, OptionalString(ctx.body, "partitionName"));
  if (filter == nullptr && ids != nullptr) {
    ARK_ASSIGN_OR_RETURN(auto keys, KeysFromJson(*ids, info.schema.PrimaryKey(), name));
    ARK_ASSIGN_OR_RETURN(written, db_->Delete(ctx.db_name, name, keys, partition));
  } else {
    if (filter == nullptr) ThrowMissing("filter");
    if (!filter->is_string() || filter->get_ref<const std::string&>().empty()) {
      return Status::InvalidArgument("collection " + name +
                                     ": filter must be a non-empty expression, got " +
                                     filter->dump());
    }
    ARK_ASSIGN_OR_RETURN(const json* params, ExprParams(ctx.body, name));
    std::vector<std::string> partitions;
    if (!partition.empty()) partitions.push_back(partition);
    ARK_ASSIGN_OR_RETURN(written, db_->DeleteByFilter(ctx.db_name, name, filter->get<std::string>(),
                                                      params, partitions));
  }
  return json{{"deleteCount", written.count}};
}

}  // namespace ark::server
