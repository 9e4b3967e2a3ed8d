#include "grpc/field_data.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>

#include "milvus/common.pb.h"

namespace ark::rpc {
namespace {

namespace mc = milvus::proto::common;
namespace mm = milvus::proto::milvus;
namespace ms = milvus::proto::schema;
using json = nlohmann::json;

constexpr int64_t kFirstFieldId = 100;  // Milvus numbers user fields from 100
constexpr const char* kDynamicField = "$meta";

[[noreturn]] void Invalid(const std::string& message) { throw std::invalid_argument(message); }

json NumberOrString(const std::string& s) {
  json parsed = json::parse(s, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_number()) return parsed;
  return s;
}

json DefaultValue(const ms::ValueField& v) {
  switch (v.data_case()) {
    case ms::ValueField::kBoolData: return v.bool_data();
    case ms::ValueField::kIntData: return v.int_data();
    case ms::ValueField::kLongData: return v.long_data();
    case ms::ValueField::kFloatData: return v.float_data();
    case ms::ValueField::kDoubleData: return v.double_data();
    case ms::ValueField::kStringData: return v.string_data();
    default: return nullptr;
  }
}

// One schema field of a REST describe answer.
struct FieldInfo {
  std::string name;
  std::string type;  // "Int64", "FloatVector", ...
  bool primary = false;
  int64_t id = 0;
};

struct SchemaInfo {
  std::vector<FieldInfo> fields;
  std::map<std::string, size_t> by_name;
  bool dynamic = false;
  const FieldInfo* primary = nullptr;
};

SchemaInfo ParseDescribe(const json& describe) {
  SchemaInfo s;
  s.dynamic = describe.value("enableDynamicField", false);
  int64_t id = kFirstFieldId;
  for (const auto& f : describe.value("fields", json::array())) {
    FieldInfo info;
    info.name = f.value("name", std::string());
    info.type = f.value("type", std::string());
    info.primary = f.value("primaryKey", false);
    info.id = id++;
    s.by_name[info.name] = s.fields.size();
    s.fields.push_back(std::move(info));
  }
  for (const auto& f : s.fields) {
    if (f.primary) s.primary = &f;
  }
  return s;
}

// Appends `v` (null: the type's zero) to the column `fd` of type `type`.
void AppendValue(const std::string& type, const json& v, ms::FieldData* fd, const std::string& name) {
  const bool null = v.is_null();
  try {
    if (type == "Bool") {
      fd->mutable_scalars()->mutable_bool_data()->add_data(null ? false : v.get<bool>());
    } else if (type == "Int8" || type == "Int16" || type == "Int32") {
      fd->mutable_scalars()->mutable_int_data()->add_data(null ? 0 : v.get<int32_t>());
    } else if (type == "Int64") {
      int64_t x = 0;
      if (v.is_string()) {
        x = std::stoll(v.get<std::string>());
      } else if (!null) {
        x = v.get<int64_t>();
      }
      fd->mutable_scalars()->mutable_long_data()->add_data(x);
    } else if (type == "Float") {
      fd->mutable_scalars()->mutable_float_data()->add_data(null ? 0.0f : v.get<float>());
    } else if (type == "Double") {
      fd->mutable_scalars()->mutable_double_data()->add_data(null ? 0.0 : v.get<double>());
    } else if (type == "VarChar" || type == "String") {
      fd->mutable_scalars()->mutable_string_data()->add_data(null ? std::string() : v.get<std::string>());
    } else if (type == "JSON") {
      fd->mutable_scalars()->mutable_json_data()->add_data(null ? std::string() : v.dump());
    } else if (type == "FloatVector") {
      auto* vf = fd->mutable_vectors();
      auto* data = vf->mutable_float_vector()->mutable_data();
      if (!null) {
        if (vf->dim() == 0) vf->set_dim(static_cast<int64_t>(v.size()));
        for (const auto& x : v) data->Add(x.get<float>());
      }
    } else {
      Invalid("field " + name + ": type " + type + " cannot be returned over gRPC");
    }
  } catch (const json::exception& e) {
    Invalid("field " + name + ": a value does not fit type " + type + ": " + e.what());
  }
}

// An empty column that still says its kind, as Milvus's do: the SDKs read
// the values from the typed array (scalars.long_data.data...), and an unset
// one made the Node SDK throw on a query that matched nothing.
void EmptyColumn(const std::string& type, ms::FieldData* fd) {
  if (type == "FloatVector") {
    fd->mutable_vectors()->mutable_float_vector();
    return;
  }
  AppendValue(type, json(), fd, fd->field_name());  // one zero value of the type's array...
  ms::ScalarField* s = fd->mutable_scalars();
  switch (s->data_case()) {  // ...emptied, the array kept
    case ms::ScalarField::kBoolData: s->mutable_bool_data()->clear_data(); break;
    case ms::ScalarField::kIntData: s->mutable_int_data()->clear_data(); break;
    case ms::ScalarField::kLongData: s->mutable_long_data()->clear_data(); break;
    case ms::ScalarField::kFloatData: s->mutable_float_data()->clear_data(); break;
    case ms::ScalarField::kDoubleData: s->mutable_double_data()->clear_data(); break;
    case ms::ScalarField::kStringData: s->mutable_string_data()->clear_data(); break;
    case ms::ScalarField::kJsonData: s->mutable_json_data()->clear_data(); break;
    default: break;
  }
}

// Builds the columns of `rows` (REST row objects): the schema fields in
// `names` (in schema order), plus "$meta" holding the other keys when
// `dynamic_keys` is set. `id_key` maps the REST "id" key to the primary key.
void RowsToColumns(const SchemaInfo& schema, const json& rows, const std::vector<std::string>& names,
                   bool dynamic_keys, google::protobuf::RepeatedPtrField<ms::FieldData>* out) {
  for (const std::string& name : names) {
    const FieldInfo& f = schema.fields[schema.by_name.at(name)];
    ms::FieldData* fd = out->Add();
    fd->set_field_name(f.name);
    fd->set_field_id(f.id);
    ms::DataType type = ms::None;
    ms::DataType_Parse(f.type, &type);
    fd->set_type(type);
    bool any_null = false;
    for (const auto& row : rows) {
      auto it = row.find(f.name);
      if (it == row.end() && f.primary) it = row.find("id");
      any_null = any_null || it == row.end() || it->is_null();
    }
    for (const auto& row : rows) {
      auto it = row.find(f.name);
      if (it == row.end() && f.primary) it = row.find("id");
      const json& v = it == row.end() ? json() : *it;
      AppendValue(f.type, v, fd, f.name);
      if (any_null) fd->add_valid_data(!v.is_null());
    }
    if (rows.empty()) EmptyColumn(f.type, fd);
  }
  if (dynamic_keys) {
    ms::FieldData* fd = out->Add();
    fd->set_field_name(kDynamicField);
    fd->set_type(ms::JSON);
    fd->set_is_dynamic(true);
    auto* data = fd->mutable_scalars()->mutable_json_data();
    for (const auto& row : rows) {
      json extra = json::object();
      for (const auto& [k, v] : row.items()) {
        if (k == "id" || k == "distance" || schema.by_name.count(k)) continue;
        extra[k] = v;
      }
      data->add_data(extra.dump());
    }
  }
}

// The schema fields present in `rows` (in schema order) and the other
// keys (dynamic fields, in first-seen order). REST's "id" is the primary key.
void ColumnsOf(const SchemaInfo& schema, const json& rows, std::vector<std::string>* names,
               std::vector<std::string>* dynamic_keys) {
  std::vector<bool> present(schema.fields.size(), false);
  std::set<std::string> seen;
  for (const auto& row : rows) {
    for (const auto& [k, v] : row.items()) {
      if (k == "distance") continue;
      auto it = schema.by_name.find(k);
      if (it != schema.by_name.end()) {
        present[it->second] = true;
      } else if (k == "id" && schema.primary) {
        present[schema.by_name.at(schema.primary->name)] = true;
      } else if (seen.insert(k).second) {
        dynamic_keys->push_back(k);
      }
    }
  }
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    if (present[i]) names->push_back(schema.fields[i].name);
  }
}

}  // namespace

