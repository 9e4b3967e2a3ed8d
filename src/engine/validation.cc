#include "engine/validation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

namespace ark {

namespace {

// True if no element is NaN or +-Inf (all exponent bits set). One branch per
// block rather than per element, so the compiler vectorises it: a batch of
// 1000 x 768 floats is scanned at memory speed.
bool AllFinite(const float* v, size_t n) {
  constexpr uint32_t kExponent = 0x7f800000u;
  size_t i = 0;
  while (i < n) {
    const size_t end = std::min(n, i + 4096);
    uint32_t bad = 0;
    for (; i < end; ++i) {
      uint32_t bits;
      std::memcpy(&bits, v + i, 4);
      bad |= static_cast<uint32_t>((bits & kExponent) == kExponent);
    }
    if (bad != 0) return false;
  }
  return true;
}

Status ColumnError(std::string_view collection, std::string_view field, const std::string& what) {
  return Status::InvalidArgument(
      fmt::format("collection '{}', field '{}': {}", collection, field, what));
}

Status ValidateColumn(std::string_view collection, std::string_view field, DataType type,
                      uint32_t dim, uint32_t max_length, const Column& c, size_t rows) {
  if (c.type != type) {
    return ColumnError(collection, field, fmt::format("expected type {}, got {}",
                                                      DataTypeName(type), DataTypeName(c.type)));
  }
  if (type == DataType::kFloatVector) {
    if (c.dim != dim) {
      return ColumnError(collection, field,
                         fmt::format("dimension mismatch: expected {}, got {}", dim, c.dim));
    }
    if (c.floats.size() != rows * static_cast<size_t>(dim)) {
      return ColumnError(collection, field,
                         fmt::format("expected {} floats ({} rows x dim {}), got {}", rows * dim,
                                     rows, dim, c.floats.size()));
    }
    if (!AllFinite(c.floats.data(), c.floats.size())) {
      for (size_t i = 0; i < c.floats.size(); ++i) {
        if (!std::isfinite(c.floats[i])) {
          return ColumnError(collection, field,
                             fmt::format("row {}, element {}: vectors must be finite, got {}",
                                         i / dim, i % dim, c.floats[i]));
        }
      }
    }
    return Status::OK();
  }
  if (c.size() != rows) {
    return ColumnError(collection, field,
                       fmt::format("expected {} values, got {}", rows, c.size()));
  }
  if (type == DataType::kVarChar) {
    for (size_t r = 0; r < rows; ++r) {
      if (c.strings[r].size() > max_length) {
        return ColumnError(collection, field,
                           fmt::format("row {}: VarChar too long: max_length {}, got {} bytes", r,
                                       max_length, c.strings[r].size()));
      }
    }
  }
  if (type == DataType::kJson) {
    for (size_t r = 0; r < rows; ++r) {
      if (!nlohmann::json::accept(c.strings[r])) {
        return ColumnError(collection, field, fmt::format("row {}: not valid JSON", r));
      }
    }
  }
  if (type == DataType::kFloat || type == DataType::kDouble) {
    for (size_t r = 0; r < rows; ++r) {
      if (std::isnan(c.doubles[r])) {
        return ColumnError(collection, field, fmt::format("row {}: NaN is not allowed", r));
      }
    }
  }
  return Status::OK();
}

}  // namespace

Status ValidateBatch(const CollectionSchema& schema, std::string_view collection,
                     const RowBatch& batch) {
  const size_t want = schema.NumColumns();
  if (batch.columns.size() != want) {
    return Status::InvalidArgument(fmt::format("collection '{}': expected {} columns, got {}",
                                               collection, want, batch.columns.size()));
  }
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const auto& f = schema.fields[i];
    ARK_RETURN_IF_ERROR(ValidateColumn(collection, f.name, f.type, f.dim, f.max_length,
                                       batch.columns[i], batch.num_rows));
  }
  if (schema.enable_dynamic_field) {
    const Column& c = batch.columns[schema.DynamicColumn()];
    ARK_RETURN_IF_ERROR(
        ValidateColumn(collection, kDynamicFieldName, DataType::kJson, 0, 0, c, batch.num_rows));
    for (size_t r = 0; r < batch.num_rows; ++r) {
      if (c.strings[r].empty() || c.strings[r][0] != '{') {
        return ColumnError(collection, kDynamicFieldName,
                           fmt::format("row {}: expected a JSON object", r));
      }
    }
  }
  if (schema.partition_column) {
    ARK_RETURN_IF_ERROR(ValidateColumn(collection, kPartitionFieldName, DataType::kInt64, 0, 0,
                                       batch.columns[schema.PartitionColumn()], batch.num_rows));
  }
  const size_t pk = schema.PrimaryKeyIndex();
  std::unordered_map<PrimaryKey, size_t> seen;
  seen.reserve(batch.num_rows);
  for (size_t r = 0; r < batch.num_rows; ++r) {
    auto [it, inserted] = seen.emplace(PrimaryKeyAt(batch.columns[pk], r), r);
    if (!inserted) {
      return ColumnError(collection, schema.fields[pk].name,
                         fmt::format("primary key {} is repeated in the batch (rows {} and {})",
                                     PrimaryKeyToString(it->first), it->second, r));
    }
  }
  return Status::OK();
}

}  // namespace ark
