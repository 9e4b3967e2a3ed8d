#include "engine/row_batch.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace ark {

std::string PrimaryKeyToString(const PrimaryKey& key) {
  if (const auto* i = std::get_if<int64_t>(&key)) return std::to_string(*i);
  return "'" + std::get<std::string>(key) + "'";
}

size_t Column::size() const {
  switch (type) {
    case DataType::kFloat:
    case DataType::kDouble:
      return doubles.size();
    case DataType::kVarChar:
    case DataType::kJson:
      return strings.size();
    case DataType::kFloatVector:
      return dim == 0 ? 0 : floats.size() / dim;
    default:
      return ints.size();
  }
}

void Column::Reserve(size_t rows) {
  switch (type) {
    case DataType::kFloat:
    case DataType::kDouble:
      doubles.reserve(rows);
      break;
    case DataType::kVarChar:
    case DataType::kJson:
      strings.reserve(rows);
      break;
    case DataType::kFloatVector:
      floats.reserve(rows * dim);
      break;
    default:
      ints.reserve(rows);
  }
}

void Column::AppendFrom(const Column& other, size_t row) {
  switch (type) {
    case DataType::kFloat:
    case DataType::kDouble:
      doubles.push_back(other.doubles[row]);
      break;
    case DataType::kVarChar:
    case DataType::kJson:
      strings.push_back(other.strings[row]);
      break;
    case DataType::kFloatVector:
      floats.insert(floats.end(), other.floats.begin() + row * dim,
                    other.floats.begin() + (row + 1) * dim);
      break;
    default:
      ints.push_back(other.ints[row]);
  }
}

size_t Column::ByteSize() const {
  size_t n = ints.size() * 8 + doubles.size() * 8 + floats.size() * 4;
  for (const auto& s : strings) n += s.size() + 4;
  return n;
}

RowBatch RowBatch::Empty(const CollectionSchema& schema) {
  RowBatch b;
  for (const auto& f : schema.fields) {
    Column c;
    c.type = f.type;
    c.dim = f.dim;
    b.columns.push_back(std::move(c));
  }
  if (schema.enable_dynamic_field) {
    Column c;
    c.type = DataType::kJson;
    b.columns.push_back(std::move(c));
  }
  if (schema.partition_column) {
    Column c;
    c.type = DataType::kInt64;
    b.columns.push_back(std::move(c));
  }
  return b;
}

void RowBatch::AppendRow(const RowBatch& other, size_t row) {
  for (size_t i = 0; i < columns.size(); ++i) columns[i].AppendFrom(other.columns[i], row);
  ++num_rows;
}

RowBatch RowBatch::Select(const std::vector<uint32_t>& rows) const {
  RowBatch out;
  for (const auto& c : columns) {
    Column e;
    e.type = c.type;
    e.dim = c.dim;
    e.Reserve(rows.size());
    out.columns.push_back(std::move(e));
  }
  for (uint32_t r : rows) out.AppendRow(*this, r);
  return out;
}

size_t RowBatch::ByteSize() const {
  size_t n = 0;
  for (const auto& c : columns) n += c.ByteSize();
  return n;
}

PrimaryKey PrimaryKeyAt(const Column& pk_column, size_t row) {
  if (pk_column.type == DataType::kVarChar) return pk_column.strings[row];
  return pk_column.ints[row];
}

namespace {

std::string Describe(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return fmt::format("{} {}", v.type_name(), s);
}

struct RowContext {
  std::string_view collection;
  size_t row;
};

Status FieldError(const RowContext& ctx, std::string_view field, const std::string& what) {
  return Status::InvalidArgument(
      fmt::format("collection '{}', row {}, field '{}': {}", ctx.collection, ctx.row, field, what));
}

Status AppendIntValue(const RowContext& ctx, const FieldSchema& f, const nlohmann::json& v,
                      Column* col) {
  if (f.type == DataType::kBool) {
    if (!v.is_boolean()) {
      return FieldError(ctx, f.name, fmt::format("expected Bool, got {}", Describe(v)));
    }
    col->ints.push_back(v.get<bool>() ? 1 : 0);
    return Status::OK();
  }
  if (!v.is_number_integer()) {
    return FieldError(ctx, f.name,
                      fmt::format("expected {}, got {}", DataTypeName(f.type), Describe(v)));
  }
  int64_t x;
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(ctx, f.name, fmt::format("value {} does not fit in Int64", u));
    }
    x = static_cast<int64_t>(u);
  } else {
    x = v.get<int64_t>();
  }
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  if (f.type == DataType::kInt8) lo = -128, hi = 127;
  if (f.type == DataType::kInt16) lo = -32768, hi = 32767;
  if (f.type == DataType::kInt32) {
    lo = std::numeric_limits<int32_t>::min();
    hi = std::numeric_limits<int32_t>::max();
  }
  if (x < lo || x > hi) {
    return FieldError(ctx, f.name, fmt::format("value {} is out of range for {} [{}, {}]", x,
                                               DataTypeName(f.type), lo, hi));
  }
  col->ints.push_back(x);
  return Status::OK();
}