json SchemaToJson(const ms::CollectionSchema& schema) {
  json fields = json::array();
  bool auto_id = schema.autoid();
  for (const auto& f : schema.fields()) {
    if (f.is_dynamic()) continue;  // "$meta": enable_dynamic_field says it
    json jf{{"fieldName", f.name()}, {"dataType", ms::DataType_Name(f.data_type())}};
    if (f.is_primary_key()) jf["isPrimary"] = true;
    if (f.autoid()) auto_id = true;
    if (!f.description().empty()) jf["description"] = f.description();
    json etp = json::object();
    for (const auto& kv : f.type_params()) etp[kv.key()] = NumberOrString(kv.value());
    if (!etp.empty()) jf["elementTypeParams"] = etp;
    if (f.element_type() != ms::None) jf["elementDataType"] = ms::DataType_Name(f.element_type());
    if (f.nullable()) jf["nullable"] = true;
    if (f.is_partition_key()) jf["isPartitionKey"] = true;
    if (f.is_clustering_key()) jf["isClusteringKey"] = true;
    if (f.has_default_value()) jf["defaultValue"] = DefaultValue(f.default_value());
    fields.push_back(std::move(jf));
  }
  if (schema.functions_size()) Invalid("collection functions (BM25, embeddings) are not supported by Ark");
  return json{{"autoID", auto_id}, {"enableDynamicField", schema.enable_dynamic_field()}, {"fields", fields}};
}

