#include "expr/row_evaluator.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace ark::expr {
namespace {

Value FieldValue(const Node& n, const RowAccessor& row) {
  Value v = row.GetField(n.field_index);
  for (const PathStep& step : n.path) {
    if (v.kind != Value::Kind::kJson) return Value::Null();
    const nlohmann::json& j = *v.j;
    if (step.is_key) {
      if (!j.is_object()) return Value::Null();
      auto it = j.find(step.key);
      if (it == j.end()) return Value::Null();
      v = Value::FromJson(&*it);
    } else {
      if (!j.is_array() || static_cast<uint64_t>(step.index) >= j.size()) return Value::Null();
      v = Value::FromJson(&j[static_cast<size_t>(step.index)]);
    }
  }
  return v;
}

double AsDouble(const Value& v) {
  return v.kind == Value::Kind::kInt ? static_cast<double>(v.i) : v.d;
}

// Integer arithmetic that overflows continues in double precision instead
// of wrapping; integer division or modulo by zero is undefined (Null).
Value Arith(ArithOp op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) return Value::Null();
  if (op != ArithOp::kPow && a.kind == Value::Kind::kInt && b.kind == Value::Kind::kInt) {
    int64_t r;
    switch (op) {
      case ArithOp::kAdd:
        if (!__builtin_add_overflow(a.i, b.i, &r)) return Value::Int(r);
        break;
      case ArithOp::kSub:
        if (!__builtin_sub_overflow(a.i, b.i, &r)) return Value::Int(r);
        break;
      case ArithOp::kMul:
        if (!__builtin_mul_overflow(a.i, b.i, &r)) return Value::Int(r);
        break;
      case ArithOp::kDiv:
        if (b.i == 0) return Value::Null();
        if (a.i == INT64_MIN && b.i == -1) break;
        return Value::Int(a.i / b.i);
      case ArithOp::kMod:
        if (b.i == 0) return Value::Null();
        if (b.i == -1) return Value::Int(0);
        return Value::Int(a.i % b.i);
      case ArithOp::kPow:
        break;
    }
  }
  const double x = AsDouble(a), y = AsDouble(b);
  switch (op) {
    case ArithOp::kAdd:
      return Value::Double(x + y);
    case ArithOp::kSub:
      return Value::Double(x - y);
    case ArithOp::kMul:
      return Value::Double(x * y);
    case ArithOp::kDiv:
      return Value::Double(x / y);
    case ArithOp::kMod:
      return Value::Double(std::fmod(x, y));
    case ArithOp::kPow:
      return Value::Double(std::pow(x, y));
  }
  return Value::Null();
}

Value Negate(const Value& v) {
  if (v.kind == Value::Kind::kInt) {
    if (v.i == INT64_MIN) return Value::Double(9223372036854775808.0);
    return Value::Int(-v.i);
  }
  if (v.kind == Value::Kind::kDouble) return Value::Double(-v.d);
  return Value::Null();
}

bool ArrayContains(const nlohmann::json& array, const Value& needle) {
  for (const auto& element : array) {
    if (ValuesEqual(Value::FromJson(&element), needle)) return true;
  }
  return false;
}

bool EvaluateCall(const Node& n, const RowAccessor& row) {
  const Value target = EvaluateValue(*n.children[0], row);
  if (target.kind != Value::Kind::kJson || !target.j->is_array()) return false;
  const nlohmann::json& array = *target.j;
  switch (n.function) {
    case Function::kJsonContains:
    case Function::kArrayContains:
      return ArrayContains(array, n.children[1]->literal);
    case Function::kJsonContainsAll:
    case Function::kArrayContainsAll:
      for (const auto& wanted : n.children[1]->children) {
        if (!ArrayContains(array, wanted->literal)) return false;
      }
      return true;
    case Function::kJsonContainsAny:
    case Function::kArrayContainsAny:
      for (const auto& element : array) {
        if (n.in_list->Contains(Value::FromJson(&element))) return true;
      }
      return false;
    case Function::kArrayLength:
      return false;  // not a predicate
  }
  return false;
}

bool Truthy(const Value& v) { return v.kind == Value::Kind::kBool && v.b; }

}  // namespace

Value EvaluateValue(const Node& n, const RowAccessor& row) {
  switch (n.kind) {
    case NodeKind::kLiteral:
    case NodeKind::kArray:
      return n.literal;
    case NodeKind::kField:
      return FieldValue(n, row);
    case NodeKind::kNeg:
      return Negate(EvaluateValue(*n.children[0], row));
    case NodeKind::kArith:
      return Arith(n.arith_op, EvaluateValue(*n.children[0], row),
                   EvaluateValue(*n.children[1], row));
    case NodeKind::kCall:
      if (n.function == Function::kArrayLength) {
        const Value v = EvaluateValue(*n.children[0], row);
        if (v.kind != Value::Kind::kJson || !v.j->is_array()) return Value::Null();
        return Value::Int(static_cast<int64_t>(v.j->size()));
      }
      return Value::Bool(EvaluateCall(n, row));
    case NodeKind::kCompare:
      return Value::Bool(CompareValues(EvaluateValue(*n.children[0], row), n.compare_op,
                                       EvaluateValue(*n.children[1], row)));
    case NodeKind::kAnd:
      for (const auto& c : n.children) {
        if (!Truthy(EvaluateValue(*c, row))) return Value::Bool(false);
      }
      return Value::Bool(true);
    case NodeKind::kOr:
      for (const auto& c : n.children) {
        if (Truthy(EvaluateValue(*c, row))) return Value::Bool(true);
      }
      return Value::Bool(false);
    case NodeKind::kNot:
      return Value::Bool(!Truthy(EvaluateValue(*n.children[0], row)));
    case NodeKind::kIn: {
      // A missing value is in no list and "not in" none either.
      const Value v = EvaluateValue(*n.children[0], row);
      if (v.is_null()) return Value::Bool(false);
      return Value::Bool(n.in_list->Contains(v) != n.negated);
    }
    case NodeKind::kLike: {
      const Value v = EvaluateValue(*n.children[0], row);
      return Value::Bool(v.kind == Value::Kind::kString && n.like->Matches(v.s));
    }
    case NodeKind::kIsNull:
      return Value::Bool(EvaluateValue(*n.children[0], row).is_null() != n.negated);
    case NodeKind::kIdent:
    case NodeKind::kIndex:
      return Value::Null();  // removed by the checker
  }
  return Value::Null();
}

bool EvaluateRow(const Node* root, const RowAccessor& row) {
  return root == nullptr || Truthy(EvaluateValue(*root, row));
}

}  // namespace ark::expr
