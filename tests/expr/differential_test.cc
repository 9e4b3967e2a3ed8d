// Randomized differential test: random filters over random rows must give
// the same answer row-wise (the reference) and column-wise (vectorised).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "expr/filter.h"
#include "expr/test_dataset.h"
#include "support/test_util.h"

namespace ark::expr {
namespace {

using testing::Row;
using testing::RowColumns;
using testing::RowView;

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Coin() { return Pick(2) == 0; }

  int64_t Int() {
    static const int64_t kInts[] = {0,
                                    1,
                                    -1,
                                    2,
                                    3,
                                    7,
                                    10,
                                    -5,
                                    100,
                                    std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::min()};
    return Coin() ? kInts[Pick(11)] : Pick(21) - 10;
  }
  double Double() {
    static const double kDoubles[] = {
        0.0, -0.0, 0.5, -2.5, 3.0, 1e300, std::numeric_limits<double>::infinity(), std::nan("")};
    return Coin() ? kDoubles[Pick(8)] : (Pick(41) - 20) / 4.0;
  }
  std::string Str() {
    static const char* kStrings[] = {
        "", "a", "ab", "abc", "b", "a%b", "a_b", "ba", "\xc3\xa9t\xc3\xa9", "A"};
    return kStrings[Pick(10)];
  }
  nlohmann::json JsonScalar() {
    switch (Pick(5)) {
      case 0:
        return Int();
      case 1:
        return std::isnan(Double()) ? 0.25 : Double();  // JSON has no NaN
      case 2:
        return Str();
      case 3:
        return Coin();
      default:
        return nullptr;
    }
  }

  Row RandomRow(int64_t id) {
    Row r;
    r.id = id;
    r.age = Int();
    r.price = Double();
    r.title = Str();
    r.active = Coin();
    if (Pick(5) != 0) {
      r.meta = nlohmann::json::object();
      if (Coin()) (*r.meta)["k"] = JsonScalar();
      if (Coin()) (*r.meta)["arr"] = {JsonScalar(), JsonScalar()};
      if (Coin()) (*r.meta)["o"] = {{"x", JsonScalar()}};
    }
    for (int k = Pick(4); k > 0; --k) r.tags.push_back(Str());
    for (int k = Pick(4); k > 0; --k) r.scores.push_back(Pick(7) - 3);
    if (Coin()) r.opt = static_cast<int32_t>(Pick(11) - 5);
    if (Coin()) r.dyn["color"] = Str();
    if (Coin()) r.dyn["size"] = JsonScalar();
    return r;
  }

  std::string IntLit() { return std::to_string(Int()); }
  std::string NumLit() {
    if (Coin()) return IntLit();
    double d = Double();
    if (std::isnan(d) || std::isinf(d)) d = 1.5;
    return nlohmann::json(d).dump();
  }
  std::string StrLit() { return nlohmann::json(Str()).dump(); }
  std::string List(bool strings) {
    std::string s = "[";
    for (int k = Pick(4); k > 0; --k) {
      s += strings ? StrLit() : NumLit();
      if (k > 1) s += ", ";
    }
    return s + "]";
  }

  std::string NumTerm(int depth) {
    static const char* kFields[] = {"age",       "price",          "opt", "size", "meta['k']",
                                    "scores[0]", "meta['arr'][1]", "id"};
    switch (depth > 2 ? Pick(2) : Pick(4)) {
      case 0:
        return kFields[Pick(8)];
      case 1:
        return Coin() ? kFields[Pick(8)] : NumLit();
      case 2: {
        static const char* kOps[] = {" + ", " - ", " * ", " / ", " % ", " ** "};
        return "(" + NumTerm(depth + 1) + kOps[Pick(6)] + NumTerm(depth + 1) + ")";
      }
      default:
        return "-" + NumTerm(depth + 1);
    }
  }
  std::string StrTerm() {
    static const char* kFields[] = {"title", "color", "meta['k']", "tags[0]", "meta['o']['x']"};
    return kFields[Pick(5)];
  }
  std::string CmpOp() {
    static const char* kOps[] = {" == ", " != ", " < ", " <= ", " > ", " >= "};
    return kOps[Pick(6)];
  }

