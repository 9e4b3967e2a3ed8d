#include "expr/parser.h"

#include <nlohmann/json.hpp>

#include "expr/expr_error.h"
#include "expr/lexer.h"

namespace ark::expr {
namespace {

using NodePtr = std::unique_ptr<Node>;

struct FunctionEntry {
  std::string_view name;
  Function function;
};
constexpr FunctionEntry kFunctions[] = {
    {"json_contains", Function::kJsonContains},
    {"json_contains_all", Function::kJsonContainsAll},
    {"json_contains_any", Function::kJsonContainsAny},
    {"array_contains", Function::kArrayContains},
    {"array_contains_all", Function::kArrayContainsAll},
    {"array_contains_any", Function::kArrayContainsAny},
    {"array_length", Function::kArrayLength},
};

bool LookupFunction(std::string_view name, Function* f) {
  for (const FunctionEntry& e : kFunctions) {
    if (name.size() != e.name.size()) continue;
    bool lower = name == e.name, upper = true;
    for (size_t i = 0; i < name.size() && upper; ++i) {
      char c = e.name[i];
      upper = name[i] == ((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
    }
    if (lower || upper) {
      *f = e.function;
      return true;
    }
  }
  return false;
}

bool IsCompare(TokenKind k, CompareOp* op) {
  switch (k) {
    case TokenKind::kEq:
      *op = CompareOp::kEq;
      return true;
    case TokenKind::kNe:
      *op = CompareOp::kNe;
      return true;
    case TokenKind::kLt:
      *op = CompareOp::kLt;
      return true;
    case TokenKind::kLe:
      *op = CompareOp::kLe;
      return true;
    case TokenKind::kGt:
      *op = CompareOp::kGt;
      return true;
    case TokenKind::kGe:
      *op = CompareOp::kGe;
      return true;
    default:
      return false;
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens, const nlohmann::json* params)
      : text_(text), tokens_(std::move(tokens)), params_(params) {}

  Result<NodePtr> Run() {
    if (Peek().kind == TokenKind::kEnd) return NodePtr();
    ARK_ASSIGN_OR_RETURN(NodePtr root, ParseOr());
    if (Peek().kind != TokenKind::kEnd) {
      if (Peek().kind == TokenKind::kRParen) return ErrorHere("unbalanced ')'");
      return ErrorHere("expected 'and', 'or' or end of input");
    }
    return root;
  }

 private:
  // Counts recursion so that "((((...))))" cannot exhaust the stack.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* p) : p_(p) { ++p_->depth_; }
    ~DepthGuard() { --p_->depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Parser* p_;
  };

  const Token& Peek(size_t ahead = 0) const {
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  const Token& Advance() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  Status ErrorAt(const Token& t, std::string_view what) const {
    return FilterError(text_, t.offset, t.text, what);
  }
  Status ErrorHere(std::string_view what) const { return ErrorAt(Peek(), what); }
  Status TooDeep() const {
    return ErrorHere("expression nested too deeply (more than " + std::to_string(kMaxNestingDepth) +
                     " levels)");
  }

  NodePtr NewNode(NodeKind kind, const Token& t) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->offset = t.offset;
    n->token = t.text;
    return n;
  }
  // Builds `kind(a, b)`, rejecting trees deeper than the cap (left-deep
  // chains such as 1+1+1+... are built in loops, not by recursion).
  Result<NodePtr> Binary(NodeKind kind, const Token& t, NodePtr a, NodePtr b) {
    NodePtr n = NewNode(kind, t);
    n->AddChild(std::move(a));
    n->AddChild(std::move(b));
    if (n->depth > kMaxNestingDepth)
      return ErrorAt(t, "expression nested too deeply (more than " +
                            std::to_string(kMaxNestingDepth) + " levels)");
    return n;
  }

  Result<NodePtr> ParseOr() {
    DepthGuard guard(this);
    if (depth_ > kMaxNestingDepth) return TooDeep();
    return ParseNary(NodeKind::kOr, TokenKind::kOr);
  }

  // or_expr / and_expr: flattened into one n-ary node so that a filter with
  // thousands of "or" terms stays shallow.
  Result<NodePtr> ParseNary(NodeKind kind, TokenKind op) {
    NodePtr first;
    if (kind == NodeKind::kOr) {
      ARK_ASSIGN_OR_RETURN(first, ParseNary(NodeKind::kAnd, TokenKind::kAnd));
    } else {
      ARK_ASSIGN_OR_RETURN(first, ParseNot());
    }
    if (Peek().kind != op) return first;
    NodePtr n = NewNode(kind, Peek());
    n->AddChild(std::move(first));
    while (Peek().kind == op) {
      Advance();
      NodePtr next;
      if (kind == NodeKind::kOr) {
        ARK_ASSIGN_OR_RETURN(next, ParseNary(NodeKind::kAnd, TokenKind::kAnd));
      } else {
        ARK_ASSIGN_OR_RETURN(next, ParseNot());
      }
      n->AddChild(std::move(next));
    }
    if (n->depth > kMaxNestingDepth) return TooDeep();
    return n;
  }

  Result<NodePtr> ParseNot() {
    if (Peek().kind != TokenKind::kNot) return ParsePredicate();
    DepthGuard guard(this);
    if (depth_ > kMaxNestingDepth) return TooDeep();
    const Token& t = Advance();
    NodePtr n = NewNode(NodeKind::kNot, t);
    ARK_ASSIGN_OR_RETURN(NodePtr operand, ParseNot());
    n->AddChild(std::move(operand));
    return n;
  }

  Result<NodePtr> ParsePredicate() {
    ARK_ASSIGN_OR_RETURN(NodePtr lhs, ParseAdditive());
    const Token& t = Peek();
    CompareOp op;
    if (IsCompare(t.kind, &op)) return ParseComparisonChain(std::move(lhs));
    if (t.kind == TokenKind::kIn || (t.kind == TokenKind::kNot && Peek(1).kind == TokenKind::kIn)) {
      const bool negated = t.kind == TokenKind::kNot;
      const Token& op_token = Advance();
      if (negated) Advance();
      const Token& list_token = Peek();
      ARK_ASSIGN_OR_RETURN(NodePtr list, ParseAdditive());
      if (list->kind != NodeKind::kArray) {
        return ErrorAt(list_token, std::string("expected a list '[...]' after '") +
                                       (negated ? "not in" : "in") + "'");
      }
      ARK_ASSIGN_OR_RETURN(NodePtr n,
                           Binary(NodeKind::kIn, op_token, std::move(lhs), std::move(list)));
      n->negated = negated;
      return n;
    }
    if (t.kind == TokenKind::kLike) {
      const Token& op_token = Advance();
      const Token& pattern = Peek();
      ARK_ASSIGN_OR_RETURN(NodePtr p, ParseAdditive());
      if (p->kind != NodeKind::kLiteral || p->literal.kind != Value::Kind::kString) {
        return ErrorAt(pattern, "expected a string pattern after 'like'");
      }
      NodePtr n = NewNode(NodeKind::kLike, op_token);
      n->SetString(p->str);
      n->AddChild(std::move(lhs));
      return n;
    }
    if (t.kind == TokenKind::kIs) {
      const Token& op_token = Advance();
      NodePtr n = NewNode(NodeKind::kIsNull, op_token);
      if (Peek().kind == TokenKind::kNot) {
        Advance();
        n->negated = true;
      }
      if (Peek().kind != TokenKind::kNull) {
        return ErrorHere(n->negated ? "expected 'null' after 'is not'"
                                    : "expected 'null' or 'not null' after 'is'");
      }
      Advance();
      n->AddChild(std::move(lhs));
      return n;
    }
    return lhs;
  }

  // a < b <= c  ==>  (a < b) and (b <= c); b is evaluated once per pair.
  Result<NodePtr> ParseComparisonChain(NodePtr first) {
    std::vector<NodePtr> operands;
    std::vector<const Token*> ops;
    operands.push_back(std::move(first));
    CompareOp op;
    while (IsCompare(Peek().kind, &op)) {
      ops.push_back(&Advance());
      ARK_ASSIGN_OR_RETURN(NodePtr rhs, ParseAdditive());
      operands.push_back(std::move(rhs));
    }
    if (ops.size() > 1) {
      for (const Token* t : ops) {
        if (t->kind == TokenKind::kEq || t->kind == TokenKind::kNe) {
          return ErrorAt(*t, "'" + std::string(t->text) +
                                 "' cannot be chained; only < <= > >= chain (use 'and')");
        }
      }
    }
    std::vector<NodePtr> pairs;
    for (size_t i = 0; i < ops.size(); ++i) {
      NodePtr lhs = i == 0 ? std::move(operands[0]) : CloneNode(*operands[i]);
      NodePtr rhs = i + 1 == ops.size() ? std::move(operands[i + 1]) : CloneNode(*operands[i + 1]);
      ARK_ASSIGN_OR_RETURN(NodePtr cmp,
                           Binary(NodeKind::kCompare, *ops[i], std::move(lhs), std::move(rhs)));
      IsCompare(ops[i]->kind, &cmp->compare_op);
      pairs.push_back(std::move(cmp));
    }
    if (pairs.size() == 1) return std::move(pairs[0]);
    NodePtr n = NewNode(NodeKind::kAnd, *ops[0]);
    for (NodePtr& p : pairs) n->AddChild(std::move(p));
    return n;
  }

  Result<NodePtr> ParseAdditive() {
    ARK_ASSIGN_OR_RETURN(NodePtr lhs, ParseMultiplicative());
    while (Peek().kind == TokenKind::kPlus || Peek().kind == TokenKind::kMinus) {
      const Token& t = Advance();
      ARK_ASSIGN_OR_RETURN(NodePtr rhs, ParseMultiplicative());
      ARK_ASSIGN_OR_RETURN(lhs, Binary(NodeKind::kArith, t, std::move(lhs), std::move(rhs)));
      lhs->arith_op = t.kind == TokenKind::kPlus ? ArithOp::kAdd : ArithOp::kSub;
    }
    return lhs;
  }

  Result<NodePtr> ParseMultiplicative() {
    ARK_ASSIGN_OR_RETURN(NodePtr lhs, ParseUnary());
    while (Peek().kind == TokenKind::kStar || Peek().kind == TokenKind::kSlash ||
           Peek().kind == TokenKind::kPercent) {
      const Token& t = Advance();
      ARK_ASSIGN_OR_RETURN(NodePtr rhs, ParseUnary());
      ARK_ASSIGN_OR_RETURN(lhs, Binary(NodeKind::kArith, t, std::move(lhs), std::move(rhs)));
      lhs->arith_op = t.kind == TokenKind::kStar    ? ArithOp::kMul
                      : t.kind == TokenKind::kSlash ? ArithOp::kDiv
                                                    : ArithOp::kMod;
    }
    return lhs;
  }

  // unary = ("-" | "+") unary | power. A minus directly before a number
  // literal is folded into it (so -9223372036854775808 is representable),
  // except before "**": -2 ** 2 is -(2 ** 2), as in Python.
  Result<NodePtr> ParseUnary() {
    const Token& t = Peek();
    if (t.kind != TokenKind::kMinus && t.kind != TokenKind::kPlus) return ParsePower();
    DepthGuard guard(this);
    if (depth_ > kMaxNestingDepth) return TooDeep();
    Advance();
    const Token& num = Peek();
    const bool minus = t.kind == TokenKind::kMinus;
    if ((num.kind == TokenKind::kInt || num.kind == TokenKind::kFloat) &&
        Peek(1).kind != TokenKind::kPower && Peek(1).kind != TokenKind::kLBracket) {
      Advance();
      NodePtr n = NewNode(NodeKind::kLiteral, t);
      n->token = text_.substr(t.offset, num.offset + num.text.size() - t.offset);
      if (num.kind == TokenKind::kFloat) {
        n->literal = Value::Double(minus ? -num.float_value : num.float_value);
      } else if (minus) {
        n->literal = Value::Int(num.int_magnitude == (uint64_t{1} << 63)
                                    ? INT64_MIN
                                    : -static_cast<int64_t>(num.int_magnitude));
      } else {
        if (num.int_magnitude > static_cast<uint64_t>(INT64_MAX)) {
          return ErrorAt(num, "integer literal out of int64 range");
        }
        n->literal = Value::Int(static_cast<int64_t>(num.int_magnitude));
      }
      return n;
    }
    ARK_ASSIGN_OR_RETURN(NodePtr operand, ParseUnary());
    if (!minus) return operand;  // unary plus: the checker still sees a number
    NodePtr n = NewNode(NodeKind::kNeg, t);
    n->AddChild(std::move(operand));
    return n;
  }

  // power = postfix [ "**" unary ]   (right-associative)
  Result<NodePtr> ParsePower() {
    ARK_ASSIGN_OR_RETURN(NodePtr base, ParsePostfix());
    if (Peek().kind != TokenKind::kPower) return base;
    DepthGuard guard(this);
    if (depth_ > kMaxNestingDepth) return TooDeep();
    const Token& t = Advance();
    ARK_ASSIGN_OR_RETURN(NodePtr exponent, ParseUnary());
    ARK_ASSIGN_OR_RETURN(NodePtr n,
                         Binary(NodeKind::kArith, t, std::move(base), std::move(exponent)));
    n->arith_op = ArithOp::kPow;
    return n;
  }

  Result<NodePtr> ParsePostfix() {
    ARK_ASSIGN_OR_RETURN(NodePtr n, ParsePrimary());
    while (Peek().kind == TokenKind::kLBracket) {
      const Token& open = Advance();
      ARK_ASSIGN_OR_RETURN(NodePtr index, ParseOr());
      if (Peek().kind != TokenKind::kRBracket) {
        return ErrorHere("expected ']' to close '[' at offset " + std::to_string(open.offset));
      }
      Advance();
      ARK_ASSIGN_OR_RETURN(n, Binary(NodeKind::kIndex, open, std::move(n), std::move(index)));
    }
    return n;
  }

  Result<NodePtr> ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kInt: {
        if (t.int_magnitude > static_cast<uint64_t>(INT64_MAX)) {
          return ErrorAt(t, "integer literal out of int64 range");
        }
        Advance();
        NodePtr n = NewNode(NodeKind::kLiteral, t);
        n->literal = Value::Int(static_cast<int64_t>(t.int_magnitude));
        return n;
      }
      case TokenKind::kFloat: {
        Advance();
        NodePtr n = NewNode(NodeKind::kLiteral, t);
        n->literal = Value::Double(t.float_value);
        return n;
      }
      case TokenKind::kString: {
        Advance();
        NodePtr n = NewNode(NodeKind::kLiteral, t);
        n->SetString(t.string_value);
        return n;
      }
      case TokenKind::kTrue:
      case TokenKind::kFalse: {
        Advance();
        NodePtr n = NewNode(NodeKind::kLiteral, t);
        n->literal = Value::Bool(t.kind == TokenKind::kTrue);
        return n;
      }
      case TokenKind::kTemplate:
        return ParseTemplate();
      case TokenKind::kLBracket:
        return ParseArray();
      case TokenKind::kLParen: {
        Advance();
        ARK_ASSIGN_OR_RETURN(NodePtr inner, ParseOr());
        if (Peek().kind != TokenKind::kRParen) {
          return ErrorHere("expected ')' to close '(' at offset " + std::to_string(t.offset));
        }
        Advance();
        return inner;
      }
      case TokenKind::kIdent: {
        Advance();
        if (Peek().kind == TokenKind::kLParen) return ParseCall(t);
        NodePtr n = NewNode(NodeKind::kIdent, t);
        n->str = std::string(t.text);
        return n;
      }
      case TokenKind::kNull:
        return ErrorAt(t, "null can only be tested with 'is null' / 'is not null'");
      default:
        return ErrorAt(t, "expected an expression");
    }
  }

  Result<NodePtr> ParseCall(const Token& name) {
    Function f;
    if (!LookupFunction(name.text, &f)) {
      return ErrorAt(name, "unknown function '" + std::string(name.text) +
                               "' (supported: json_contains, json_contains_all, "
                               "json_contains_any, array_contains, array_contains_all, "
                               "array_contains_any, array_length)");
    }
    NodePtr n = NewNode(NodeKind::kCall, name);
    n->str = std::string(name.text);
    n->function = f;
    Advance();  // (
    if (Peek().kind != TokenKind::kRParen) {
      while (true) {
        ARK_ASSIGN_OR_RETURN(NodePtr arg, ParseOr());
        n->AddChild(std::move(arg));
        if (Peek().kind == TokenKind::kComma) {
          Advance();
          continue;
        }
        break;
      }
    }
    if (Peek().kind != TokenKind::kRParen) {
      return ErrorHere("expected ',' or ')' in the arguments of " + std::string(name.text));
    }
    Advance();
    return n;
  }

  // array = "[" [ element { "," element } [ "," ] ] "]"; elements are
  // literals (numbers may be negative) or nested arrays.
  Result<NodePtr> ParseArray() {
    DepthGuard guard(this);
    if (depth_ > kMaxNestingDepth) return TooDeep();
    const Token& open = Advance();
    NodePtr n = NewNode(NodeKind::kArray, open);
    n->json = std::make_unique<nlohmann::json>(nlohmann::json::array());
    while (Peek().kind != TokenKind::kRBracket) {
      const Token& at = Peek();
      if (at.kind == TokenKind::kEnd) {
        return ErrorHere("expected ']' to close '[' at offset " + std::to_string(open.offset));
      }
      ARK_ASSIGN_OR_RETURN(NodePtr element, ParseUnary());
      if (element->kind != NodeKind::kLiteral && element->kind != NodeKind::kArray) {
        return ErrorAt(at, "list elements must be literals");
      }
      n->json->push_back(LiteralJson(*element));
      n->AddChild(std::move(element));
      if (Peek().kind == TokenKind::kComma) {
        Advance();
      } else if (Peek().kind != TokenKind::kRBracket) {
        return ErrorHere("expected ',' or ']' in a list");
      }
    }
    Advance();
    n->literal.kind = Value::Kind::kJson;
    n->literal.j = n->json.get();
    return n;
  }

  static nlohmann::json LiteralJson(const Node& n) {
    if (n.kind == NodeKind::kArray) return *n.json;
    switch (n.literal.kind) {
      case Value::Kind::kBool:
        return n.literal.b;
      case Value::Kind::kInt:
        return n.literal.i;
      case Value::Kind::kDouble:
        return n.literal.d;
      case Value::Kind::kString:
        return n.str;
      default:
        return nullptr;
    }
  }

  Result<NodePtr> ParseTemplate() {
    const Token& t = Advance();
    if (params_ == nullptr || !params_->is_object()) {
      return ErrorAt(
          t, "template parameter '" + t.string_value + "' used but no exprParams object was given");
    }
    auto it = params_->find(t.string_value);
    if (it == params_->end()) {
      return ErrorAt(t, "template parameter '" + t.string_value + "' is not in exprParams");
    }
    return FromJsonParam(t, *it, 0);
  }

  Result<NodePtr> FromJsonParam(const Token& t, const nlohmann::json& v, int depth) {
    if (depth > kMaxNestingDepth) return TooDeep();
    NodePtr n = NewNode(NodeKind::kLiteral, t);
    switch (v.type()) {
      case nlohmann::json::value_t::boolean:
        n->literal = Value::Bool(v.get<bool>());
        return n;
      case nlohmann::json::value_t::number_integer:
        n->literal = Value::Int(v.get<int64_t>());
        return n;
      case nlohmann::json::value_t::number_unsigned:
        if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          return ErrorAt(t, "template parameter '" + t.string_value + "' is out of int64 range");
        }
        n->literal = Value::Int(v.get<int64_t>());
        return n;
      case nlohmann::json::value_t::number_float:
        n->literal = Value::Double(v.get<double>());
        return n;
      case nlohmann::json::value_t::string:
        n->SetString(v.get<std::string>());
        return n;
      case nlohmann::json::value_t::array: {
        n->kind = NodeKind::kArray;
        n->json = std::make_unique<nlohmann::json>(nlohmann::json::array());
        for (const auto& e : v) {
          ARK_ASSIGN_OR_RETURN(NodePtr element, FromJsonParam(t, e, depth + 1));
          n->json->push_back(LiteralJson(*element));
          n->AddChild(std::move(element));
        }
        n->literal.kind = Value::Kind::kJson;
        n->literal.j = n->json.get();
        return n;
      }
      default:
        return ErrorAt(t, "template parameter '" + t.string_value +
                              "' must be a number, string, bool or list, got " + v.type_name());
    }
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  const nlohmann::json* params_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<std::unique_ptr<Node>> ParseFilter(std::string_view filter, const nlohmann::json* params) {
  if (filter.size() > kMaxFilterBytes) {
    return FilterError(filter, 0, filter.substr(0, 8),
                       "filter is " + std::to_string(filter.size()) + " bytes; the limit is " +
                           std::to_string(kMaxFilterBytes));
  }
  ARK_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(filter));
  return Parser(filter, std::move(tokens), params).Run();
}

}  // namespace ark::expr
