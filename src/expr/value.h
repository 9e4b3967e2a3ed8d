// Runtime values of filter expressions and the comparison rules.
//
// A Value does not own its bytes: strings point into the row being
// evaluated, into a JSON document, or into a literal of the compiled filter;
// they are valid while those are. JSON scalars are unwrapped into
// Bool/Int/Double/String when read (FromJson), so only JSON arrays and
// objects stay kJson.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

namespace ark::expr {

struct Value {
  enum class Kind : uint8_t { kNull, kBool, kInt, kDouble, kString, kJson };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string_view s;
  const nlohmann::json* j = nullptr;  // an array or object

  static Value Null() { return {}; }
  static Value Bool(bool v) {
    Value x;
    x.kind = Kind::kBool;
    x.b = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.kind = Kind::kInt;
    x.i = v;
    return x;
  }
  static Value Double(double v) {
    Value x;
    x.kind = Kind::kDouble;
    x.d = v;
    return x;
  }
  static Value String(std::string_view v) {
    Value x;
    x.kind = Kind::kString;
    x.s = v;
    return x;
  }
  // Unwraps scalars; arrays and objects stay kJson; a JSON null is kNull.
  static Value FromJson(const nlohmann::json* v);

  bool is_null() const { return kind == Kind::kNull; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kDouble; }
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// The operator with its operands swapped: a < b  <=>  b > a.
CompareOp FlipCompare(CompareOp op);
std::string_view CompareOpText(CompareOp op);

// Three-way comparison of an int64 and a double without rounding the int:
// -1, 0, 1, or 2 when `d` is NaN (unordered).
int CompareIntDouble(int64_t i, double d);

// Milvus semantics: numbers compare with numbers (exactly, int vs float
// included), strings with strings (bytewise), bools with bools (== and !=
// only), JSON arrays/objects with each other (== and != only). Any other
// pairing, and any null, is false, for every operator including !=.
// NaN is unordered: every comparison with NaN is false except !=.
bool CompareValues(const Value& a, CompareOp op, const Value& b);

// Equality as used by `in` and the *_contains functions.
inline bool ValuesEqual(const Value& a, const Value& b) {
  return CompareValues(a, CompareOp::kEq, b);
}

}  // namespace ark::expr