void DescribeToProto(const json& d, const std::string& db, mm::DescribeCollectionResponse* out) {
  const std::string name = d.value("collectionName", std::string());
  out->set_collection_name(name);
  out->set_collectionid(d.value("collectionID", int64_t{0}));
  out->set_db_name(db);
  out->set_shards_num(d.value("shardsNum", 1));
  out->set_num_partitions(d.value("partitionsNum", int64_t{1}));
  out->set_consistency_level(mc::Strong);
  for (const auto& a : d.value("aliases", json::array())) out->add_aliases(a.get<std::string>());
  for (const auto& p : d.value("properties", json::array())) {
    auto* kv = out->add_properties();
    kv->set_key(p.value("key", std::string()));
    kv->set_value(p.value("value", std::string()));
  }
  ms::CollectionSchema* s = out->mutable_schema();
  s->set_name(name);
  s->set_description(d.value("description", std::string()));
  s->set_enable_dynamic_field(d.value("enableDynamicField", false));
  s->set_dbname(db);
  int64_t id = kFirstFieldId;
  for (const auto& f : d.value("fields", json::array())) {
    ms::FieldSchema* fs = s->add_fields();
    fs->set_fieldid(id++);
    fs->set_name(f.value("name", std::string()));
    fs->set_is_primary_key(f.value("primaryKey", false));
    fs->set_autoid(f.value("autoId", false));
    if (fs->autoid()) s->set_autoid(true);
    fs->set_description(f.value("description", std::string()));
    ms::DataType type = ms::None;
    ms::DataType_Parse(f.value("type", std::string()), &type);
    fs->set_data_type(type);
    for (const auto& p : f.value("params", json::array())) {
      auto* kv = fs->add_type_params();
      kv->set_key(p.value("key", std::string()));
      kv->set_value(p.value("value", std::string()));
    }
    fs->set_is_partition_key(f.value("partitionKey", false));
  }
  if (s->enable_dynamic_field()) {
    ms::FieldSchema* meta = s->add_fields();
    meta->set_fieldid(id++);
    meta->set_name(kDynamicField);
    meta->set_data_type(ms::JSON);
    meta->set_is_dynamic(true);
  }
}

