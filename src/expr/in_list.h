// The prepared right-hand side of `x in [...]` (and of the *_contains_any /
// *_contains_all lists): hash sets per value kind so that membership is
// O(1) for both evaluators. Equality follows CompareValues (value.h):
// 2 == 2.0, strings bytewise, bools with bools.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "expr/value.h"

namespace ark::expr {

struct InList {
  // Numbers with an integral value in int64 range (2 and 2.0 alike).
  std::unordered_set<int64_t> ints;
  // Other numbers (2.5, 1e30).
  std::vector<double> doubles;
  // Views into the literals of the compiled filter.
  std::unordered_set<std::string_view> strings;
  bool has_true = false;
  bool has_false = false;
  std::vector<const nlohmann::json*> others;  // nested lists
  size_t size = 0;                            // number of list elements

  void Add(const Value& v);
  bool Contains(const Value& v) const;
};

}  // namespace ark::expr
