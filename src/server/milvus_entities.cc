// MilvusService: entities/search, query, delete, get and hybrid_search.
#include <functional>
#include <optional>

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
  req.output_columns = proj.Columns();  // a first search decodes no column it does not return
  ARK_ASSIGN_OR_RETURN(SearchResponse resp, snap->Search(req));
  const CollectionSchema& schema = snap->schema();
  if (columnar != nullptr) {
    if (auto fields = proj.SchemaFields()) {
      SearchColumns* answer = columnar->out;
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
