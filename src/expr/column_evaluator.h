// Column-at-a-time evaluation of a checked filter over a batch of rows.
//
// Vectorised paths: a scalar column compared with a constant, `in` lists
// (hash sets), `like` on VarChar columns, `is [not] null`, and and/or/not
// as word-wise bitmap algebra. Any other node (JSON paths, arithmetic,
// functions, field-vs-field comparisons) falls back to the row evaluator
// for that subtree only. The result equals EvaluateRow on every row.
#pragma once

#include "core/status.h"
#include "expr/ast.h"
#include "expr/bitmap.h"
#include "expr/column_source.h"

namespace ark::expr {

// Sets bit i of *out (resized to columns.RowCount()) when row i matches.
// `root` nullptr (the empty filter) selects every row.
Status EvaluateColumns(const Node* root, const ColumnSource& columns, Bitmap* out);

}  // namespace ark::expr
