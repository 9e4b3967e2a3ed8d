#include "engine/schema.h"

#include "engine/json_number.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

namespace ark {

namespace {

struct TypeName {
  DataType type;
  std::string_view name;
};
constexpr TypeName kTypeNames[] = {
    {DataType::kBool, "Bool"},       {DataType::kInt8, "Int8"},
    {DataType::kInt16, "Int16"},     {DataType::kInt32, "Int32"},
    {DataType::kInt64, "Int64"},     {DataType::kFloat, "Float"},
    {DataType::kDouble, "Double"},   {DataType::kVarChar, "VarChar"},
    {DataType::kJson, "JSON"},       {DataType::kFloatVector, "FloatVector"},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string_view DataTypeName(DataType type) {
  for (const auto& t : kTypeNames) {
    if (t.type == type) return t.name;
  }
  return "Unknown";
}

Result<DataType> ParseDataType(std::string_view name) {
  for (const auto& t : kTypeNames) {
    if (EqualsIgnoreCase(t.name, name)) return t.type;
  }
  return Status::InvalidArgument(fmt::format("unknown data type '{}'", name));
}

bool IsIntegerType(DataType type) {
  return type == DataType::kBool || type == DataType::kInt8 || type == DataType::kInt16 ||
         type == DataType::kInt32 || type == DataType::kInt64;
}

size_t CollectionSchema::PrimaryKeyIndex() const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].is_primary_key) return i;
  }
  return 0;
}

std::string CollectionSchema::ColumnName(size_t column) const {
  if (column < fields.size()) return fields[column].name;
  if (static_cast<int>(column) == DynamicColumn()) return std::string(kDynamicFieldName);
  return std::string(kPartitionFieldName);
}

int CollectionSchema::FieldIndex(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Status ValidateName(std::string_view what, std::string_view name) {
  if (name.empty()) return Status::InvalidArgument(fmt::format("{} name is empty", what));
  if (name.size() > 255) {
    return Status::InvalidArgument(
        fmt::format("{} name '{}...' is {} bytes long, at most 255 allowed", what,
                    name.substr(0, 32), name.size()));
  }
  auto ok_first = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  auto ok_rest = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!ok_first(name[0]) || !std::all_of(name.begin() + 1, name.end(), ok_rest)) {
    return Status::InvalidArgument(fmt::format(
        "{} name '{}' is invalid: expected a letter or '_' followed by letters, digits or '_'",
        what, name));
  }
  return Status::OK();
}

Status CollectionSchema::Validate(std::string_view collection) const {
  auto bad = [&](const std::string& msg) {
    return Status::InvalidArgument(fmt::format("collection '{}': {}", collection, msg));
  };
  if (fields.empty()) return bad("schema has no fields");
  std::set<std::string_view> names;
  int primary_keys = 0;
  int vectors = 0;
  for (const auto& f : fields) {
    Status s = ValidateName("field", f.name);
    if (!s.ok()) return bad(s.message());
    if (!names.insert(f.name).second) return bad(fmt::format("field '{}' appears twice", f.name));
    if (DataTypeName(f.type) == "Unknown") {
      return bad(fmt::format("field '{}' has unknown type {}", f.name, static_cast<int>(f.type)));
    }
    if (f.type == DataType::kVarChar && (f.max_length == 0 || f.max_length > kMaxVarCharLength)) {
      return bad(fmt::format("field '{}': VarChar max_length must be in [1, {}], got {}", f.name,
                             kMaxVarCharLength, f.max_length));
    }
    if (f.type == DataType::kFloatVector) {
      ++vectors;
      if (f.dim == 0 || f.dim > kMaxVectorDim) {
        return bad(fmt::format("field '{}': FloatVector dim must be in [1, {}], got {}", f.name,
                               kMaxVectorDim, f.dim));
      }
    }
    if (f.is_primary_key) {
      ++primary_keys;
      if (f.type != DataType::kInt64 && f.type != DataType::kVarChar) {
        return bad(fmt::format("primary key field '{}' must be Int64 or VarChar, got {}", f.name,
                               DataTypeName(f.type)));
      }
      if (auto_id && f.type != DataType::kInt64) {
        return bad(fmt::format("autoID needs an Int64 primary key, field '{}' is {}", f.name,
                               DataTypeName(f.type)));
      }
    }
  }
  if (primary_keys != 1) {
    return bad(fmt::format("expected exactly 1 primary key field, got {}", primary_keys));
  }
  if (vectors == 0) return bad("schema needs at least one FloatVector field");
  return Status::OK();
}

nlohmann::json CollectionSchema::ToJson() const {
  nlohmann::json j;
  j["autoId"] = auto_id;
  j["enableDynamicField"] = enable_dynamic_field;
  if (partition_column) j["partitionColumn"] = true;
  j["description"] = description;
  auto& fs = j["fields"] = nlohmann::json::array();
  for (const auto& f : fields) {
    nlohmann::json fj;
    fj["fieldName"] = f.name;
    fj["dataType"] = DataTypeName(f.type);
    fj["isPrimary"] = f.is_primary_key;
    if (f.type == DataType::kVarChar) fj["maxLength"] = f.max_length;
    if (f.type == DataType::kFloatVector) fj["dim"] = f.dim;
    if (!f.description.empty()) fj["description"] = f.description;
    fs.push_back(std::move(fj));
  }
  return j;
}

Result<CollectionSchema> CollectionSchema::FromJson(const nlohmann::json& j) {
  try {
    CollectionSchema s;
    s.auto_id = j.value("autoId", false);
    s.enable_dynamic_field = j.value("enableDynamicField", false);
    s.partition_column = j.value("partitionColumn", false);
    s.description = j.value("description", "");
    if (!j.contains("fields") || !j["fields"].is_array()) {
      return Status::InvalidArgument("schema: 'fields' must be an array");
    }
    for (const auto& fj : j["fields"]) {
      FieldSchema f;
      f.name = fj.at("fieldName").get<std::string>();
      ARK_ASSIGN_OR_RETURN(f.type, ParseDataType(fj.at("dataType").get<std::string>()));
      f.is_primary_key = fj.value("isPrimary", false);
      // Only the parameter of the field's type is read (as ToJson writes
      // it), so decode -> encode -> decode is stable (found by manifest_fuzz).
      if (f.type == DataType::kVarChar && fj.contains("maxLength")) {
        f.max_length = JsonUnsigned<uint32_t>(fj["maxLength"]);
      }
      if (f.type == DataType::kFloatVector && fj.contains("dim")) f.dim = JsonUnsigned<uint32_t>(fj["dim"]);
      f.description = fj.value("description", "");
      s.fields.push_back(std::move(f));
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(fmt::format("schema: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    return Status::InvalidArgument(fmt::format("schema: {}", e.what()));
  }
}

}  // namespace ark
