#include "expr/in_list.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace ark::expr {
namespace {

bool IntegralDouble(double d, int64_t* out) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;
  if (std::trunc(d) != d) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

}  // namespace

void InList::Add(const Value& v) {
  ++size;
  int64_t i;
  switch (v.kind) {
    case Value::Kind::kInt:
      ints.insert(v.i);
      break;
    case Value::Kind::kDouble:
      if (IntegralDouble(v.d, &i)) {
        ints.insert(i);
      } else {
        doubles.push_back(v.d);
      }
      break;
    case Value::Kind::kString:
      strings.insert(v.s);
      break;
    case Value::Kind::kBool:
      (v.b ? has_true : has_false) = true;
      break;
    case Value::Kind::kJson:
      others.push_back(v.j);
      break;
    case Value::Kind::kNull:
      break;
  }
}

void InList::Finalize() {
  small_ints.clear();
  dense.clear();
  if (ints.size() <= kSmallList) {
    small_ints.assign(ints.begin(), ints.end());
    return;
  }
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t v : ints) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (range >= kMaxDenseRange) return;
  dense_min = lo;
  dense.assign(range / 64 + 1, 0);
  for (int64_t v : ints) {
    const uint64_t off = static_cast<uint64_t>(v) - static_cast<uint64_t>(lo);
    dense[off >> 6] |= uint64_t{1} << (off & 63);
  }
}

bool InList::Contains(const Value& v) const {
  int64_t i;
  switch (v.kind) {
    case Value::Kind::kInt:
      return ints.count(v.i) != 0;
    case Value::Kind::kDouble:
      if (IntegralDouble(v.d, &i)) return ints.count(i) != 0;
      for (double d : doubles) {
        if (d == v.d) return true;
      }
      return false;
    case Value::Kind::kString:
      return strings.count(v.s) != 0;
    case Value::Kind::kBool:
      return v.b ? has_true : has_false;
    case Value::Kind::kJson:
      for (const nlohmann::json* j : others) {
        if (*j == *v.j) return true;
      }
      return false;
    case Value::Kind::kNull:
      return false;
  }
  return false;
}

}  // namespace ark::expr
