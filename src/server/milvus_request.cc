#include "server/milvus_request.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "engine/search.h"

namespace ark::server {

using nlohmann::json;

void ThrowApi(MilvusCode code, std::string message) {
  throw HandlerError{{code, std::move(message), 200}};
}

void ThrowMissing(const char* key) {
  ThrowApi(MilvusCode::kMissingParameter,
           std::string("missing required parameters, error: ") + key + " is required");
}

Result<OutputProjection> OutputProjection::Make(const CollectionSchema& schema,
                                                const std::string& collection,
                                                const json& fields) {
  OutputProjection p;
  p.schema_ = &schema;
  p.fields_.insert(schema.PrimaryKey().name);
  if (fields.is_null()) return p;
  if (!fields.is_array()) {
    return Status::InvalidArgument("collection " + collection +
                                   ": outputFields must be an array of field names, got " +
                                   fields.dump());
  }
  for (const json& v : fields) {
    if (!v.is_string()) {
      return Status::InvalidArgument("collection " + collection +
                                     ": outputFields must hold strings, got " + v.dump());
    }
    const std::string& name = v.get_ref<const std::string&>();
    if (name == "*") {
      for (const auto& f : schema.fields) p.fields_.insert(f.name);
      p.all_dynamic_ = schema.enable_dynamic_field;
    } else if (name == "count(*)") {
      p.count_ = true;
    } else if (name == "$meta" && schema.enable_dynamic_field) {
      p.all_dynamic_ = true;
    } else if (schema.FieldIndex(name) >= 0) {
      p.fields_.insert(name);
    } else if (schema.enable_dynamic_field) {
      p.dynamic_.insert(name);
    } else {
      return Status::InvalidArgument("collection " + collection + ": field " + name +
                                     " not exist (outputFields)");
    }
  }
  if (p.count_ && (p.fields_.size() > 1 || p.all_dynamic_ || !p.dynamic_.empty())) {
    return Status::InvalidArgument("collection " + collection +
                                   ": count(*) cannot be combined with other outputFields");
  }
  if (p.count_) p.fields_.clear();
  return p;
}

OutputProjection OutputProjection::All(const CollectionSchema& schema) {
  OutputProjection p;
  p.schema_ = &schema;
  for (const auto& f : schema.fields) p.fields_.insert(f.name);
  p.all_dynamic_ = schema.enable_dynamic_field;
  return p;
}

std::vector<bool> OutputProjection::Columns() const {
  std::vector<bool> used(schema_->NumColumns(), false);
  for (size_t i = 0; i < schema_->fields.size(); ++i) used[i] = fields_.count(schema_->fields[i].name) > 0;
  used[schema_->PrimaryKeyIndex()] = true;  // every hit carries its id
  if (schema_->DynamicColumn() >= 0 && (all_dynamic_ || !dynamic_.empty())) used[schema_->DynamicColumn()] = true;
  return used;
}

std::optional<std::vector<size_t>> OutputProjection::SchemaFields() const {
  if (all_dynamic_ || !dynamic_.empty()) return std::nullopt;
  std::vector<size_t> out;
  for (size_t i = 0; i < schema_->fields.size(); ++i) {
    if (fields_.count(schema_->fields[i].name) > 0) out.push_back(i);
  }
  return out;
}

json OutputProjection::Row(const RowBatch& batch, size_t row, bool int64_as_string) const {
  // Only the kept fields are converted: a search hit carries every column,
  // and turning its vector into JSON only to drop it was 8% of the CPU of an
  // HTTP search (perf, bench/http_e2e_bench).
  json out = json::object();
  const auto& fields = schema_->fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    const FieldSchema& f = fields[i];
    if (fields_.count(f.name) == 0) continue;
    if (int64_as_string && f.type == DataType::kInt64) {
      out[f.name] = std::to_string(batch.columns[i].ints[row]);
    } else {
      out[f.name] = FieldValueToJson(f, batch.columns[i], row);
    }
  }
  if (all_dynamic_ || !dynamic_.empty()) {
    json dynamic = DynamicFieldsToJson(*schema_, batch, row);
    for (auto& [key, value] : dynamic.items()) {
      if (schema_->FieldIndex(key) < 0 && (all_dynamic_ || dynamic_.count(key) > 0)) out[key] = std::move(value);
    }
  }
  return out;
}

