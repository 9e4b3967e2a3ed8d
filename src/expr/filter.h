// Filter: a compiled Milvus filter expression, the entry point of expr/.
//
//   ARK_ASSIGN_OR_RETURN(Filter f, Filter::Compile("age > 3 and color == 'red'", schema));
//   Bitmap hits;
//   ARK_RETURN_IF_ERROR(f.Evaluate(segment_columns, &hits));   // column-wise
//   bool m = f.Matches(row);                                    // row-wise
//
// Compile errors are InvalidArgument with the offending token's offset and
// what was expected (expr_error.h). A compiled Filter is immutable: it may be
// evaluated from many threads at once, and it does not refer to the schema
// resolver after Compile returns.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "expr/ast.h"
#include "expr/bitmap.h"
#include "expr/column_evaluator.h"
#include "expr/column_source.h"
#include "expr/row_evaluator.h"
#include "expr/schema.h"

namespace ark::expr {

class Filter {
 public:
  // `params`: the `exprParams` object for `{name}` templates, or nullptr.
  static Result<Filter> Compile(std::string_view text, const SchemaResolver& schema,
                                const nlohmann::json* params = nullptr);

  Filter(Filter&&) noexcept = default;
  Filter& operator=(Filter&&) noexcept = default;

  // True for the empty filter, which selects every row.
  bool MatchesAll() const { return root_ == nullptr; }
  bool Matches(const RowAccessor& row) const { return EvaluateRow(root_.get(), row); }
  // Bit i of *out = row i of `columns` matches.
  Status Evaluate(const ColumnSource& columns, Bitmap* out) const {
    return EvaluateColumns(root_.get(), columns, out);
  }

  // Field indexes the filter reads (sorted, unique), so that the engine
  // can load only those columns.
  std::vector<int> ReferencedFields() const;

  const std::string& text() const { return *text_; }
  const Node* root() const { return root_.get(); }
  // Canonical parenthesised form ("<all>" for the empty filter).
  std::string ToString() const;

 private:
  Filter() = default;
  std::unique_ptr<std::string> text_;  // tokens in the tree view into it
  std::unique_ptr<Node> root_;         // nullptr: all rows
};

// The primary keys a filter selects when it is nothing but
// `pk == x`, `pk in [...]`, or an `or` of those (the usual shape of a
// delete): the engine can then look the keys up instead of scanning.
// Keys are deduplicated, in order of first appearance. nullopt for any
// other filter (including the empty one).
using PrimaryKeyList = std::variant<std::vector<int64_t>, std::vector<std::string>>;
std::optional<PrimaryKeyList> ExtractPrimaryKeys(const Filter& filter, int pk_field_index);

}  // namespace ark::expr
