#include "expr/column_evaluator.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "expr/row_evaluator.h"

namespace ark::expr {

Value ColumnView::Get(size_t row) const {
  if (valid != nullptr && valid[row] == 0) return Value::Null();
  switch (kind) {
    case ColumnKind::kBool:
      return Value::Bool(static_cast<const uint8_t*>(data)[row] != 0);
    case ColumnKind::kInt8:
      return Value::Int(static_cast<const int8_t*>(data)[row]);
    case ColumnKind::kInt16:
      return Value::Int(static_cast<const int16_t*>(data)[row]);
    case ColumnKind::kInt32:
      return Value::Int(static_cast<const int32_t*>(data)[row]);
    case ColumnKind::kInt64:
      return Value::Int(static_cast<const int64_t*>(data)[row]);
    case ColumnKind::kFloat:
      return Value::Double(static_cast<const float*>(data)[row]);
    case ColumnKind::kDouble:
      return Value::Double(static_cast<const double*>(data)[row]);
    case ColumnKind::kBool64:
      return Value::Bool(static_cast<const int64_t*>(data)[row] != 0);
    case ColumnKind::kString:
      return Value::String(static_cast<const std::string_view*>(data)[row]);
    case ColumnKind::kStdString:
      return Value::String(static_cast<const std::string*>(data)[row]);
    case ColumnKind::kJson:
      return Value::FromJson(static_cast<const nlohmann::json* const*>(data)[row]);
  }
  return Value::Null();
}

namespace {

// Fills `out` with pred(data[i]) for every row, 64 rows per word; the inner
// loop has no branches so the compiler can vectorise it.
template <typename T, typename Pred>
void FillBits(const T* data, size_t n, Pred pred, Bitmap* out) {
  uint64_t* words = out->words();
  const size_t full = n / 64;
  for (size_t w = 0; w < full; ++w) {
    const T* d = data + w * 64;
    uint64_t bits = 0;
    for (unsigned j = 0; j < 64; ++j) bits |= static_cast<uint64_t>(pred(d[j])) << j;
    words[w] = bits;
  }
  if (n % 64 != 0) {
    const T* d = data + full * 64;
    uint64_t bits = 0;
    for (unsigned j = 0; j < n % 64; ++j) bits |= static_cast<uint64_t>(pred(d[j])) << j;
    words[full] = bits;
  }
}

template <typename T, typename U>
void FillCompare(const T* data, size_t n, CompareOp op, U c, Bitmap* out) {
  switch (op) {
    case CompareOp::kEq:
      FillBits(
          data, n, [c](const T& x) { return static_cast<U>(x) == c; }, out);
      break;
    case CompareOp::kNe:
      FillBits(
          data, n, [c](const T& x) { return static_cast<U>(x) != c; }, out);
      break;
    case CompareOp::kLt:
      FillBits(
          data, n, [c](const T& x) { return static_cast<U>(x) < c; }, out);
      break;
    case CompareOp::kLe:
      FillBits(
          data, n, [c](const T& x) { return static_cast<U>(x) <= c; }, out);
      break;
    case CompareOp::kGt:
      FillBits(
          data, n, [c](const T& x) { return static_cast<U>(x) > c; }, out);
      break;
    case CompareOp::kGe:
      FillBits(
          data, n, [c](const T& x) { return static_cast<U>(x) >= c; }, out);
      break;
  }
}

// Integer column vs a number literal.
template <typename T>
void CompareIntColumn(const T* data, size_t n, CompareOp op, const Value& c, Bitmap* out) {
  if (c.kind == Value::Kind::kInt) {
    FillCompare<T, int64_t>(data, n, op, c.i, out);
    return;
  }
  // A float constant: exact comparison without rounding the integers.
  const double d = c.d;
  FillBits(
      data, n, [op, d](T x) { return CompareValues(Value::Int(x), op, Value::Double(d)); }, out);
}

// Float column vs a number literal. C++ comparisons on doubles already give
// Milvus's NaN semantics (only != is true).
template <typename T>
void CompareFloatColumn(const T* data, size_t n, CompareOp op, const Value& c, Bitmap* out) {
  constexpr int64_t kExact = int64_t{1} << 53;
  if (c.kind == Value::Kind::kDouble || (c.i >= -kExact && c.i <= kExact)) {
    const double d = c.kind == Value::Kind::kDouble ? c.d : static_cast<double>(c.i);
    FillCompare<T, double>(data, n, op, d, out);
    return;
  }
  const int64_t i = c.i;
  FillBits(
      data, n, [op, i](T x) { return CompareValues(Value::Double(x), op, Value::Int(i)); }, out);
}

// Integer column `in` list: linear scan, bit table or hash set, chosen once
// per batch rather than per row.
template <typename T>
void FillIntIn(const T* data, size_t n, const InList& list, Bitmap* out) {
  if (list.ints.size() <= InList::kSmallList) {
    // One vectorisable pass over each 64-row block per list value.
    const int64_t* values = list.small_ints.data();
    const size_t count = list.small_ints.size();
    uint64_t* words = out->words();
    const size_t full = n / 64;
    for (size_t w = 0; w < full; ++w) {
      const T* d = data + w * 64;
      uint8_t match[64] = {};
      for (size_t k = 0; k < count; ++k) {
        const T v = static_cast<T>(values[k]);
        // A value outside T's range can never match (and must not wrap).
        if (static_cast<int64_t>(v) != values[k]) continue;
        for (unsigned j = 0; j < 64; ++j) match[j] |= d[j] == v;
      }
      uint64_t bits = 0;
      for (unsigned j = 0; j < 64; ++j) bits |= static_cast<uint64_t>(match[j]) << j;
      words[w] = bits;
    }
    for (size_t i = full * 64; i < n; ++i) {
      bool any = false;
      for (size_t k = 0; k < count; ++k) any |= static_cast<int64_t>(data[i]) == values[k];
      out->Set(i, any);
    }
  } else if (!list.dense.empty()) {
    const uint64_t* table = list.dense.data();
    const uint64_t bits = list.dense.size() * 64;
    const uint64_t lo = static_cast<uint64_t>(list.dense_min);
    FillBits(
        data, n,
        [table, bits, lo](T x) {
          // Branch-free: out-of-range values read a clamped word and are masked.
          const uint64_t off = static_cast<uint64_t>(static_cast<int64_t>(x)) - lo;
          const uint64_t in_range = off < bits;
          const uint64_t word = table[(in_range ? off : 0) >> 6];
          return ((word >> (off & 63)) & in_range) != 0;
        },
        out);
  } else {
    FillBits(
        data, n, [&list](T x) { return list.ints.count(static_cast<int64_t>(x)) != 0; }, out);
  }
}

class ColumnEvaluator {
 public:
  explicit ColumnEvaluator(const ColumnSource& columns)
      : columns_(columns), rows_(columns.RowCount()) {}