namespace {

Result<size_t> NonNegative(const json& body, const char* key, const std::string& collection,
                           bool* given) {
  auto it = body.find(key);
  *given = false;
  if (it == body.end() || it->is_null()) return size_t{0};
  if (it->is_number_unsigned()) {
    *given = true;
    return static_cast<size_t>(std::min<uint64_t>(it->get<uint64_t>(), uint64_t{1} << 40));
  }
  if (it->is_number_integer()) {
    return Status::InvalidArgument("collection " + collection + ": " + key +
                                   " must not be negative, got " + it->dump());
  }
  return Status::InvalidArgument("collection " + collection + ": " + key +
                                 " must be an integer, got " + it->dump());
}

}  // namespace

Result<Window> ParseWindow(const json& body, const std::string& collection, size_t default_limit,
                           size_t max_window) {
  max_window = std::min(max_window, kMaxSearchWindow);
  Window w;
  bool offset_given = false;
  ARK_ASSIGN_OR_RETURN(w.limit, NonNegative(body, "limit", collection, &w.limit_given));
  ARK_ASSIGN_OR_RETURN(w.offset, NonNegative(body, "offset", collection, &offset_given));
  if (!w.limit_given || w.limit == 0) {
    w.limit_given = false;
    w.limit = default_limit;
  }
  if (w.limit + w.offset > max_window) {
    return Status::InvalidArgument(
        "collection " + collection + ": invalid max query result window, (offset+limit) should be in range [1, " +
        std::to_string(max_window) + "], but got " + std::to_string(w.limit + w.offset));
  }
  return w;
}

Result<std::vector<float>> ParseQueryVectors(const json& data, const std::string& collection,
                                             uint32_t dim, size_t* num_queries) {
  const std::string ctx = "collection " + collection;
  if (!data.is_array() || data.empty()) {
    return Status::InvalidArgument(ctx + ": data must be a non-empty array of vectors");
  }
  // One bare vector ([0.1, ...]) is accepted as a single query.
  bool single = data[0].is_number();
  const size_t n = single ? 1 : data.size();
  std::vector<float> out;
  out.reserve(n * dim);
  for (size_t q = 0; q < n; ++q) {
    const json& v = single ? data : data[q];
    if (!v.is_array()) {
      return Status::InvalidArgument(ctx + ": data[" + std::to_string(q) +
                                     "] must be an array of numbers");
    }
    if (v.size() != dim) {
      return Status::InvalidArgument(ctx + ": data[" + std::to_string(q) + "] has dimension " +
                                     std::to_string(v.size()) + ", the field's dim is " +
                                     std::to_string(dim));
    }
    for (const json& x : v) {
      if (!x.is_number()) {
        return Status::InvalidArgument(ctx + ": data[" + std::to_string(q) +
                                       "] holds a non-number " + x.dump());
      }
      out.push_back(x.get<float>());
    }
  }
  *num_queries = n;
  return out;
}

Result<std::string> OptionalString(const json& body, const char* key, const std::string& fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) {
    return Status::InvalidArgument(std::string(key) + " must be a string, got " + it->dump());
  }
  return it->get<std::string>();
}

Result<const FieldSchema*> VectorField(const CollectionSchema& schema, const std::string& collection,
                                       const std::string& anns_field) {
  const FieldSchema* found = nullptr;
  for (const auto& f : schema.fields) {
    if (f.type != DataType::kFloatVector) continue;
    if (anns_field.empty() || f.name == anns_field) {
      if (found != nullptr && anns_field.empty()) {
        return Status::InvalidArgument("collection " + collection +
                                       ": annsField is required (several vector fields)");
      }
      found = &f;
    }
  }
  if (found == nullptr) {
    return Status::InvalidArgument("collection " + collection + ": annsField " + anns_field +
                                   " is not a FloatVector field");
  }
  return found;
}

Result<std::vector<PrimaryKey>> KeysFromJson(const json& ids, const FieldSchema& pk,
                                             const std::string& collection) {
  json list = ids.is_array() ? ids : json::array({ids});
  std::vector<PrimaryKey> keys;
  for (const json& v : list) {
    if (pk.type == DataType::kInt64) {
      if (v.is_number_integer()) {
        keys.emplace_back(v.get<int64_t>());
        continue;
      }
      if (v.is_string()) {  // int64 ids travel as strings when clients avoid precision loss
        const std::string& s = v.get_ref<const std::string&>();
        char* end = nullptr;
        errno = 0;
        long long n = std::strtoll(s.c_str(), &end, 10);
        if (!s.empty() && *end == '\0' && errno == 0) {
          keys.emplace_back(static_cast<int64_t>(n));
          continue;
        }
      }
    } else if (v.is_string()) {
      keys.emplace_back(v.get<std::string>());
      continue;
    }
    return Status::InvalidArgument("collection " + collection + ": id " + v.dump() +
                                   " is not a valid " + std::string(DataTypeName(pk.type)) +
                                   " primary key");
  }
  return keys;
}

}  // namespace ark::server
