#include "expr/value.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace ark::expr {

Value Value::FromJson(const nlohmann::json* v) {
  if (v == nullptr) return Null();
  switch (v->type()) {
    case nlohmann::json::value_t::boolean:
      return Bool(v->get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Int(v->get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = v->get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Int(static_cast<int64_t>(u));
      return Double(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Double(v->get<double>());
    case nlohmann::json::value_t::string:
      return String(v->get_ref<const std::string&>());
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object: {
      Value x;
      x.kind = Kind::kJson;
      x.j = v;
      return x;
    }
    default:
      return Null();
  }
}

CompareOp FlipCompare(CompareOp op) {
  switch (op) {
    case CompareOp::kLt:
      return CompareOp::kGt;
    case CompareOp::kLe:
      return CompareOp::kGe;
    case CompareOp::kGt:
      return CompareOp::kLt;
    case CompareOp::kGe:
      return CompareOp::kLe;
    default:
      return op;
  }
}

std::string_view CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

int CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return 2;
  // 2^63 is exactly representable; every int64 is below it.
  if (d >= 9223372036854775808.0) return -1;
  if (d < -9223372036854775808.0) return 1;
  double t = std::trunc(d);
  int64_t ti = static_cast<int64_t>(t);  // in range: checked above
  if (i < ti) return -1;
  if (i > ti) return 1;
  if (d > t) return -1;  // i == trunc(d) < d
  if (d < t) return 1;
  return 0;
}

namespace {

bool FromOrder(int c, CompareOp op) {
  if (c == 2) return op == CompareOp::kNe;  // NaN
  switch (op) {
    case CompareOp::kEq:
      return c == 0;
    case CompareOp::kNe:
      return c != 0;
    case CompareOp::kLt:
      return c < 0;
    case CompareOp::kLe:
      return c <= 0;
    case CompareOp::kGt:
      return c > 0;
    case CompareOp::kGe:
      return c >= 0;
  }
  return false;
}

int Order(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return 2;
  return a < b ? -1 : (a > b ? 1 : 0);
}

}  // namespace

bool CompareValues(const Value& a, CompareOp op, const Value& b) {
  using K = Value::Kind;
  if (a.kind == K::kInt && b.kind == K::kInt) {
    return FromOrder(a.i < b.i ? -1 : (a.i > b.i ? 1 : 0), op);
  }
  if (a.kind == K::kDouble && b.kind == K::kDouble) return FromOrder(Order(a.d, b.d), op);
  if (a.kind == K::kInt && b.kind == K::kDouble) return FromOrder(CompareIntDouble(a.i, b.d), op);
  if (a.kind == K::kDouble && b.kind == K::kInt) {
    int c = CompareIntDouble(b.i, a.d);
    return FromOrder(c == 2 ? 2 : -c, op);
  }
  if (a.kind == K::kString && b.kind == K::kString) {
    int c = a.s.compare(b.s);
    return FromOrder(c < 0 ? -1 : (c > 0 ? 1 : 0), op);
  }
  if (a.kind == K::kBool && b.kind == K::kBool) {
    if (op == CompareOp::kEq) return a.b == b.b;
    if (op == CompareOp::kNe) return a.b != b.b;
    return false;
  }
  if (a.kind == K::kJson && b.kind == K::kJson) {
    if (op == CompareOp::kEq) return *a.j == *b.j;
    if (op == CompareOp::kNe) return *a.j != *b.j;
    return false;
  }
  return false;
}

}  // namespace ark::expr