  Status Eval(const Node& n, Bitmap* out) {
    switch (n.kind) {
      case NodeKind::kAnd:
      case NodeKind::kOr:
        return EvalAndOr(n, out);
      case NodeKind::kNot:
        ARK_RETURN_IF_ERROR(Eval(*n.children[0], out));
        out->Not();
        return Status::OK();
      case NodeKind::kCompare: {
        bool done = false;
        ARK_RETURN_IF_ERROR(TryCompare(n, out, &done));
        if (done) return Status::OK();
        break;
      }
      case NodeKind::kIn: {
        bool done = false;
        ARK_RETURN_IF_ERROR(TryIn(n, out, &done));
        if (done) return Status::OK();
        break;
      }
      case NodeKind::kLike: {
        bool done = false;
        ARK_RETURN_IF_ERROR(TryLike(n, out, &done));
        if (done) return Status::OK();
        break;
      }
      case NodeKind::kIsNull:
        if (IsPlainField(*n.children[0])) {
          ARK_ASSIGN_OR_RETURN(ColumnView col, Column(n.children[0]->field_index));
          *out = Bitmap(rows_, false);
          if (col.valid != nullptr) {
            FillBits(
                col.valid, rows_, [](uint8_t v) { return v == 0; }, out);
          }
          if (n.negated) out->Not();
          return Status::OK();
        }
        break;
      case NodeKind::kField:
        // A bare Bool field used as a predicate.
        if (IsPlainField(n) && n.type == ExprType::kBool) {
          ARK_ASSIGN_OR_RETURN(ColumnView col, Column(n.field_index));
          if (col.kind == ColumnKind::kBool || col.kind == ColumnKind::kBool64) {
            *out = Bitmap(rows_);
            if (col.kind == ColumnKind::kBool) {
              FillBits(
                  static_cast<const uint8_t*>(col.data), rows_, [](uint8_t v) { return v != 0; },
                  out);
            } else {
              FillBits(
                  static_cast<const int64_t*>(col.data), rows_, [](int64_t v) { return v != 0; },
                  out);
            }
            ApplyValidity(col, out);
            return Status::OK();
          }
        }
        break;
      default:
        break;
    }
    return RowWise(n, out);
  }

 private:
  // A field without a JSON path or array subscript, with a scalar column.
  static bool IsPlainField(const Node& n) {
    return n.kind == NodeKind::kField && n.path.empty() && !n.dynamic &&
           n.type != ExprType::kDynamic && n.type != ExprType::kArray;
  }

