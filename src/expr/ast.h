// The syntax tree of a filter expression.
//
// The parser builds it from tokens; the type checker (type_checker.h) then
// resolves names to fields, folds JSON/array subscripts into field paths and
// annotates every node with its static type. Evaluators only ever see a
// checked tree. Nodes are heap-allocated and never moved, so a literal's
// string stays where Value::s points.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "expr/in_list.h"
#include "expr/like_pattern.h"
#include "expr/schema.h"
#include "expr/value.h"

namespace ark::expr {

// Deeper nesting than this is rejected (stack safety for the recursive
// parser, checker and evaluators).
inline constexpr int kMaxNestingDepth = 200;
// Longer filter texts are rejected outright.
inline constexpr size_t kMaxFilterBytes = 16 << 20;

enum class NodeKind : uint8_t {
  kLiteral,  // null/bool/int/double/string, in `literal`
  kArray,    // array literal; children are literals or arrays; `json` holds it
  kIdent,    // unresolved name (parser output only)
  kIndex,    // children[0][children[1]] (parser output only)
  kField,    // field_index + path (checker output)
  kNeg,      // -children[0]
  kArith,    // children[0] arith_op children[1]
  kCompare,  // children[0] compare_op children[1]
  kAnd,      // n-ary
  kOr,       // n-ary
  kNot,
  kIn,      // children[0] in children[1] (kArray); `negated` for not in
  kLike,    // children[0] like `literal` (a string)
  kIsNull,  // children[0] is null; `negated` for is not null
  kCall,    // name(children...)
};

enum class ArithOp : uint8_t { kAdd, kSub, kMul, kDiv, kMod, kPow };
std::string_view ArithOpText(ArithOp op);

// Static types assigned by the checker. kDynamic is a JSON value whose type
// is known only per row (a JSON path, a dynamic-field key, or arithmetic on
// one).
enum class ExprType : uint8_t {
  kUnknown,
  kBool,
  kInt,
  kFloat,
  kString,
  kDynamic,
  kArray,
  kVector,
  kList
};
std::string_view ExprTypeName(ExprType type);

enum class Function : uint8_t {
  kJsonContains,
  kJsonContainsAll,
  kJsonContainsAny,
  kArrayContains,
  kArrayContainsAll,
  kArrayContainsAny,
  kArrayLength,
};

// One step of a JSON path or array subscript.
struct PathStep {
  bool is_key = false;
  std::string key;    // when is_key
  int64_t index = 0;  // otherwise
};

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  size_t offset = 0;       // of the token that names this node in errors
  std::string_view token;  // that token's text (empty: end of input)
  int depth = 1;           // 1 + max depth of children
  std::vector<std::unique_ptr<Node>> children;

  // kLiteral
  Value literal;    // for strings, literal.s points at `str`
  std::string str;  // kLiteral string, kIdent name, kCall name
  // kArray (and array-valued literals): the literal as JSON
  std::unique_ptr<nlohmann::json> json;

  CompareOp compare_op = CompareOp::kEq;
  ArithOp arith_op = ArithOp::kAdd;
  bool negated = false;  // kIn, kIsNull
  Function function = Function::kJsonContains;

  // Checker output.
  ExprType type = ExprType::kUnknown;
  ExprType element_type = ExprType::kUnknown;  // for kArray-typed fields
  int field_index = -1;                        // kField
  std::string field_name;                      // kField, for messages
  bool dynamic = false;                        // kField: path into the dynamic field
  std::vector<PathStep> path;                  // kField: JSON keys / array indexes
  std::unique_ptr<LikePattern> like;           // kLike
  std::unique_ptr<InList> in_list;             // kIn, *_contains_all/any: the list

  void SetString(std::string s) {
    str = std::move(s);
    literal = Value::String(str);
  }
  void AddChild(std::unique_ptr<Node> child) {
    if (child->depth + 1 > depth) depth = child->depth + 1;
    children.push_back(std::move(child));
  }
};

// Deep copy of a parsed (not yet checked) tree; literal strings are
// re-pointed at the copy. Checker output (like, in_list) is not copied.
std::unique_ptr<Node> CloneNode(const Node& node);

// A canonical, fully parenthesised rendering for tests and debugging,
// e.g. "((age > 3) and (color in [\"red\"]))".
std::string NodeToString(const Node& node);

}  // namespace ark::expr
