// Recursive-descent parser for Milvus filter expressions.
//
// Why hand-written and not generated: `apt-cache search` on Debian 12 offers
// ANTLR 4 (what Milvus itself uses: a Java generator plus a large runtime
// library), bison / bisonc++ / byacc (LALR, C-style actions, error messages
// in terms of grammar states), and tao-pegtl-dev (a header-only C++17 PEG
// library, the closest fit). The grammar is small (about 15 rules, see
// docs/filter-expressions.md), and what matters most here is control the
// generators make awkward: messages that name the offending token and its
// offset and say what was expected, a hard cap on nesting depth, folding of
// -9223372036854775808, `{param}` substitution and chained comparisons
// rewritten while parsing, and no exceptions (PEGTL reports errors by
// throwing). A hand-written parser gives all that in a few hundred lines and
// no new dependency.
//
// The parser checks syntax only; names and types are checked by
// type_checker.h.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "core/status.h"
#include "expr/ast.h"

namespace ark::expr {

// Parses `filter`. An empty (or all-blank) filter yields nullptr: all rows.
// `params` is the Milvus 2.5 `exprParams` object that fills `{name}`
// templates; it may be nullptr when the filter has no templates.
// The returned tree's Node::token views point into `filter`, which must
// outlive it (Filter in filter.h keeps its own copy of the text).
Result<std::unique_ptr<Node>> ParseFilter(std::string_view filter, const nlohmann::json* params);

}  // namespace ark::expr
