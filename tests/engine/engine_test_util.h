// Shared helpers for the engine tests: a small schema and row generators.
#pragma once

#include <cstdint>
#include <string>

#include "engine/row_batch.h"
#include "engine/schema.h"

namespace ark::testing {

// id Int64 primary key, title VarChar(32), score Float, tags JSON,
// embedding FloatVector(dim).
inline CollectionSchema TestSchema(uint32_t dim = 4, bool auto_id = false,
                                   bool dynamic = false) {
  CollectionSchema s;
  s.auto_id = auto_id;
  s.enable_dynamic_field = dynamic;
  s.fields.push_back({"id", DataType::kInt64, true, 0, 0, ""});
  s.fields.push_back({"title", DataType::kVarChar, false, 32, 0, ""});
  s.fields.push_back({"score", DataType::kFloat, false, 0, 0, ""});
  s.fields.push_back({"tags", DataType::kJson, false, 0, 0, ""});
  s.fields.push_back({"embedding", DataType::kFloatVector, false, 0, dim, ""});
  return s;
}

// Rows [first, first+n) of TestSchema(dim): deterministic values derived from
// the key and `version` (so an upsert can be told from the original).
inline RowBatch TestRows(const CollectionSchema& schema, int64_t first, size_t n,
                         int version = 0) {
  RowBatch b = RowBatch::Empty(schema);
  uint32_t dim = schema.fields[4].dim;
  for (size_t i = 0; i < n; ++i) {
    int64_t id = first + static_cast<int64_t>(i);
    b.columns[0].ints.push_back(id);
    b.columns[1].strings.push_back("t" + std::to_string(id) + "v" + std::to_string(version));
    b.columns[2].doubles.push_back(static_cast<float>(id * 0.5 + version));
    b.columns[3].strings.push_back("{\"v\":" + std::to_string(version) + "}");
    for (uint32_t d = 0; d < dim; ++d) {
      b.columns[4].floats.push_back(static_cast<float>(id % 1000) + d * 0.25f + version);
    }
    if (schema.enable_dynamic_field) b.columns[5].strings.push_back("{}");
    ++b.num_rows;
  }
  return b;
}

}  // namespace ark::testing
