// The prepared right-hand side of `x in [...]` (and of the *_contains_any /
// *_contains_all lists): hash sets per value kind so that membership is
// O(1) for both evaluators. Equality follows CompareValues (value.h):
// 2 == 2.0, strings bytewise, bools with bools.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <unordered_set>
#include <vector>

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

  // Faster forms of `ints` for the column evaluator, built by Finalize():
  // small lists are scanned linearly (branch-free, vectorisable); lists of
  // integers spanning a modest range get a bit table.
  static constexpr size_t kSmallList = 16;
  static constexpr uint64_t kMaxDenseRange = uint64_t{1} << 24;  // 2 MiB of bits
  std::vector<int64_t> small_ints;  // == ints when ints.size() <= kSmallList
  int64_t dense_min = 0;
  std::vector<uint64_t> dense;  // bit (x - dense_min) set when x in ints

  void Add(const Value& v);
  void Finalize();
  bool Contains(const Value& v) const;
};

}  // namespace ark::expr