namespace {

// Rows of one column: the count of its values (vectors: values / dim).
size_t ColumnRows(const ms::FieldData& fd) {
  if (fd.has_scalars()) {
    const auto& s = fd.scalars();
    switch (s.data_case()) {
      case ms::ScalarField::kBoolData: return static_cast<size_t>(s.bool_data().data_size());
      case ms::ScalarField::kIntData: return static_cast<size_t>(s.int_data().data_size());
      case ms::ScalarField::kLongData: return static_cast<size_t>(s.long_data().data_size());
      case ms::ScalarField::kFloatData: return static_cast<size_t>(s.float_data().data_size());
      case ms::ScalarField::kDoubleData: return static_cast<size_t>(s.double_data().data_size());
      case ms::ScalarField::kStringData: return static_cast<size_t>(s.string_data().data_size());
      case ms::ScalarField::kJsonData: return static_cast<size_t>(s.json_data().data_size());
      default: Invalid("field " + fd.field_name() + ": this scalar type is not supported by Ark");
    }
  }
  if (fd.has_vectors()) {
    const auto& v = fd.vectors();
    if (v.data_case() != ms::VectorField::kFloatVector) {
      Invalid("field " + fd.field_name() + ": only float vectors are supported by Ark");
    }
    if (v.dim() <= 0) Invalid("field " + fd.field_name() + ": vector dim must be positive");
    const auto n = static_cast<size_t>(v.float_vector().data_size());
    if (n % static_cast<size_t>(v.dim()) != 0) {
      Invalid("field " + fd.field_name() + ": " + std::to_string(n) + " floats are not a multiple of dim " +
              std::to_string(v.dim()));
    }
    return n / static_cast<size_t>(v.dim());
  }
  Invalid("field " + fd.field_name() + " has no data");
}

}  // namespace

size_t NumRowsOfFieldData(const google::protobuf::RepeatedPtrField<ms::FieldData>& fields) {
  if (fields.empty()) return 0;
  const auto& fd = fields[0];
  return fd.valid_data_size() ? static_cast<size_t>(fd.valid_data_size()) : ColumnRows(fd);
}

json RowsFromFieldData(const google::protobuf::RepeatedPtrField<ms::FieldData>& fields, uint32_t num_rows,
                       const CollectionSchema* schema) {
  const size_t n = num_rows != 0 ? num_rows : NumRowsOfFieldData(fields);
  // Every column is checked before any row is made: num_rows is the
  // client's word, and 40 bytes asking for 2^32 rows must cost nothing.
  std::vector<bool> compact(static_cast<size_t>(fields.size()), false);
  std::set<std::string> names;
  for (int c = 0; c < fields.size(); ++c) {
    const auto& fd = fields[c];
    const std::string& name = fd.field_name();
    if (name.empty()) Invalid("a column (fields_data) has no field_name");
    if (!names.insert(name).second) Invalid("duplicated field name in insert data: " + name);
    if (schema != nullptr && schema->FieldIndex(name) < 0 && !fd.is_dynamic() && name != kDynamicField) {
      Invalid("field " + name + " does not exist in the collection schema" +
              (schema->enable_dynamic_field ? " (dynamic fields go in the $meta column)" : ""));
    }
    const size_t values = ColumnRows(fd);
    const bool has_valid = fd.valid_data_size() > 0;
    if (has_valid && static_cast<size_t>(fd.valid_data_size()) != n) {
      Invalid("field " + name + ": valid_data has " + std::to_string(fd.valid_data_size()) + " flags for " +
              std::to_string(n) + " rows");
    }
    // Nullable columns may carry values for every row or for the valid rows only.
    size_t valid = n;
    if (has_valid) {
      valid = 0;
      for (bool b : fd.valid_data()) valid += b ? 1 : 0;
    }
    compact[static_cast<size_t>(c)] = has_valid && values == valid && values != n;
    if (values != n && !compact[static_cast<size_t>(c)]) {
      Invalid("field " + name + " has " + std::to_string(values) + " values for " + std::to_string(n) + " rows");
    }
  }
  json rows = json::array();
  for (size_t i = 0; i < n; ++i) rows.push_back(json::object());
  for (int c = 0; c < fields.size(); ++c) {
    const auto& fd = fields[c];
    const std::string& name = fd.field_name();
    const bool has_valid = fd.valid_data_size() > 0;
    const bool is_compact = compact[static_cast<size_t>(c)];
    size_t next = 0;
    for (size_t i = 0; i < n; ++i) {
      json& row = rows[i];
      if (has_valid && !fd.valid_data(static_cast<int>(i))) {
        if (!is_compact) ++next;
        row[name] = nullptr;
        continue;
      }
      const int k = static_cast<int>(next++);
      if (fd.has_vectors()) {
        const auto& v = fd.vectors();
        const int64_t dim = v.dim();
        json vec = json::array();
        const float* base = v.float_vector().data().data() + static_cast<int64_t>(k) * dim;
        for (int64_t j = 0; j < dim; ++j) vec.push_back(base[j]);
        row[name] = std::move(vec);
        continue;
      }
      const auto& s = fd.scalars();
      switch (s.data_case()) {
        case ms::ScalarField::kBoolData: row[name] = s.bool_data().data(k); break;
        case ms::ScalarField::kIntData: row[name] = s.int_data().data(k); break;
        case ms::ScalarField::kLongData: row[name] = s.long_data().data(k); break;
        case ms::ScalarField::kFloatData: row[name] = s.float_data().data(k); break;
        case ms::ScalarField::kDoubleData: row[name] = s.double_data().data(k); break;
        case ms::ScalarField::kStringData: row[name] = s.string_data().data(k); break;
        case ms::ScalarField::kJsonData: {
          json value = json::parse(s.json_data().data(k), nullptr, false);
          if (value.is_discarded()) Invalid("field " + name + ": row " + std::to_string(i) + " is not valid JSON");
          if (fd.is_dynamic() || name == kDynamicField) {
            if (!value.is_object()) {
              Invalid("dynamic field " + name + ": row " + std::to_string(i) + " must be a JSON object");
            }
            for (auto& [key, v] : value.items()) {
              if (!row.contains(key)) row[key] = std::move(v);
            }
          } else {
            row[name] = std::move(value);
          }
          break;
        }
        default: break;  // count() refused the others
      }
    }
  }
  return rows;
}

