// Row-at-a-time evaluation of a checked filter.
//
// The engine adapts one row of a segment to RowAccessor. This evaluator is
// the reference semantics; the column evaluator (column_evaluator.h) must
// agree with it on every row (tests/expr/differential_test.cc checks).
#pragma once

#include "expr/ast.h"
#include "expr/value.h"

namespace ark::expr {

// One row, as the evaluator reads it. Implementations need not be
// thread-safe; one accessor is used by one thread at a time.
class RowAccessor {
 public:
  virtual ~RowAccessor() = default;
  // The value of field `field_index` (FieldInfo::index) in this row:
  // Bool/Int/Double/String for scalar fields, Value::FromJson(&doc) for JSON
  // fields and for Array fields (a JSON array), Null for a SQL NULL.
  // Strings and JSON must stay valid until the evaluation call returns.
  virtual Value GetField(int field_index) const = 0;
};

// Whether the row matches. `root` must have passed CheckFilter; nullptr
// (the empty filter) matches every row.
bool EvaluateRow(const Node* root, const RowAccessor& row);

// The value of a checked expression node (Null when undefined for this
// row: a missing JSON key, a type mismatch, an integer division by zero).
Value EvaluateValue(const Node& node, const RowAccessor& row);

}  // namespace ark::expr
