#include "engine/index_definition.h"

#include <fmt/format.h>

#include "engine/json_number.h"

namespace ark {

nlohmann::json IndexDefinition::ToJson() const {
  return {{"indexName", index_name},
          {"fieldName", field_name},
          {"indexType", index_type},
          {"metricType", std::string(MetricName(spec.metric))},
          {"dim", spec.dim},
          {"params", params}};
}

Result<IndexDefinition> IndexDefinition::FromJson(const nlohmann::json& j) {
  try {
    IndexDefinition d;
    d.index_name = j.at("indexName").get<std::string>();
    d.field_name = j.at("fieldName").get<std::string>();
    d.index_type = j.at("indexType").get<std::string>();
    d.params = j.at("params");
    const auto metric = j.at("metricType").get<std::string>();
    const auto dim = JsonUnsigned<uint32_t>(j.at("dim"));
    auto spec = ParseIndexSpec(d.index_type, metric, dim, d.params);
    if (!spec.ok()) {
      return Status::Corruption(fmt::format("index definition '{}': {}", d.index_name,
                                            spec.status().message()));
    }
    d.spec = *spec;
    return d;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(fmt::format("index definition {}: {}", j.dump(), e.what()));
  } catch (const std::invalid_argument& e) {
    return Status::Corruption(fmt::format("index definition {}: {}", j.dump(), e.what()));
  }
}

Result<IndexDefinition> MakeIndexDefinition(const CollectionSchema& schema,
                                            std::string_view collection, std::string index_name,
                                            const std::string& field_name,
                                            const std::string& index_type,
                                            const std::string& metric_type,
                                            const nlohmann::json& params) {
  int f = schema.FieldIndex(field_name);
  if (field_name.empty()) {
    return Status::InvalidArgument(fmt::format("collection '{}': index fieldName is empty", collection));
  }
  if (f < 0) {
    return Status::InvalidArgument(
        fmt::format("collection '{}': cannot index field '{}': no such field", collection, field_name));
  }
  const FieldSchema& fs = schema.fields[f];
  if (fs.type != DataType::kFloatVector) {
    return Status::InvalidArgument(fmt::format(
        "collection '{}': cannot build a vector index on field '{}' of type {}", collection,
        field_name, DataTypeName(fs.type)));
  }
  if (index_name.empty()) index_name = field_name;
  if (index_name.size() > 255) {
    return Status::InvalidArgument(fmt::format("collection '{}': index name longer than 255 bytes", collection));
  }
  auto spec = ParseIndexSpec(index_type, metric_type, fs.dim, params);
  if (!spec.ok()) {
    return Status::InvalidArgument(fmt::format("collection '{}', field '{}': {}", collection,
                                               field_name, spec.status().message()));
  }
  IndexDefinition d;
  d.index_name = std::move(index_name);
  d.field_name = field_name;
  d.index_type = index_type.empty() ? "AUTOINDEX" : index_type;
  d.spec = *spec;
  d.params = params.is_null() ? nlohmann::json::object() : params;
  return d;
}

}  // namespace ark
