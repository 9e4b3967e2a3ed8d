#include "server/milvus_schema.h"

#include "server/milvus_error.h"

namespace ark::server {
namespace {

using nlohmann::json;

// An optional string member; absent or null = `fallback`. A value of another
// type is InvalidArgument naming the key (json::value() would throw a
// type_error, which the HTTP edge could only answer as 1200 "unexpected").
Result<std::string> StringOr(const json& obj, const char* key, const char* fallback,
                             const std::string& ctx) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string(fallback);
  if (!it->is_string()) {
    return Status::InvalidArgument(ctx + ": " + key + " must be a string, got " + JsonForMessage(*it));
  }
  return it->get<std::string>();
}

Result<uint32_t> PositiveInt(const json& v, const std::string& what) {
  // Milvus accepts numbers and numeric strings ("dim": "768").
  if (v.is_number_unsigned()) {
    uint64_t n = v.get<uint64_t>();
    if (n > 0 && n <= UINT32_MAX) return static_cast<uint32_t>(n);
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos) {
      uint32_t n = static_cast<uint32_t>(std::stoul(s));
      if (n > 0) return n;
    }
  }
  return Status::InvalidArgument(what + " must be a positive integer, got " + JsonForMessage(v));
}

Result<bool> OptionalBool(const json& obj, const char* key, bool fallback, const std::string& ctx) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    return Status::InvalidArgument(ctx + ": " + key + " must be true or false, got " +
                                   JsonForMessage(*it));
  }
  return it->get<bool>();
}

Result<CollectionSchema> QuickSchema(const json& body, const std::string& collection) {
  CollectionSchema schema;
  const std::string ctx = "collection " + collection;
  ARK_ASSIGN_OR_RETURN(uint32_t dim, PositiveInt(body["dimension"], ctx + ": dimension"));
  ARK_ASSIGN_OR_RETURN(std::string id_type, StringOr(body, "idType", "Int64", ctx));
  ARK_ASSIGN_OR_RETURN(std::string pk_name, StringOr(body, "primaryFieldName", "id", ctx));
  ARK_ASSIGN_OR_RETURN(std::string vec_name, StringOr(body, "vectorFieldName", "vector", ctx));
  ARK_ASSIGN_OR_RETURN(schema.auto_id, OptionalBool(body, "autoID", false, ctx));
  // By reference, not json::value(): copying a deeply nested value recurses.
  static const json kNoParams = json::object();
  auto params_it = body.find("params");
  const json& params = params_it == body.end() || params_it->is_null() ? kNoParams : *params_it;
  if (!params.is_object()) return Status::InvalidArgument(ctx + ": params must be an object");
  ARK_ASSIGN_OR_RETURN(schema.enable_dynamic_field,
                       OptionalBool(params, "enableDynamicField", true, ctx));
  FieldSchema pk;
  pk.name = pk_name;
  pk.is_primary_key = true;
  if (id_type == "Int64") {
    pk.type = DataType::kInt64;
  } else if (id_type == "VarChar") {
    pk.type = DataType::kVarChar;
    pk.max_length = 65535;
    if (params.contains("max_length")) {
      ARK_ASSIGN_OR_RETURN(pk.max_length, PositiveInt(params["max_length"], ctx + ": max_length"));
    }
  } else {
    return Status::InvalidArgument(ctx + ": idType must be Int64 or VarChar, got '" + id_type + "'");
  }
  FieldSchema vec;
  vec.name = vec_name;
  vec.type = DataType::kFloatVector;
  vec.dim = dim;
  schema.fields = {pk, vec};
  return schema;
}

Result<FieldSchema> FieldFromJson(const json& f, const std::string& ctx) {
  if (!f.is_object()) return Status::InvalidArgument(ctx + ": each field must be an object");
  FieldSchema field;
  auto name = f.find("fieldName");
  if (name == f.end() || !name->is_string() || name->get<std::string>().empty()) {
    return Status::InvalidArgument(ctx + ": a field has no fieldName");
  }
  field.name = name->get<std::string>();
  const std::string fctx = ctx + ", field " + field.name;
  auto type = f.find("dataType");
  if (type == f.end() || !type->is_string()) {
    return Status::InvalidArgument(fctx + ": dataType is missing");
  }
  auto parsed = ParseDataType(type->get<std::string>());
  if (!parsed.ok()) return parsed.status().WithContext(fctx);
  field.type = *parsed;
  ARK_ASSIGN_OR_RETURN(field.is_primary_key, OptionalBool(f, "isPrimary", false, fctx));
  ARK_ASSIGN_OR_RETURN(field.description, StringOr(f, "description", "", fctx));
  static const json kNoParams = json::object();
  auto etp_it = f.find("elementTypeParams");
  const json& etp = etp_it == f.end() || etp_it->is_null() ? kNoParams : *etp_it;
  if (!etp.is_object()) return Status::InvalidArgument(fctx + ": elementTypeParams must be an object");
  if (field.type == DataType::kVarChar) {
    if (!etp.contains("max_length")) {
      return Status::InvalidArgument(fctx + ": VarChar needs elementTypeParams.max_length");
    }
    ARK_ASSIGN_OR_RETURN(field.max_length, PositiveInt(etp["max_length"], fctx + ": max_length"));
  }
  if (field.type == DataType::kFloatVector) {
    if (!etp.contains("dim")) {
      return Status::InvalidArgument(fctx + ": FloatVector needs elementTypeParams.dim");
    }
    ARK_ASSIGN_OR_RETURN(field.dim, PositiveInt(etp["dim"], fctx + ": dim"));
  }
  return field;
}

