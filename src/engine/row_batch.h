// RowBatch: rows of one collection in columnar form.
//
// One Column per schema field, in schema order, followed by the dynamic
// "$meta" column when the schema enables it. Vectors are one contiguous
// row-major float array per column (1000 x 768 floats = one allocation), never
// a vector per row. Integers of every width (and Bool) are held as int64,
// Float and Double as double (a Float value is rounded to float when it enters),
// VarChar and JSON as strings (JSON in its compact serialized form).
//
// RowBatch is a plain value: not thread-safe for writes, safe to share
// read-only (the engine keeps applied batches behind shared_ptr<const ...>).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "engine/schema.h"

namespace ark {

using PrimaryKey = std::variant<int64_t, std::string>;
std::string PrimaryKeyToString(const PrimaryKey& key);

struct Column {
  DataType type = DataType::kInt64;
  uint32_t dim = 0;                  // FloatVector only
  std::vector<int64_t> ints;         // Bool, Int8, Int16, Int32, Int64
  std::vector<double> doubles;       // Float, Double
  std::vector<std::string> strings;  // VarChar, JSON
  std::vector<float> floats;         // FloatVector: size() * dim values

  size_t size() const;
  void Reserve(size_t rows);
  // Appends row `row` of `other` (same type and dim).
  void AppendFrom(const Column& other, size_t row);
  // Approximate bytes of payload (for seal thresholds).
  size_t ByteSize() const;
  bool operator==(const Column&) const = default;
};

struct RowBatch {
  std::vector<Column> columns;
  size_t num_rows = 0;

  // An empty batch with the columns `schema` needs (including "$meta").
  static RowBatch Empty(const CollectionSchema& schema);
  void AppendRow(const RowBatch& other, size_t row);
  // A new batch with only the listed rows, in that order.
  RowBatch Select(const std::vector<uint32_t>& rows) const;
  size_t ByteSize() const;
  bool operator==(const RowBatch&) const = default;
};

// The primary key of row `row` (column `pk_column` must be Int64 or VarChar).
PrimaryKey PrimaryKeyAt(const Column& pk_column, size_t row);

// Which write a batch is for: decides how autoID keys are treated.
enum class WriteKind { kInsert, kUpsert };

// Builds a batch from a JSON array of row objects (Milvus REST `data`).
// Messages name the collection, the row index and the field, and give the
// expected and the actual value. With auto_id and kInsert the primary key must
// be absent and the key column is filled with zeros (the engine assigns keys);
// with kUpsert it is required. Keys that are not fields go to "$meta" if the
// dynamic field is enabled, and are an error otherwise.
Result<RowBatch> RowBatchFromJson(const CollectionSchema& schema, std::string_view collection,
                                  const nlohmann::json& rows, WriteKind kind);

// Rows as JSON objects (dynamic keys merged at top level, like Milvus output).
nlohmann::json RowToJson(const CollectionSchema& schema, const RowBatch& batch, size_t row);
// One field of one row, as RowToJson writes it.
nlohmann::json FieldValueToJson(const FieldSchema& field, const Column& column, size_t row);
// The dynamic fields ("$meta") of one row as an object; empty without them.
nlohmann::json DynamicFieldsToJson(const CollectionSchema& schema, const RowBatch& batch, size_t row);
nlohmann::json RowBatchToJson(const CollectionSchema& schema, const RowBatch& batch);

}  // namespace ark