std::optional<RowBatch> BatchFromFieldData(const google::protobuf::RepeatedPtrField<ms::FieldData>& fields,
                                           uint32_t num_rows, const CollectionSchema& schema, WriteKind kind) {
  if (schema.auto_id || schema.enable_dynamic_field || static_cast<size_t>(fields.size()) != schema.fields.size()) {
    return std::nullopt;
  }
  const size_t n = num_rows;
  RowBatch batch = RowBatch::Empty(schema);
  batch.num_rows = n;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const FieldSchema& f = schema.fields[i];
    const ms::FieldData* fd = nullptr;
    for (const auto& candidate : fields) {
      if (candidate.field_name() == f.name) {
        if (fd != nullptr) return std::nullopt;  // twice
        fd = &candidate;
      }
    }
    if (fd == nullptr || fd->valid_data_size() > 0 || fd->is_dynamic()) return std::nullopt;
    Column& c = batch.columns[i];
    const auto& s = fd->scalars();
    auto sized = [n](int size) { return static_cast<size_t>(size) == n; };
    switch (f.type) {
      case DataType::kInt64:
        if (s.data_case() != ms::ScalarField::kLongData || !sized(s.long_data().data_size())) return std::nullopt;
        c.ints.assign(s.long_data().data().begin(), s.long_data().data().end());
        break;
      case DataType::kInt8:
      case DataType::kInt16:
      case DataType::kInt32: {
        if (s.data_case() != ms::ScalarField::kIntData || !sized(s.int_data().data_size())) return std::nullopt;
        const int64_t bound = f.type == DataType::kInt8 ? 127 : f.type == DataType::kInt16 ? 32767 : INT32_MAX;
        for (int32_t v : s.int_data().data()) {
          if (v > bound || v < -bound - 1) return std::nullopt;
          c.ints.push_back(v);
        }
        break;
      }
      case DataType::kBool:
        if (s.data_case() != ms::ScalarField::kBoolData || !sized(s.bool_data().data_size())) return std::nullopt;
        for (bool v : s.bool_data().data()) c.ints.push_back(v ? 1 : 0);
        break;
      case DataType::kFloat:
        if (s.data_case() != ms::ScalarField::kFloatData || !sized(s.float_data().data_size())) return std::nullopt;
        c.doubles.assign(s.float_data().data().begin(), s.float_data().data().end());
        break;
      case DataType::kDouble:
        if (s.data_case() != ms::ScalarField::kDoubleData || !sized(s.double_data().data_size())) return std::nullopt;
        c.doubles.assign(s.double_data().data().begin(), s.double_data().data().end());
        break;
      case DataType::kVarChar:
        if (s.data_case() != ms::ScalarField::kStringData || !sized(s.string_data().data_size())) return std::nullopt;
        c.strings.assign(s.string_data().data().begin(), s.string_data().data().end());
        break;
      case DataType::kJson:
        if (s.data_case() != ms::ScalarField::kJsonData || !sized(s.json_data().data_size())) return std::nullopt;
        for (const auto& text : s.json_data().data()) {
          json value = json::parse(text, nullptr, false);
          if (value.is_discarded()) return std::nullopt;
          c.strings.push_back(value.dump());  // the compact form REST stores
        }
        break;
      case DataType::kFloatVector: {
        if (!fd->has_vectors() || fd->vectors().data_case() != ms::VectorField::kFloatVector ||
            fd->vectors().dim() != static_cast<int64_t>(f.dim) ||
            static_cast<size_t>(fd->vectors().float_vector().data_size()) != n * f.dim) {
          return std::nullopt;
        }
        const auto& data = fd->vectors().float_vector().data();
        c.floats.assign(data.begin(), data.end());
        break;
      }
      default:
        return std::nullopt;
    }
  }
  if (schema.partition_column) batch.columns[schema.PartitionColumn()].ints.assign(n, 0);
  (void)kind;  // auto-ID schemas, where insert and upsert differ, take the generic path
  return batch;
}

