#include "expr/ast.h"

namespace ark::expr {

std::string_view ArithOpText(ArithOp op) {
  switch (op) {
    case ArithOp::kAdd:
      return "+";
    case ArithOp::kSub:
      return "-";
    case ArithOp::kMul:
      return "*";
    case ArithOp::kDiv:
      return "/";
    case ArithOp::kMod:
      return "%";
    case ArithOp::kPow:
      return "**";
  }
  return "?";
}

std::string_view ExprTypeName(ExprType type) {
  switch (type) {
    case ExprType::kUnknown:
      return "Unknown";
    case ExprType::kBool:
      return "Bool";
    case ExprType::kInt:
      return "Int";
    case ExprType::kFloat:
      return "Float";
    case ExprType::kString:
      return "VarChar";
    case ExprType::kDynamic:
      return "JSON";
    case ExprType::kArray:
      return "Array";
    case ExprType::kVector:
      return "Vector";
    case ExprType::kList:
      return "list";
  }
  return "?";
}

std::unique_ptr<Node> CloneNode(const Node& node) {
  auto c = std::make_unique<Node>();
  c->kind = node.kind;
  c->offset = node.offset;
  c->token = node.token;
  c->depth = node.depth;
  for (const auto& child : node.children) c->children.push_back(CloneNode(*child));
  c->literal = node.literal;
  c->str = node.str;
  if (c->literal.kind == Value::Kind::kString) c->literal.s = c->str;
  if (node.json) c->json = std::make_unique<nlohmann::json>(*node.json);
  if (c->literal.kind == Value::Kind::kJson) c->literal.j = c->json.get();
  c->compare_op = node.compare_op;
  c->arith_op = node.arith_op;
  c->negated = node.negated;
  c->function = node.function;
  c->type = node.type;
  c->element_type = node.element_type;
  c->field_index = node.field_index;
  c->field_name = node.field_name;
  c->dynamic = node.dynamic;
  c->path = node.path;
  return c;
}

namespace {

std::string LiteralToString(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return v.b ? "true" : "false";
    case Value::Kind::kInt:
      return std::to_string(v.i);
    case Value::Kind::kDouble:
      return nlohmann::json(v.d).dump();
    case Value::Kind::kString:
      return nlohmann::json(std::string(v.s)).dump();
    case Value::Kind::kJson:
      return v.j->dump();
  }
  return "?";
}

std::string_view FunctionName(Function f) {
  switch (f) {
    case Function::kJsonContains:
      return "json_contains";
    case Function::kJsonContainsAll:
      return "json_contains_all";
    case Function::kJsonContainsAny:
      return "json_contains_any";
    case Function::kArrayContains:
      return "array_contains";
    case Function::kArrayContainsAll:
      return "array_contains_all";
    case Function::kArrayContainsAny:
      return "array_contains_any";
    case Function::kArrayLength:
      return "array_length";
  }
  return "?";
}

std::string Join(const Node& node, std::string_view sep) {
  std::string s = "(";
  for (size_t i = 0; i < node.children.size(); ++i) {
    if (i) s += sep;
    s += NodeToString(*node.children[i]);
  }
  return s + ")";
}

}  // namespace

std::string NodeToString(const Node& node) {
  switch (node.kind) {
    case NodeKind::kLiteral:
      return LiteralToString(node.literal);
    case NodeKind::kArray:
      return node.json ? node.json->dump() : "[]";
    case NodeKind::kIdent:
      return node.str;
    case NodeKind::kIndex:
      return NodeToString(*node.children[0]) + "[" + NodeToString(*node.children[1]) + "]";
    case NodeKind::kField: {
      std::string s = node.dynamic ? "$meta" : node.field_name;
      for (const PathStep& p : node.path) {
        s += "[";
        s += p.is_key ? nlohmann::json(p.key).dump() : std::to_string(p.index);
        s += "]";
      }
      return s;
    }
    case NodeKind::kNeg:
      return "(-" + NodeToString(*node.children[0]) + ")";
    case NodeKind::kArith:
      return Join(node, " " + std::string(ArithOpText(node.arith_op)) + " ");
    case NodeKind::kCompare:
      return Join(node, " " + std::string(CompareOpText(node.compare_op)) + " ");
    case NodeKind::kAnd:
      return Join(node, " and ");
    case NodeKind::kOr:
      return Join(node, " or ");
    case NodeKind::kNot:
      return "(not " + NodeToString(*node.children[0]) + ")";
    case NodeKind::kIn:
      return Join(node, node.negated ? " not in " : " in ");
    case NodeKind::kLike:
      return "(" + NodeToString(*node.children[0]) + " like " + LiteralToString(node.literal) + ")";
    case NodeKind::kIsNull:
      return "(" + NodeToString(*node.children[0]) + (node.negated ? " is not null)" : " is null)");
    case NodeKind::kCall: {
      std::string name =
          node.type == ExprType::kUnknown ? node.str : std::string(FunctionName(node.function));
      return name + Join(node, ", ");
    }
  }
  return "?";
}

}  // namespace ark::expr
