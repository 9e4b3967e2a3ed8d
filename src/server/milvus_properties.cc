// Milvus properties: the shared parser (milvus_properties.h) and the
// collection routes over the engine's durable collection properties.
//
//   collections/alter_properties {collectionName, properties: {key: value}} -> {}
//   collections/drop_properties  {collectionName, propertyKeys: [key]}      -> {}
//
// collections/describe lists them as properties: [{key, value}].
#include "server/milvus_properties.h"

#include "dr/drill/tiers.h"
#include "server/milvus_request.h"
#include "server/milvus_service.h"

namespace ark::server {

using nlohmann::json;

std::map<std::string, std::string> PropertiesFromBody(const json& body) {
  auto p = body.find("properties");
  if (p == body.end() || p->is_null()) ThrowMissing("properties");
  if (!p->is_object() || p->empty()) {
    ThrowApi(MilvusCode::kInvalidParameter,
             "properties must be a non-empty object of key: value, got " + p->dump().substr(0, 200));
  }
  std::map<std::string, std::string> set;
  for (auto it = p->begin(); it != p->end(); ++it) {
    const json& v = it.value();
    if (v.is_string()) {
      set[it.key()] = v.get<std::string>();
    } else if (v.is_number_integer() || v.is_boolean()) {
      set[it.key()] = v.dump();
    } else {
      ThrowApi(MilvusCode::kInvalidParameter, "property '" + it.key() +
                                                  "' must be a string, an integer or a boolean, got " +
                                                  v.dump().substr(0, 200));
    }
  }
  // DR tiers (ark.dr.*: docs/formats/dr-tiers.md) are checked before they
  // are stored: a drill or `ark dr check` must never meet a tier it cannot read.
  for (const auto& [key, value] : set) {
    if (Status s = dr::ValidateDrProperty(key, value); !s.ok()) ThrowApi(MilvusCode::kInvalidParameter, s.message());
  }
  return set;
}

std::vector<std::string> PropertyKeysFromBody(const json& body) {
  auto k = body.find("propertyKeys");
  if (k == body.end() || k->is_null()) ThrowMissing("propertyKeys");
  std::vector<std::string> keys;
  bool valid = k->is_array() && !k->empty();
  for (size_t i = 0; valid && i < k->size(); ++i) {
    valid = (*k)[i].is_string();
    if (valid) keys.push_back((*k)[i].get<std::string>());
  }
  if (!valid) ThrowApi(MilvusCode::kInvalidParameter, "propertyKeys must be a non-empty array of strings");
  return keys;
}

// The collection is found first (code 100 when unknown), then the body checked.
Result<json> MilvusService::AlterProperties(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  auto set = PropertiesFromBody(ctx.body);
  ARK_RETURN_IF_ERROR(db_->AlterCollectionProperties(ctx.db_name, name, set, {}).status());
  return json::object();
}

Result<json> MilvusService::DropProperties(RequestContext& ctx) {
  std::string name;
  ARK_RETURN_IF_ERROR(Find(ctx, &name).status());
  auto keys = PropertyKeysFromBody(ctx.body);
  ARK_RETURN_IF_ERROR(db_->AlterCollectionProperties(ctx.db_name, name, {}, keys).status());
  return json::object();
}

}  // namespace ark::server
