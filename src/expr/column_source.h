// A batch of rows, column by column, as the column evaluator reads it.
//
// The engine adapts a segment (or a slice of one) to ColumnSource. Columns
// are typed spans of RowCount() entries owned by the source; they must stay
// valid and unchanged while an evaluation runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "core/status.h"
#include "expr/value.h"

namespace ark::expr {

// The physical type of a column and what ColumnView::data points to.
enum class ColumnKind : uint8_t {
  kBool,       // const uint8_t*   (0 or 1)
  kBool64,     // const int64_t*   (0 = false; Bool held in an integer column)
  kInt8,       // const int8_t*
  kInt16,      // const int16_t*
  kInt32,      // const int32_t*
  kInt64,      // const int64_t*
  kFloat,      // const float*
  kDouble,     // const double*
  kString,     // const std::string_view*
  kStdString,  // const std::string* (VarChar held as std::string, no copy needed)
  kJson,       // const nlohmann::json* const*  (JSON and Array fields; nullptr = null)
};

struct ColumnView {
  ColumnKind kind = ColumnKind::kInt64;
  const void* data = nullptr;
  // One byte per row, 0 = SQL NULL; nullptr when the column has no nulls.
  const uint8_t* valid = nullptr;

  // The row's value, as RowAccessor::GetField would return it.
  Value Get(size_t row) const;
};

// Thread-safety: GetColumn may be called concurrently only if the
// implementation says so; the evaluator calls it from one thread.
class ColumnSource {
 public:
  virtual ~ColumnSource() = default;
  virtual size_t RowCount() const = 0;
  // The column of field `field_index` (FieldInfo::index). NotFound or
  // another error aborts the evaluation with that status.
  virtual Result<ColumnView> GetColumn(int field_index) const = 0;
};

}  // namespace ark::expr