json VectorsFromPlaceholders(const std::string& bytes) {
  mc::PlaceholderGroup group;
  if (!group.ParseFromString(bytes)) Invalid("placeholder_group is not a valid common.PlaceholderGroup");
  if (group.placeholders_size() != 1) {
    Invalid("placeholder_group must hold one placeholder, got " + std::to_string(group.placeholders_size()));
  }
  const auto& p = group.placeholders(0);
  if (p.type() != mc::PlaceholderType::FloatVector) {
    Invalid("search vectors of type " + mc::PlaceholderType_Name(p.type()) +
            " are not supported by Ark (float vectors only)");
  }
  json data = json::array();
  for (const auto& v : p.values()) {
    if (v.empty() || v.size() % sizeof(float) != 0) {
      Invalid("a search vector has " + std::to_string(v.size()) + " bytes, not a whole number of float32s");
    }
    json vec = json::array();
    for (size_t i = 0; i < v.size(); i += sizeof(float)) {
      float x;
      std::memcpy(&x, v.data() + i, sizeof(float));
      vec.push_back(x);
    }
    data.push_back(std::move(vec));
  }
  return data;
}

std::optional<std::vector<float>> FloatsFromPlaceholders(const std::string& bytes, uint32_t dim,
                                                         size_t* num_queries) {
  mc::PlaceholderGroup group;
  if (dim == 0 || !group.ParseFromString(bytes) || group.placeholders_size() != 1) return std::nullopt;
  const auto& p = group.placeholders(0);
  if (p.type() != mc::PlaceholderType::FloatVector || p.values_size() == 0) return std::nullopt;
  const size_t bytes_per_vector = size_t{dim} * sizeof(float);
  std::vector<float> out(static_cast<size_t>(p.values_size()) * dim);
  for (int q = 0; q < p.values_size(); ++q) {
    const std::string& v = p.values(q);
    if (v.size() != bytes_per_vector) return std::nullopt;
    std::memcpy(out.data() + static_cast<size_t>(q) * dim, v.data(), bytes_per_vector);
  }
  *num_queries = static_cast<size_t>(p.values_size());
  return out;
}