  std::string BoolExpr(int depth) {
    int choice = depth > 3 ? Pick(10) : Pick(14);
    switch (choice) {
      case 0:
        return NumTerm(0) + CmpOp() + NumLit();
      case 1:
        return NumLit() + CmpOp() + NumTerm(0);
      case 2:
        return StrTerm() + CmpOp() + StrLit();
      case 3:
        return NumTerm(1) + (Coin() ? " in " : " not in ") + List(false);
      case 4:
        return StrTerm() + (Coin() ? " in " : " not in ") + List(true);
      case 5: {
        static const char* kPatterns[] = {"'a%'", "'%b'",    "'%a%'", "'a_b'",
                                          "'%'",  "'a\\%b'", "''",    "'_'"};
        return StrTerm() + " like " + kPatterns[Pick(8)];
      }
      case 6: {
        static const char* kNullable[] = {"opt", "meta", "meta['k']", "size", "color"};
        return std::string(kNullable[Pick(5)]) + (Coin() ? " is null" : " is not null");
      }
      case 7: {
        static const char* kFns[] = {"array_contains(scores, ", "json_contains(meta['arr'], ",
                                     "array_contains_any(scores, ", "array_contains_all(tags, ",
                                     "json_contains_any(meta['arr'], "};
        int f = Pick(5);
        std::string arg = f <= 1 ? (f == 0 ? IntLit() : (Coin() ? NumLit() : StrLit()))
                                 : List(f == 3 || (f == 4 && Coin()));
        return std::string(kFns[f]) + arg + ")";
      }
      case 8:
        return "array_length(" + std::string(Coin() ? "tags" : "meta['arr']") + ")" + CmpOp() +
               IntLit();
      case 9:
        return Coin() ? "active" : "active == " + std::string(Coin() ? "true" : "false");
      case 10:
        return NumLit() + (Coin() ? " < " : " <= ") + NumTerm(1) + (Coin() ? " < " : " <= ") +
               NumLit();
      case 11:
        return "not (" + BoolExpr(depth + 1) + ")";
      case 12:
        return "(" + BoolExpr(depth + 1) + " and " + BoolExpr(depth + 1) + ")";
      default:
        return "(" + BoolExpr(depth + 1) + " or " + BoolExpr(depth + 1) + ")";
    }
  }

 private:
  std::mt19937_64 rng_;
};

TEST(FilterDifferentialTest, RowWiseAndColumnWiseAgreeOnRandomFilters) {
  Generator gen(20261125);
  std::vector<Row> rows;
  for (int i = 0; i < 300; ++i) rows.push_back(gen.RandomRow(i));
  RowColumns columns(rows);
  const SimpleSchema schema = testing::TestSchema();

  int compiled = 0, selective = 0;
  const int kFilters = 3000;
  for (int n = 0; n < kFilters; ++n) {
    const std::string text = gen.BoolExpr(0);
    auto f = Filter::Compile(text, schema);
    if (!f.ok()) {
      // Only type errors the generator cannot avoid are tolerated.
      ASSERT_TRUE(f.status().Is(StatusCode::kInvalidArgument)) << f.status().ToString();
      continue;
    }
    ++compiled;
    Bitmap bits;
    ASSERT_OK(f->Evaluate(columns, &bits));
    RowView view(nullptr);
    size_t hits = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      view.Reset(&rows[i]);
      const bool expected = f->Matches(view);
      hits += expected;
      ASSERT_EQ(bits.Get(i), expected) << "filter: " << text << "\nrow " << i;
    }
    if (hits > 0 && hits < rows.size()) ++selective;
  }
  // The generator must mostly produce valid, discriminating filters, or this
  // test would prove little.
  EXPECT_GT(compiled, kFilters * 9 / 10);
  EXPECT_GT(selective, kFilters / 2);
}

}  // namespace
}  // namespace ark::expr
