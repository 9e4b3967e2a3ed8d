// Table-driven evaluation over a small fixed dataset: every filter is run
// row-wise and column-wise and both must return the expected ids.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <thread>

#include "expr/filter.h"
#include "expr/test_dataset.h"
#include "support/test_util.h"

namespace ark::expr {
namespace {

using testing::Row;
using testing::RowColumns;
using testing::RowView;
using testing::TestSchema;

// 30 rows; each column follows a simple rule of i so that the expected ids
// below can be worked out by hand (see the comments on each rule).
std::vector<Row> FixedRows() {
  static const char* kTitles[] = {"apple",     "banana",         "cherry",
                                  "apple pie", "Bob's \"best\"", "100%_sure"};
  static const char* kColors[] = {"red", "green", "blue"};
  std::vector<Row> rows;
  for (int i = 0; i < 30; ++i) {
    Row r;
    r.id = i;
    r.age = i * 5;  // except the two extremes below
    if (i == 28) r.age = std::numeric_limits<int64_t>::min();
    if (i == 29) r.age = std::numeric_limits<int64_t>::max();
    r.price = i == 7 ? std::nan("") : i * 1.5;
    r.title = kTitles[i % 6];
    r.active = i % 3 == 0;
    switch (i % 4) {
      case 0:
        r.meta = nlohmann::json{{"model", "X"}, {"a", {{"b", i}}}, {"tags", {"t1", "t2"}}};
        break;
      case 1:
        r.meta = nlohmann::json{{"model", "Y"}, {"a", {{"b", "str"}}}, {"tags", {"t2"}}};
        break;
      case 2:
        r.meta = nlohmann::json{{"model", 5}};
        break;
      default:
        break;  // NULL
    }
    static const char* kLetters[] = {"a", "b", "c", "d"};
    for (int k = 0; k < i % 5; ++k) r.tags.push_back(kLetters[k]);
    if (i % 2 == 0) r.scores = {i, i + 1, i + 2};
    if (i % 2 == 0) r.opt = i;
    if (i < 20) {
      r.dyn = {{"color", kColors[i % 3]}, {"size", i}};
    } else {
      r.dyn = {{"size", "big"}};
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::set<int64_t> Range(int from, int to) {  // inclusive
  std::set<int64_t> s;
  for (int i = from; i <= to; ++i) s.insert(i);
  return s;
}
std::set<int64_t> Where(bool (*pred)(int)) {
  std::set<int64_t> s;
  for (int i = 0; i < 30; ++i) {
    if (pred(i)) s.insert(i);
  }
  return s;
}
std::set<int64_t> Plus(std::set<int64_t> a, std::initializer_list<int64_t> b) {
  a.insert(b);
  return a;
}
std::set<int64_t> Minus(std::set<int64_t> a, std::initializer_list<int64_t> b) {
  for (int64_t x : b) a.erase(x);
  return a;
}

struct Case {
  std::string filter;
  std::set<int64_t> ids;
};

class FilterEvaluationTest : public ::testing::Test {
 protected:
  void Expect(const Case& c) {
    SCOPED_TRACE("filter: " + c.filter);
    auto compiled = Filter::Compile(c.filter, schema_);
    ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
    const Filter& f = *compiled;
    std::set<int64_t> row_ids;
    RowView view(nullptr);
    for (const Row& r : rows_) {
      view.Reset(&r);
      if (f.Matches(view)) row_ids.insert(r.id);
    }
    EXPECT_EQ(row_ids, c.ids) << "row-wise";
    RowColumns columns(rows_);
    Bitmap bits;
    ASSERT_OK(f.Evaluate(columns, &bits));
    ASSERT_EQ(bits.size(), rows_.size());
    std::set<int64_t> col_ids;
    for (size_t i = 0; i < bits.size(); ++i) {
      if (bits.Get(i)) col_ids.insert(rows_[i].id);
    }
    EXPECT_EQ(col_ids, c.ids) << "column-wise";
  }

  std::vector<Row> rows_ = FixedRows();
  SimpleSchema schema_ = TestSchema();
};

TEST_F(FilterEvaluationTest, AcceptedFiltersSelectTheExpectedRows) {
  const std::set<int64_t> all = Range(0, 29);
  const std::set<int64_t> none;
  const Case kCases[] = {
      {"", all},
      {"age > 100", Plus(Range(21, 27), {29})},
      {"((((((age > 100))))))", Plus(Range(21, 27), {29})},
      {"age >= -9223372036854775808", all},
      {"age == 9223372036854775807", {29}},
      {"age < -9223372036854775807", {28}},
      // INT64_MAX + 1 continues in double precision instead of wrapping.
      {"age + 1 > 5", Plus(Range(1, 27), {29})},
      {"age > 9.5", Plus(Range(2, 27), {29})},
      {"age == 10.0", {2}},
      {"age == 10.5", none},
      {"age in [10.0, 15.5]", {2}},
      // Row 7's price is NaN: no comparison matches it except !=.
      {"price > 40", {27, 28, 29}},
      {"price != 3", Minus(all, {2})},
      {"price == price", Minus(all, {7})},
      {"price * 2 < 10", {0, 1, 2, 3}},
      {"price >= 1.2e1 and price <= 1.5E1", {8, 9, 10}},
      {"0 < age < 20", {1, 2, 3}},
      {"10 <= age <= 20 and active", {3}},
      {"not active or age > 100 and price < 42", Minus(all, {0, 3, 6, 9, 12, 15, 18})},
      {"(not active or age > 100) and price < 42", Minus(Range(1, 27), {3, 6, 9, 12, 15, 18, 7})},
      {"active == true", Where([](int i) { return i % 3 == 0; })},
      {"active != true", Where([](int i) { return i % 3 != 0; })},
      {"!active", Where([](int i) { return i % 3 != 0; })},
      {"title == 'apple'", {0, 6, 12, 18, 24}},
      {"title like 'apple%'", Where([](int i) { return i % 6 == 0 || i % 6 == 3; })},
      {"title like '%an%'", {1, 7, 13, 19, 25}},
      {"title like '%pie'", {3, 9, 15, 21, 27}},
      {"title like '_pple'", {0, 6, 12, 18, 24}},
      {"title like 'a%e'", Where([](int i) { return i % 6 == 0 || i % 6 == 3; })},
      {"title like '%'", all},
      {"title like ''", none},
      {"title like '100\\%\\_sure'", {5, 11, 17, 23, 29}},
      {"title like '100%sure'", {5, 11, 17, 23, 29}},
      {"title like '100\\%sure'", none},
      {"title == 'Bob\\'s \"best\"'", {4, 10, 16, 22, 28}},
      {"title == \"Bob's \\\"best\\\"\"", {4, 10, 16, 22, 28}},
      {"title in ['apple', 'cherry']", Where([](int i) { return i % 6 == 0 || i % 6 == 2; })},
      {"title > 'b'", Where([](int i) { return i % 6 == 1 || i % 6 == 2; })},
      {"title not in []", all},
      {"age in []", none},
      {"id in [3, 5, 100]", {3, 5}},
      // Longer lists take the bit-table path (narrow range) or the hash set.
      {"age in [0,5,10,15,20,25,30,35,40,45,50,55,60,65,70,75,80,85,90,95,100]", Range(0, 20)},
      {"age not in [0,5,10,15,20,25,30,35,40,45,50,55,60,65,70,75,80,85,90,95,100]", Range(21, 29)},
      {"age in [9223372036854775807,-9223372036854775808,1,2,3,4,6,7,8,9,11,12,13,14,16,17,"
       "18,19,20]",
       {4, 28, 29}},
      {"id in [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,100000000]", Range(1, 17)},
      {"id not in [3, 5, 100]", Minus(all, {3, 5})},
      {"meta['model'] == 'X'", Where([](int i) { return i % 4 == 0; })},
      // Rows where the key is missing or of another type match neither.
      {"meta['model'] != 'X'", Where([](int i) { return i % 4 == 1; })},
      {"meta['a']['b'] > 10", {12, 16, 20, 24, 28}},
      {"meta['model'] in ['Y', 5]", Where([](int i) { return i % 4 == 1 || i % 4 == 2; })},
      {"meta['model'] not in ['Y']", Where([](int i) { return i % 4 == 0 || i % 4 == 2; })},
      {"json_contains(meta['tags'], 't2')", Where([](int i) { return i % 4 <= 1; })},
      {"json_contains_all(meta['tags'], ['t1', 't2'])", Where([](int i) { return i % 4 == 0; })},
      {"json_contains_any(meta['tags'], ['t1', 'zz'])", Where([](int i) { return i % 4 == 0; })},
      {"meta is null", Where([](int i) { return i % 4 == 3; })},
      {"meta['zzz'] is null", all},
      {"meta['model'] is not null", Where([](int i) { return i % 4 != 3; })},
      {"array_contains(scores, 5)", {4}},
      {"array_contains_any(scores, [0, 29])", {0, 28}},
      {"array_contains_all(tags, ['a', 'c'])", Where([](int i) { return i % 5 >= 3; })},
      {"array_length(tags) == 0", Where([](int i) { return i % 5 == 0; })},
      {"array_length(scores) > 0", Where([](int i) { return i % 2 == 0; })},
      {"scores[1] > 20", {20, 22, 24, 26, 28}},
      {"tags[2] == 'c'", Where([](int i) { return i % 5 >= 3; })},
      {"color == 'red'", {0, 3, 6, 9, 12, 15, 18}},
      {"$meta['color'] like 'gr%'", {1, 4, 7, 10, 13, 16, 19}},
      {"size > 15", {16, 17, 18, 19}},
      {"size == 'big'", Range(20, 29)},
      {"size + 1 > 15", Range(15, 19)},
      {"nosuchkey == 1", none},
      {"opt is null", Where([](int i) { return i % 2 == 1; })},
      {"opt is not null", Where([](int i) { return i % 2 == 0; })},
      {"opt > 20", {22, 24, 26, 28}},
      {"opt not in [0, 2]", Minus(Where([](int i) { return i % 2 == 0; }), {0, 2})},
      {"not (opt > 20)", Minus(all, {22, 24, 26, 28})},
      // 2^63 - 1 is divisible by 7; -2^63 is not.
      {"age % 7 == 0", {0, 7, 14, 21, 29}},
      {"age / 0 > 1", none},
      {"price / 0 > 1", Minus(Range(1, 29), {7})},
      {"-age > 0", {28}},
      {"2 ** 3 == 8 and id < 2", {0, 1}},
      {"age > price", Plus(Minus(Range(1, 27), {7}), {29})},
      {"id == 3 or id == 4 or id in [5]", {3, 4, 5}},
  };
  for (const Case& c : kCases) Expect(c);
}

TEST_F(FilterEvaluationTest, TemplatesEvaluateLikeLiterals) {
  const nlohmann::json params = {{"ids", {1, 2, 3}}, {"min", 10}};
  auto f = Filter::Compile("id in {ids} and age >= {min}", schema_, &params);
  ASSERT_OK(f.status());
  EXPECT_EQ(f->ToString(), "((id in [1,2,3]) and (age >= 10))");
  RowView view(&rows_[2]);
  EXPECT_TRUE(f->Matches(view));
  view.Reset(&rows_[1]);
  EXPECT_FALSE(f->Matches(view));
}

TEST_F(FilterEvaluationTest, ColumnErrorsAbortTheEvaluation) {
  class Broken final : public ColumnSource {
   public:
    size_t RowCount() const override { return 4; }
    Result<ColumnView> GetColumn(int field_index) const override {
      return Status::IOError("segment 7: column " + std::to_string(field_index) + " unreadable");
    }
  };
  ASSERT_OK_AND_ASSIGN(Filter f, Filter::Compile("age > 1", schema_));
  Bitmap bits;
  Status st = f.Evaluate(Broken(), &bits);
  EXPECT_TRUE(st.Is(StatusCode::kIOError)) << st.ToString();
}

TEST_F(FilterEvaluationTest, ReferencedFieldsListsEveryColumnRead) {
  ASSERT_OK_AND_ASSIGN(Filter f,
                       Filter::Compile("age > 1 and (color == 'x' or age < price)", schema_));
  EXPECT_EQ(f.ReferencedFields(),
            (std::vector<int>{testing::kAge, testing::kPrice, testing::kDyn}));
  ASSERT_OK_AND_ASSIGN(Filter all, Filter::Compile("", schema_));
  EXPECT_TRUE(all.MatchesAll());
  EXPECT_TRUE(all.ReferencedFields().empty());
}

// A compiled Filter is immutable: many threads may evaluate it at once (run
// under TSan in the sanitizer CI job to check the claim).
TEST_F(FilterEvaluationTest, OneFilterEvaluatesConcurrently) {
  ASSERT_OK_AND_ASSIGN(
      Filter f, Filter::Compile("age in [0,5,10,15,20,25,30,35,40,45,50,55,60,65,70,75,80,85,90] "
                                "and title like 'a%' or meta['model'] == 'X'",
                                schema_));
  RowColumns columns(rows_);
  Bitmap expected;
  ASSERT_OK(f.Evaluate(columns, &expected));
  std::vector<int> mismatches(4, 0);  // one slot per thread
  std::vector<std::thread> threads;
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      RowView view(nullptr);
      for (int rep = 0; rep < 50; ++rep) {
        Bitmap bits;
        if (!f.Evaluate(columns, &bits).ok() || !(bits == expected)) ++mismatches[t];
        for (size_t i = 0; i < rows_.size(); ++i) {
          view.Reset(&rows_[i]);
          if (f.Matches(view) != expected.Get(i)) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
  EXPECT_GT(expected.Count(), 0u);
}

TEST(ExtractPrimaryKeysTest, KeyLookupsYieldTheirKeys) {
  SimpleSchema schema = TestSchema();
  auto keys = [&](const std::string& text) -> std::optional<PrimaryKeyList> {
    auto f = Filter::Compile(text, schema);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return ExtractPrimaryKeys(*f, testing::kId);
  };
  using Ints = std::vector<int64_t>;
  EXPECT_EQ(keys("id in [3, 1, 3, 2]"), PrimaryKeyList(Ints{3, 1, 2}));
  EXPECT_EQ(keys("id == 7"), PrimaryKeyList(Ints{7}));
  EXPECT_EQ(keys("7 == id"), PrimaryKeyList(Ints{7}));
  EXPECT_EQ(keys("id == 7 or id in [8, 7.0, 9.5]"), PrimaryKeyList(Ints{7, 8}));
  EXPECT_EQ(keys("id in []"), PrimaryKeyList(Ints{}));
  EXPECT_EQ(keys("id > 7"), std::nullopt);
  EXPECT_EQ(keys("id not in [1]"), std::nullopt);
  EXPECT_EQ(keys("id == 1 and age > 2"), std::nullopt);
  EXPECT_EQ(keys("id == 1 or age == 2"), std::nullopt);
  EXPECT_EQ(keys("age == 1"), std::nullopt);
  EXPECT_EQ(keys(""), std::nullopt);

  // A VarChar primary key.
  SimpleSchema by_title({{"title", FieldType::kString, FieldType::kInt, 0, false, true}});
  ASSERT_OK_AND_ASSIGN(Filter f, Filter::Compile("title in ['a', 'b', 'a']", by_title));
  EXPECT_EQ(ExtractPrimaryKeys(f, 0), PrimaryKeyList(std::vector<std::string>{"a", "b"}));
}

TEST(LikePatternTest, WildcardsEscapesAndUtf8) {
  struct C {
    const char* pattern;
    const char* text;
    bool match;
  };
  const C kCases[] = {
      {"a_c", "abc", true},
      {"a_c", "ac", false},
      {"a_c",
       "a\xc3\xa9"
       "c",
       true},
      {"%", "", true},
      {"_", "", false},
      {"a%b%c", "aXbYc", true},
      {"a%b%c", "aXcYb", false},
      {"%aab", "aaab", true},
      {"a\\%", "a%", true},
      {"a\\%", "ab", false},
      {"a\\_", "a_", true},
      {"a\\_", "ab", false},
      {"a\\\\", "a\\", true},
      {"%%", "x", true},
      {"__", "\xe2\x82\xac!", true},
      {"ab", "ab", true},
      {"ab", "abc", false},
      {"%b_", "abc", true},
  };
  for (const C& c : kCases) {
    EXPECT_EQ(LikePattern(c.pattern).Matches(c.text), c.match)
        << "pattern '" << c.pattern << "' on '" << c.text << "'";
  }
}

TEST(BitmapTest, AlgebraKeepsTheTailClear) {
  Bitmap a(70, true);
  EXPECT_EQ(a.Count(), 70u);
  a.Not();
  EXPECT_TRUE(a.None());
  a.Set(69, true);
  a.Set(3, true);
  Bitmap b(70, false);
  b.Set(3, true);
  Bitmap c = a;
  c.And(b);
  EXPECT_EQ(c.Count(), 1u);
  c = a;
  c.AndNot(b);
  EXPECT_TRUE(c.Get(69));
  EXPECT_FALSE(c.Get(3));
  c.Or(b);
  EXPECT_EQ(c.Count(), 2u);
  EXPECT_FALSE(Bitmap(64, true).None());
  EXPECT_TRUE(Bitmap(64, true).All());
}

TEST(CompareValuesTest, IntegersAndDoublesCompareExactly) {
  const int64_t big = (int64_t{1} << 53) + 1;  // not representable as a double
  EXPECT_FALSE(ValuesEqual(Value::Int(big), Value::Double(static_cast<double>(big))));
  EXPECT_TRUE(CompareValues(Value::Int(big), CompareOp::kGt, Value::Double(9007199254740992.0)));
  EXPECT_TRUE(CompareValues(Value::Int(INT64_MAX), CompareOp::kLt, Value::Double(9.3e18)));
  EXPECT_TRUE(
      CompareValues(Value::Int(INT64_MIN), CompareOp::kEq, Value::Double(-9223372036854775808.0)));
  EXPECT_TRUE(CompareValues(Value::Double(-0.5), CompareOp::kLt, Value::Int(0)));
  EXPECT_TRUE(CompareValues(Value::Int(-1), CompareOp::kLt, Value::Double(-0.5)));
  const Value nan = Value::Double(std::nan(""));
  EXPECT_FALSE(ValuesEqual(nan, nan));
  EXPECT_TRUE(CompareValues(nan, CompareOp::kNe, Value::Int(1)));
  EXPECT_FALSE(CompareValues(nan, CompareOp::kGe, Value::Int(1)));
  EXPECT_FALSE(CompareValues(Value::String("1"), CompareOp::kNe, Value::Int(1)));
  EXPECT_FALSE(CompareValues(Value::Null(), CompareOp::kNe, Value::Int(1)));
}

}  // namespace
}  // namespace ark::expr