namespace {

// Row `row` of `column` (of schema field `f`) appended to `fd`, as
// AppendValue appends the REST value FieldValueToJson gives for it.
void AppendColumnValue(const FieldSchema& f, const Column& column, size_t row, ms::FieldData* fd) {
  switch (f.type) {
    case DataType::kBool:
      fd->mutable_scalars()->mutable_bool_data()->add_data(column.ints[row] != 0);
      break;
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
      fd->mutable_scalars()->mutable_int_data()->add_data(static_cast<int32_t>(column.ints[row]));
      break;
    case DataType::kInt64:
      fd->mutable_scalars()->mutable_long_data()->add_data(column.ints[row]);
      break;
    case DataType::kFloat:
      fd->mutable_scalars()->mutable_float_data()->add_data(static_cast<float>(column.doubles[row]));
      break;
    case DataType::kDouble:
      fd->mutable_scalars()->mutable_double_data()->add_data(column.doubles[row]);
      break;
    case DataType::kVarChar:
      fd->mutable_scalars()->mutable_string_data()->add_data(column.strings[row]);
      break;
    case DataType::kJson: {
      // Stored as text; normalised as the REST path's parse and dump does.
      json v = json::parse(column.strings[row], nullptr, false);
      fd->mutable_scalars()->mutable_json_data()->add_data(v.is_discarded() ? column.strings[row] : v.dump());
      break;
    }
    case DataType::kFloatVector: {
      auto* vf = fd->mutable_vectors();
      vf->set_dim(column.dim);
      auto* data = vf->mutable_float_vector()->mutable_data();
      const float* begin = column.floats.data() + row * column.dim;
      data->Add(begin, begin + column.dim);
      break;
    }
  }
}

}  // namespace

void SearchHitsToProto(const CollectionSchema& schema, const std::vector<size_t>& fields,
                       const SearchResponse& response, int64_t limit, ms::SearchResultData* out) {
  out->set_num_queries(static_cast<int64_t>(response.queries.size()));
  int64_t top_k = limit;
  size_t total = 0;
  for (const SearchHits& hits : response.queries) {
    const auto n = static_cast<int64_t>(hits.scores.size());
    out->add_topks(n);
    top_k = std::max(top_k, n);
    total += hits.scores.size();
  }
  out->set_top_k(top_k);
  const size_t pk_col = schema.PrimaryKeyIndex();
  const FieldSchema& pk = schema.fields[pk_col];
  out->set_primary_field_name(pk.name);
  ms::IDs* ids = out->mutable_ids();
  const bool string_ids = pk.type == DataType::kVarChar;
  if (string_ids) {
    ids->mutable_str_id()->mutable_data()->Reserve(static_cast<int>(total));
  } else {
    ids->mutable_int_id()->mutable_data()->Reserve(static_cast<int>(total));
  }
  out->mutable_scores()->Reserve(static_cast<int>(total));
  for (const SearchHits& hits : response.queries) {
    out->mutable_scores()->Add(hits.scores.begin(), hits.scores.end());
    const Column& keys = hits.rows.columns[pk_col];
    for (size_t i = 0; i < hits.scores.size(); ++i) {
      if (string_ids) {
        ids->mutable_str_id()->add_data(keys.strings[i]);
      } else {
        ids->mutable_int_id()->add_data(keys.ints[i]);
      }
    }
  }
  // No hits: no columns, as SearchResultsToProto answers an empty REST list.
  if (total == 0) return;
  for (size_t index : fields) {
    const FieldSchema& f = schema.fields[index];
    ms::FieldData* fd = out->add_fields_data();
    fd->set_field_name(f.name);
    fd->set_field_id(kFirstFieldId + static_cast<int64_t>(index));
    fd->set_type(static_cast<ms::DataType>(static_cast<int>(f.type)));
    for (const SearchHits& hits : response.queries) {
      for (size_t i = 0; i < hits.scores.size(); ++i) AppendColumnValue(f, hits.rows.columns[index], i, fd);
    }
    out->add_output_fields(f.name);
  }
}

