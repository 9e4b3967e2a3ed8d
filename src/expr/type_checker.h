// Type checking of a parsed filter against a schema.
//
// Resolves identifiers to fields (unknown bare names become keys of the
// dynamic field when the collection has one), folds subscripts into field
// paths, annotates every node with its static type, prepares `like`
// patterns and `in` lists, and rejects ill-typed filters with an
// InvalidArgument error in the FilterError format (expr_error.h):
//
//   filter "title > 3": at offset 6 ('>'): cannot compare VarChar field 'title' with Int 3
//
// JSON values are typed per row (ExprType::kDynamic): any comparison with
// them type-checks, and a row whose value has another type does not match.
#pragma once

#include <string_view>

#include "core/status.h"
#include "expr/ast.h"
#include "expr/schema.h"

namespace ark::expr {

// Checks and rewrites `root` in place. `filter` is the text it was parsed
// from (for messages).
Status CheckFilter(std::string_view filter, const SchemaResolver& schema, Node* root);

}  // namespace ark::expr