Status AppendValue(const RowContext& ctx, const FieldSchema& f, const nlohmann::json& v,
                   Column* col) {
  switch (f.type) {
    case DataType::kFloat:
    case DataType::kDouble: {
      if (!v.is_number()) {
        return FieldError(ctx, f.name,
                          fmt::format("expected {}, got {}", DataTypeName(f.type), Describe(v)));
      }
      double d = v.get<double>();
      if (f.type == DataType::kFloat) d = static_cast<float>(d);
      col->doubles.push_back(d);
      return Status::OK();
    }
    case DataType::kVarChar:
      if (!v.is_string()) {
        return FieldError(ctx, f.name, fmt::format("expected VarChar, got {}", Describe(v)));
      }
      col->strings.push_back(v.get<std::string>());
      return Status::OK();
    case DataType::kJson:
      col->strings.push_back(v.dump());
      return Status::OK();
    case DataType::kFloatVector: {
      if (!v.is_array()) {
        return FieldError(ctx, f.name,
                          fmt::format("expected FloatVector(dim={}), got {}", f.dim, Describe(v)));
      }
      if (v.size() != f.dim) {
        return FieldError(ctx, f.name,
                          fmt::format("dimension mismatch: expected {}, got {}", f.dim, v.size()));
      }
      for (size_t k = 0; k < v.size(); ++k) {
        if (!v[k].is_number()) {
          return FieldError(ctx, f.name, fmt::format("element {}: expected a number, got {}", k,
                                                     Describe(v[k])));
        }
        col->floats.push_back(v[k].get<float>());
      }
      return Status::OK();
    }
    default:
      return AppendIntValue(ctx, f, v, col);
  }
}

}  // namespace

Result<RowBatch> RowBatchFromJson(const CollectionSchema& schema, std::string_view collection,
                                  const nlohmann::json& rows, WriteKind kind) {
  if (!rows.is_array()) {
    return Status::InvalidArgument(
        fmt::format("collection '{}': expected an array of rows, got {}", collection,
                    rows.type_name()));
  }
  RowBatch batch = RowBatch::Empty(schema);
  for (auto& c : batch.columns) c.Reserve(rows.size());
  const size_t pk = schema.PrimaryKeyIndex();
  const bool auto_key = schema.auto_id && kind == WriteKind::kInsert;
  for (size_t r = 0; r < rows.size(); ++r) {
    RowContext ctx{collection, r};
    const auto& row = rows[r];
    if (!row.is_object()) {
      return Status::InvalidArgument(fmt::format("collection '{}', row {}: expected an object, got {}",
                                                 collection, r, Describe(row)));
    }
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      const auto& f = schema.fields[i];
      auto it = row.find(f.name);
      if (i == pk && auto_key) {
        if (it != row.end()) {
          return FieldError(ctx, f.name,
                            "primary key must not be given on insert: the collection has autoID "
                            "enabled (use upsert to write a known key)");
        }
        batch.columns[i].ints.push_back(0);
        continue;
      }
      if (it == row.end() || it->is_null()) {
        return FieldError(ctx, f.name, fmt::format("missing value for field of type {}",
                                                   DataTypeName(f.type)));
      }
      ARK_RETURN_IF_ERROR(AppendValue(ctx, f, *it, &batch.columns[i]));
    }
    nlohmann::json dynamic = nlohmann::json::object();
    for (auto it = row.begin(); it != row.end(); ++it) {
      if (schema.FieldIndex(it.key()) >= 0) continue;
      if (!schema.enable_dynamic_field) {
        return FieldError(ctx, it.key(),
                          "unknown field: not in the schema and the dynamic field is disabled");
      }
      if (it.key() == kDynamicFieldName) {
        return FieldError(ctx, it.key(), "the name '$meta' is reserved");
      }
      dynamic[it.key()] = it.value();
    }
    if (schema.enable_dynamic_field) batch.columns[schema.DynamicColumn()].strings.push_back(dynamic.dump());
    ++batch.num_rows;
  }
  // "$partition": _default here; Database::Write sets the partition written to.
  if (schema.partition_column) batch.columns[schema.PartitionColumn()].ints.assign(batch.num_rows, 0);
  return batch;
}

nlohmann::json FieldValueToJson(const FieldSchema& f, const Column& c, size_t row) {
  switch (f.type) {
    case DataType::kBool:
      return c.ints[row] != 0;
    case DataType::kFloat:
      return static_cast<float>(c.doubles[row]);
    case DataType::kDouble:
      return c.doubles[row];
    case DataType::kVarChar:
      return c.strings[row];
    case DataType::kJson:
      return nlohmann::json::parse(c.strings[row], nullptr, false);
    case DataType::kFloatVector:
      return std::vector<float>(c.floats.begin() + row * c.dim, c.floats.begin() + (row + 1) * c.dim);
    default:
      return c.ints[row];
  }
}

nlohmann::json DynamicFieldsToJson(const CollectionSchema& schema, const RowBatch& batch, size_t row) {
  if (!schema.enable_dynamic_field || batch.columns.size() <= schema.fields.size()) return nlohmann::json::object();
  auto dyn = nlohmann::json::parse(batch.columns[schema.DynamicColumn()].strings[row], nullptr, false);
  return dyn.is_object() ? dyn : nlohmann::json::object();
}

nlohmann::json RowToJson(const CollectionSchema& schema, const RowBatch& batch, size_t row) {
  nlohmann::json o = nlohmann::json::object();
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    o[schema.fields[i].name] = FieldValueToJson(schema.fields[i], batch.columns[i], row);
  }
  nlohmann::json dynamic = DynamicFieldsToJson(schema, batch, row);
  for (auto& [key, value] : dynamic.items()) o[key] = std::move(value);
  return o;
}

nlohmann::json RowBatchToJson(const CollectionSchema& schema, const RowBatch& batch) {
  nlohmann::json a = nlohmann::json::array();
  for (size_t r = 0; r < batch.num_rows; ++r) a.push_back(RowToJson(schema, batch, r));
  return a;
}

}  // namespace ark
