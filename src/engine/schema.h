// Schema: the data model of a collection (Milvus's field types).
//
// A collection lives in a database (Milvus `dbName`, default "default") and is
// keyed by (database, name); it also has a stable numeric id that WAL records
// and manifests use, so a rename never rewrites data.
//
// Exactly one field is the primary key (Int64 or VarChar). With auto_id the
// engine assigns Int64 keys on insert. With enable_dynamic_field, keys of an
// inserted row that are not in the schema are kept in a hidden JSON column
// named "$meta" (Milvus's name).
//
// Partitions (Milvus partitions): with partition_column, every row carries
// the id of its partition in a hidden Int64 column named "$partition", after
// "$meta" (or after the last field). Id 0 is "_default", which always exists;
// the names of the others live with the collection (Database). Collections
// created without it (engine tests, data written before partitions) have only
// "_default".
//
// Schemas are plain values; they are immutable once a collection exists.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace ark {

// Values are part of the on-disk formats (WAL, segment, manifest): never renumber.
enum class DataType : uint8_t {
  kBool = 1,
  kInt8 = 2,
  kInt16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kFloat = 10,
  kDouble = 11,
  kVarChar = 21,
  kJson = 23,
  kFloatVector = 101,
};

// Milvus's spelling: "Bool", "Int8", ..., "VarChar", "JSON", "FloatVector".
std::string_view DataTypeName(DataType type);
// Parses a Milvus type name (case-insensitive); InvalidArgument otherwise.
Result<DataType> ParseDataType(std::string_view name);
// True for types stored in the integer column representation.
bool IsIntegerType(DataType type);

inline constexpr std::string_view kDynamicFieldName = "$meta";
inline constexpr std::string_view kDefaultDatabase = "default";
inline constexpr std::string_view kPartitionFieldName = "$partition";
inline constexpr std::string_view kDefaultPartition = "_default";
inline constexpr int64_t kDefaultPartitionId = 0;

struct FieldSchema {
  std::string name;
  DataType type = DataType::kInt64;
  bool is_primary_key = false;
  uint32_t max_length = 0;  // VarChar only: maximum length in bytes
  uint32_t dim = 0;         // FloatVector only
  std::string description;

  bool operator==(const FieldSchema&) const = default;
};

struct CollectionSchema {
  std::vector<FieldSchema> fields;
  bool auto_id = false;
  bool enable_dynamic_field = false;
  bool partition_column = false;  // rows carry "$partition" (see above)
  std::string description;

  bool operator==(const CollectionSchema&) const = default;

  // Index of the primary-key field (valid after Validate()).
  size_t PrimaryKeyIndex() const;
  const FieldSchema& PrimaryKey() const { return fields[PrimaryKeyIndex()]; }
  // Index of the named field, or -1.
  int FieldIndex(std::string_view name) const;
  // Columns of a RowBatch / segment: the fields, "$meta" if dynamic, then
  // "$partition" if partition_column.
  size_t NumColumns() const {
    return fields.size() + (enable_dynamic_field ? 1 : 0) + (partition_column ? 1 : 0);
  }
  // Column of "$meta" / "$partition", or -1 without one.
  int DynamicColumn() const { return enable_dynamic_field ? static_cast<int>(fields.size()) : -1; }
  int PartitionColumn() const {
    return partition_column ? static_cast<int>(fields.size() + (enable_dynamic_field ? 1 : 0)) : -1;
  }
  // The column's name ("$meta" and "$partition" for the hidden ones).
  std::string ColumnName(size_t column) const;

  // Checks the schema itself: names unique and non-empty, exactly one primary
  // key of type Int64 or VarChar, auto_id only with Int64 keys, VarChar with
  // max_length in [1, 65535], vectors with dim in [1, 32768], at least one
  // vector field. Messages name the collection and the field.
  Status Validate(std::string_view collection) const;

  nlohmann::json ToJson() const;
  static Result<CollectionSchema> FromJson(const nlohmann::json& j);
};

// Limits (Milvus's defaults).
inline constexpr uint32_t kMaxVarCharLength = 65535;
inline constexpr uint32_t kMaxVectorDim = 32768;

// Collection and database names: [A-Za-z_][A-Za-z0-9_]*, at most 255 bytes.
Status ValidateName(std::string_view what, std::string_view name);

}  // namespace ark