  Result<ColumnView> Column(int field_index) {
    auto it = cache_.find(field_index);
    if (it != cache_.end()) return it->second;
    ARK_ASSIGN_OR_RETURN(ColumnView view, columns_.GetColumn(field_index));
    cache_.emplace(field_index, view);
    return view;
  }

  // Rows whose value is NULL never match a comparison, in, or like.
  void ApplyValidity(const ColumnView& col, Bitmap* out) {
    if (col.valid == nullptr) return;
    Bitmap valid(rows_);
    FillBits(
        col.valid, rows_, [](uint8_t v) { return v != 0; }, &valid);
    out->And(valid);
  }

  Status EvalAndOr(const Node& n, Bitmap* out) {
    const bool is_and = n.kind == NodeKind::kAnd;
    ARK_RETURN_IF_ERROR(Eval(*n.children[0], out));
    Bitmap next;
    for (size_t i = 1; i < n.children.size(); ++i) {
      // Short-circuit a whole batch when the outcome is already decided.
      if (is_and ? out->None() : out->All()) return Status::OK();
      ARK_RETURN_IF_ERROR(Eval(*n.children[i], &next));
      is_and ? out->And(next) : out->Or(next);
    }
    return Status::OK();
  }

  Status TryCompare(const Node& n, Bitmap* out, bool* done) {
    const Node& field = *n.children[0];
    const Node& constant = *n.children[1];
    if (!IsPlainField(field) || constant.kind != NodeKind::kLiteral) return Status::OK();
    ARK_ASSIGN_OR_RETURN(ColumnView col, Column(field.field_index));
    const Value& c = constant.literal;
    const CompareOp op = n.compare_op;
    const bool numeric_column = col.kind != ColumnKind::kBool && col.kind != ColumnKind::kBool64 &&
                                col.kind != ColumnKind::kString &&
                                col.kind != ColumnKind::kStdString && col.kind != ColumnKind::kJson;
    if (numeric_column && !c.is_number()) return Status::OK();  // checked earlier; be safe
    *out = Bitmap(rows_);
    const void* d = col.data;
    switch (col.kind) {
      case ColumnKind::kInt8:
        CompareIntColumn(static_cast<const int8_t*>(d), rows_, op, c, out);
        break;
      case ColumnKind::kInt16:
        CompareIntColumn(static_cast<const int16_t*>(d), rows_, op, c, out);
        break;
      case ColumnKind::kInt32:
        CompareIntColumn(static_cast<const int32_t*>(d), rows_, op, c, out);
        break;
      case ColumnKind::kInt64:
        CompareIntColumn(static_cast<const int64_t*>(d), rows_, op, c, out);
        break;
      case ColumnKind::kFloat:
        CompareFloatColumn(static_cast<const float*>(d), rows_, op, c, out);
        break;
      case ColumnKind::kDouble:
        CompareFloatColumn(static_cast<const double*>(d), rows_, op, c, out);
        break;
      case ColumnKind::kBool:
        if (c.kind != Value::Kind::kBool) return Status::OK();
        FillCompare<uint8_t, bool>(static_cast<const uint8_t*>(d), rows_, op, c.b, out);
        break;
      case ColumnKind::kBool64:
        if (c.kind != Value::Kind::kBool) return Status::OK();
        FillCompare<int64_t, bool>(static_cast<const int64_t*>(d), rows_, op, c.b, out);
        break;
      case ColumnKind::kString: {
        if (c.kind != Value::Kind::kString) return Status::OK();
        FillCompare<std::string_view, std::string_view>(static_cast<const std::string_view*>(d),
                                                        rows_, op, c.s, out);
        break;
      }
      case ColumnKind::kStdString: {
        if (c.kind != Value::Kind::kString) return Status::OK();
        FillCompare<std::string, std::string_view>(static_cast<const std::string*>(d), rows_, op,
                                                   c.s, out);
        break;
      }
      case ColumnKind::kJson:
        return Status::OK();
    }
    ApplyValidity(col, out);
    *done = true;
    return Status::OK();
  }