Result<CollectionSchema> FullSchema(const json& s, const std::string& collection) {
  const std::string ctx = "collection " + collection;
  if (!s.is_object()) return Status::InvalidArgument(ctx + ": schema must be an object");
  CollectionSchema schema;
  ARK_ASSIGN_OR_RETURN(schema.auto_id, OptionalBool(s, "autoID", false, ctx));
  ARK_ASSIGN_OR_RETURN(schema.enable_dynamic_field,
                       OptionalBool(s, "enableDynamicField", false, ctx));
  auto fields = s.find("fields");
  if (fields == s.end() || !fields->is_array() || fields->empty()) {
    return Status::InvalidArgument(ctx + ": schema.fields must be a non-empty array");
  }
  for (const json& f : *fields) {
    ARK_ASSIGN_OR_RETURN(FieldSchema field, FieldFromJson(f, ctx));
    schema.fields.push_back(std::move(field));
  }
  return schema;
}

}  // namespace

std::string JsonForMessage(const json& value) {
  constexpr size_t kMaxChars = 200;
  if (value.is_array()) return "an array of " + std::to_string(value.size()) + " elements";
  if (value.is_object()) return "an object with " + std::to_string(value.size()) + " keys";
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxChars) {
    text = text.substr(0, kMaxChars) + "... (" + std::to_string(text.size()) + " characters)";
  }
  return text;
}

Result<std::string> RequiredString(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    throw HandlerError{{MilvusCode::kMissingParameter,
                        std::string("missing required parameters, error: ") + key + " is required",
                        200}};
  }
  if (!it->is_string() || it->get<std::string>().empty()) {
    return Status::InvalidArgument(std::string(key) + " must be a non-empty string, got " +
                                   JsonForMessage(*it));
  }
  return it->get<std::string>();
}

Result<CollectionSchema> SchemaFromCreateRequest(const json& body, const std::string& collection) {
  Result<CollectionSchema> schema = body.contains("schema") ? FullSchema(body["schema"], collection)
                                    : body.contains("dimension")
                                        ? QuickSchema(body, collection)
                                        : Status::InvalidArgument(
                                              "collection " + collection +
                                              ": give either dimension (quick create) or schema");
  if (!schema.ok()) return schema;
  ARK_ASSIGN_OR_RETURN(schema->description,
                       StringOr(body, "description", "", "collection " + collection));
  ARK_RETURN_IF_ERROR(schema->Validate(collection));
  return schema;
}

json FieldJson(const FieldSchema& field, bool auto_id) {
  json params = json::array();
  if (field.type == DataType::kVarChar) {
    params.push_back({{"key", "max_length"}, {"value", std::to_string(field.max_length)}});
  }
  if (field.type == DataType::kFloatVector) {
    params.push_back({{"key", "dim"}, {"value", std::to_string(field.dim)}});
  }
  return json{{"name", field.name},
              {"type", std::string(DataTypeName(field.type))},
              {"primaryKey", field.is_primary_key},
              {"autoId", field.is_primary_key && auto_id},
              {"description", field.description},
              {"params", params},
              {"partitionKey", false}};
}

json DescribeCollectionJson(const CollectionInfo& info, bool loaded) {
  json fields = json::array();
  for (const auto& f : info.schema.fields) fields.push_back(FieldJson(f, info.schema.auto_id));
  return json{{"collectionName", info.name},
              {"collectionID", info.id},
              {"description", info.schema.description},
              {"autoId", info.schema.auto_id},
              {"fields", fields},
              {"indexes", json::array()},
              {"load", loaded ? "LoadStateLoaded" : "LoadStateNotLoad"},
              {"shardsNum", 1},
              {"partitionsNum", 1},
              {"consistencyLevel", "Strong"},
              {"enableDynamicField", info.schema.enable_dynamic_field},
              {"aliases", json::array()},
              {"properties", json::array()}};
}

}  // namespace ark::server