void GroupValuesToProto(const FieldSchema& field, size_t field_index, const Column& values,
                        ms::SearchResultData* out) {
  ms::FieldData* fd = out->mutable_group_by_field_value();
  fd->set_field_name(field.name);
  fd->set_field_id(kFirstFieldId + static_cast<int64_t>(field_index));
  fd->set_type(static_cast<ms::DataType>(static_cast<int>(field.type)));
  for (size_t i = 0; i < values.size(); ++i) AppendColumnValue(field, values, i, fd);
  // No hits: the typed array is still there (an unset one throws in the Node SDK).
  if (values.size() == 0) EmptyColumn(std::string(DataTypeName(field.type)), fd);
  *out->add_group_by_field_values() = *fd;
}

void SearchResultsToProto(const json& describe, const json& hits, const json& topks, int64_t limit,
                          ms::SearchResultData* out) {
  const SchemaInfo schema = ParseDescribe(describe);
  out->set_num_queries(static_cast<int64_t>(topks.size()));
  int64_t top_k = limit;
  for (const auto& t : topks) {
    out->add_topks(t.get<int64_t>());
    top_k = std::max(top_k, t.get<int64_t>());
  }
  out->set_top_k(top_k);
  ms::IDs* ids = out->mutable_ids();
  const bool string_ids = schema.primary && schema.primary->type == "VarChar";
  if (string_ids) {
    ids->mutable_str_id();
  } else {
    ids->mutable_int_id();
  }
  for (const auto& hit : hits) {
    out->add_scores(hit.value("distance", 0.0f));
    const json& id = hit.at("id");
    if (string_ids) {
      ids->mutable_str_id()->add_data(id.get<std::string>());
    } else {
      ids->mutable_int_id()->add_data(id.is_string() ? std::stoll(id.get<std::string>()) : id.get<int64_t>());
    }
  }
  if (schema.primary) out->set_primary_field_name(schema.primary->name);
  std::vector<std::string> names;
  std::vector<std::string> dynamic_keys;
  ColumnsOf(schema, hits, &names, &dynamic_keys);
  // Milvus returns the primary key as a column of every search (the SDKs
  // read each hit's id from it); REST gives it as the hit's "id".
  if (schema.primary && !hits.empty() &&
      std::find(names.begin(), names.end(), schema.primary->name) == names.end()) {
    names.insert(names.begin(), schema.primary->name);
  }
  RowsToColumns(schema, hits, names, !dynamic_keys.empty(), out->mutable_fields_data());
  for (const auto& n : names) out->add_output_fields(n);
  for (const auto& k : dynamic_keys) out->add_output_fields(k);
}

void QueryRowsToProto(const json& describe, const json& rows, const json& output, mm::QueryResults* out) {
  const SchemaInfo schema = ParseDescribe(describe);
  if (schema.primary) out->set_primary_field_name(schema.primary->name);
  if (output.size() == 1 && output[0] == "count(*)") {
    ms::FieldData* fd = out->add_fields_data();
    fd->set_field_name("count(*)");
    fd->set_type(ms::Int64);
    int64_t n = rows.empty() ? 0 : rows[0].value("count(*)", int64_t{0});
    fd->mutable_scalars()->mutable_long_data()->add_data(n);
    out->add_output_fields("count(*)");
    return;
  }
  std::vector<std::string> names;
  std::vector<std::string> dynamic_keys;
  ColumnsOf(schema, rows, &names, &dynamic_keys);
  if (rows.empty()) {
    // No rows: the columns asked for (or every schema field), empty.
    for (const auto& o : output) {
      if (o.is_string() && schema.by_name.count(o.get<std::string>())) names.push_back(o.get<std::string>());
    }
    if (output.empty() || (output.size() == 1 && output[0] == "*")) {
      names.clear();
      for (const auto& f : schema.fields) names.push_back(f.name);
    }
  }
  RowsToColumns(schema, rows, names, !dynamic_keys.empty(), out->mutable_fields_data());
  for (const auto& n : names) out->add_output_fields(n);
  for (const auto& k : dynamic_keys) out->add_output_fields(k);
}

}  // namespace ark::rpc
