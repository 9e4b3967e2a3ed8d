// MilvusService: indexes/create, list, describe, drop, and the index
// declarations of collections/create (quick create: AUTOINDEX on the vector
// field; full create: its indexParams).
#include "engine/index_definition.h"
#include "server/milvus_request.h"
#include "server/milvus_schema.h"
#include "server/milvus_service.h"

namespace ark::server {
namespace {

using nlohmann::json;

[[noreturn]] void ThrowIndexNotFound(const std::string& collection, const std::string& index) {
  ThrowApi(MilvusCode::kIndexNotFound,
           "index not found[collection=" + collection + "][indexName=" + index + "]");
}

json DescribeIndexJson(const IndexInfo& info) {
  const IndexDefinition& d = info.definition;
  return json{{"indexName", d.index_name},
              {"fieldName", d.field_name},
              {"indexType", d.index_type.empty() ? "AUTOINDEX" : d.index_type},
              {"metricType", std::string(MetricName(d.spec.metric))},
              {"params", d.params},
              {"indexState", info.state},
              {"totalRows", info.total_rows},
              {"indexedRows", info.indexed_rows},
              {"pendingRows", info.pending_rows},
              {"failReason", info.fail_reason}};
}

}  // namespace

Result<std::vector<IndexRequest>> IndexRequestsFromJson(const json& index_params,
                                                        const CollectionSchema& schema,
                                                        const std::string& collection) {
  const std::string ctx = "collection " + collection;
  if (!index_params.is_array() || index_params.empty()) {
    return Status::InvalidArgument(ctx + ": indexParams must be a non-empty array");
  }
  std::vector<IndexRequest> out;
  for (size_t i = 0; i < index_params.size(); ++i) {
    const json& p = index_params[i];
    const std::string ictx = ctx + ", indexParams[" + std::to_string(i) + "]";
    if (!p.is_object()) return Status::InvalidArgument(ictx + " must be an object");
    IndexRequest r;
    auto field = OptionalString(p, "fieldName");
    if (!field.ok()) return field.status().WithContext(ictx);
    if (field->empty()) ThrowMissing("fieldName");
    r.field = *field;
    auto name = OptionalString(p, "indexName", r.field);
    if (!name.ok()) return name.status().WithContext(ictx);
    r.index_name = name->empty() ? r.field : *name;
    auto metric = OptionalString(p, "metricType");
    if (!metric.ok()) return metric.status().WithContext(ictx);
    r.metric = *metric;
    r.params = p.value("params", json::object());
    if (!r.params.is_object()) return Status::InvalidArgument(ictx + ": params must be an object");
    auto type = OptionalString(p, "indexType");
    if (!type.ok()) return type.status().WithContext(ictx);
    r.type = *type;
    if (auto t = r.params.find("index_type"); t != r.params.end()) {
      if (!t->is_string()) return Status::InvalidArgument(ictx + ": params.index_type must be a string");
      if (r.type.empty()) r.type = t->get<std::string>();
      r.params.erase(t);
    }
    if (r.type.empty()) r.type = "AUTOINDEX";
    // Validates field, type, metric and params before anything is written.
    ARK_RETURN_IF_ERROR(MakeIndexDefinition(schema, collection, r.index_name, r.field, r.type,
                                            r.metric, r.params)
                            .status());
    out.push_back(std::move(r));
  }
  return out;
}

Result<json> MilvusService::CreateIndex(RequestContext& ctx) {
  std::string name;
  ARK_ASSIGN_OR_RETURN(CollectionInfo info, Find(ctx, &name));
  auto params = ctx.body.find("indexParams");
  if (params == ctx.body.end() || params->is_null()) ThrowMissing("indexParams");
  ARK_ASSIGN_OR_RETURN(auto requests, IndexRequestsFromJson(*params, info.schema, name));
  for (const IndexRequest& r : requests) {
    ARK_RETURN_IF_ERROR(db_->CreateIndex(ctx.db_name, name, r.index_name, r.field, r.type,
                                         r.metric, r.params, /*replace=*/false)
                            .status());
  }
  return json::object();
}

Result<json> MilvusService::ListIndexes(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  ARK_ASSIGN_OR_RETURN(auto infos, db_->ListIndexes(ctx.db_name, name));
  json out = json::array();
  for (const IndexInfo& i : infos) out.push_back(i.definition.index_name);
  return out;
}

Result<json> MilvusService::DescribeIndex(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  ARK_ASSIGN_OR_RETURN(std::string index, RequiredString(ctx.body, "indexName"));
  ARK_ASSIGN_OR_RETURN(auto infos, db_->ListIndexes(ctx.db_name, name));
  for (const IndexInfo& i : infos) {
    if (i.definition.index_name == index) return json::array({DescribeIndexJson(i)});
  }
  ThrowIndexNotFound(name, index);
}

Result<json> MilvusService::DropIndex(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  ARK_ASSIGN_OR_RETURN(std::string index, RequiredString(ctx.body, "indexName"));
  ARK_ASSIGN_OR_RETURN(auto infos, db_->ListIndexes(ctx.db_name, name));
  bool found = false;
  for (const IndexInfo& i : infos) found = found || i.definition.index_name == index;
  if (!found) ThrowIndexNotFound(name, index);
  ARK_RETURN_IF_ERROR(db_->DropIndex(ctx.db_name, name, index).status());
  return json::object();
}

json MilvusService::IndexesJson(const std::string& db, const std::string& name) const {
  json out = json::array();
  auto infos = db_->ListIndexes(db, name);
  if (!infos.ok()) return out;
  for (const IndexInfo& i : *infos) {
    out.push_back({{"fieldName", i.definition.field_name},
                   {"indexName", i.definition.index_name},
                   {"metricType", std::string(MetricName(i.definition.spec.metric))}});
  }
  return out;
}

}  // namespace ark::server