  Status TryIn(const Node& n, Bitmap* out, bool* done) {
    const Node& field = *n.children[0];
    if (!IsPlainField(field)) return Status::OK();
    ARK_ASSIGN_OR_RETURN(ColumnView col, Column(field.field_index));
    const InList& list = *n.in_list;
    *out = Bitmap(rows_);
    const void* d = col.data;
    auto floats = [&list](auto x) { return list.Contains(Value::Double(x)); };
    switch (col.kind) {
      case ColumnKind::kInt8:
        FillIntIn(static_cast<const int8_t*>(d), rows_, list, out);
        break;
      case ColumnKind::kInt16:
        FillIntIn(static_cast<const int16_t*>(d), rows_, list, out);
        break;
      case ColumnKind::kInt32:
        FillIntIn(static_cast<const int32_t*>(d), rows_, list, out);
        break;
      case ColumnKind::kInt64:
        FillIntIn(static_cast<const int64_t*>(d), rows_, list, out);
        break;
      case ColumnKind::kFloat:
        FillBits(static_cast<const float*>(d), rows_, floats, out);
        break;
      case ColumnKind::kDouble:
        FillBits(static_cast<const double*>(d), rows_, floats, out);
        break;
      case ColumnKind::kBool:
        FillBits(
            static_cast<const uint8_t*>(d), rows_,
            [&list](uint8_t x) { return x ? list.has_true : list.has_false; }, out);
        break;
      case ColumnKind::kBool64:
        FillBits(
            static_cast<const int64_t*>(d), rows_,
            [&list](int64_t x) { return x != 0 ? list.has_true : list.has_false; }, out);
        break;
      case ColumnKind::kString:
        FillBits(
            static_cast<const std::string_view*>(d), rows_,
            [&list](std::string_view x) { return list.strings.count(x) != 0; }, out);
        break;
      case ColumnKind::kStdString:
        FillBits(
            static_cast<const std::string*>(d), rows_,
            [&list](const std::string& x) { return list.strings.count(x) != 0; }, out);
        break;
      case ColumnKind::kJson:
        return Status::OK();
    }
    if (n.negated) out->Not();
    ApplyValidity(col, out);
    *done = true;
    return Status::OK();
  }

  Status TryLike(const Node& n, Bitmap* out, bool* done) {
    const Node& field = *n.children[0];
    if (!IsPlainField(field)) return Status::OK();
    ARK_ASSIGN_OR_RETURN(ColumnView col, Column(field.field_index));
    if (col.kind == ColumnKind::kString) {
      FillLike(static_cast<const std::string_view*>(col.data), *n.like, out);
    } else if (col.kind == ColumnKind::kStdString) {
      FillLike(static_cast<const std::string*>(col.data), *n.like, out);
    } else {
      return Status::OK();
    }
    ApplyValidity(col, out);
    *done = true;
    return Status::OK();
  }

  template <typename S>
  void FillLike(const S* d, const LikePattern& like, Bitmap* out) {
    *out = Bitmap(rows_);
    if (like.shape() == LikePattern::Shape::kPrefix) {
      const std::string_view prefix = like.literal();
      FillBits(
          d, rows_,
          [prefix](const S& x) { return std::string_view(x).substr(0, prefix.size()) == prefix; },
          out);
    } else {
      FillBits(
          d, rows_, [&like](const S& x) { return like.Matches(x); }, out);
    }
  }

  // The fallback: the row evaluator over this subtree, reading the columns.
  class RowAdapter final : public RowAccessor {
   public:
    explicit RowAdapter(const std::unordered_map<int, ColumnView>& cols) : cols_(cols) {}
    Value GetField(int field_index) const override {
      auto it = cols_.find(field_index);
      return it == cols_.end() ? Value::Null() : it->second.Get(row_);
    }
    size_t row_ = 0;

   private:
    const std::unordered_map<int, ColumnView>& cols_;
  };

  Status CollectFields(const Node& n) {
    if (n.kind == NodeKind::kField) {
      ARK_ASSIGN_OR_RETURN(ColumnView unused, Column(n.field_index));
      (void)unused;
    }
    for (const auto& c : n.children) ARK_RETURN_IF_ERROR(CollectFields(*c));
    return Status::OK();
  }

  Status RowWise(const Node& n, Bitmap* out) {
    ARK_RETURN_IF_ERROR(CollectFields(n));
    *out = Bitmap(rows_);
    RowAdapter row(cache_);
    for (size_t i = 0; i < rows_; ++i) {
      row.row_ = i;
      const Value v = EvaluateValue(n, row);
      if (v.kind == Value::Kind::kBool && v.b) out->Set(i, true);
    }
    return Status::OK();
  }

  const ColumnSource& columns_;
  const size_t rows_;
  std::unordered_map<int, ColumnView> cache_;
};

}  // namespace

Status EvaluateColumns(const Node* root, const ColumnSource& columns, Bitmap* out) {
  if (root == nullptr) {
    *out = Bitmap(columns.RowCount(), true);
    return Status::OK();
  }
  return ColumnEvaluator(columns).Eval(*root, out);
}

}  // namespace ark::expr
