// Fuzz target: the filter-expression compiler (expr/filter.h): lexer,
// parser, type checker, `{name}` templates, then both evaluators.
//
// Input: byte 0 = flags. Without bit 0 the rest is the filter text. With
// bit 0 the rest is "<exprParams JSON>\n<filter text>". The schema is the
// expr tests' schema (tests/expr/test_schema.h: Int, Float, String, Bool,
// JSON, Array<String>, Array<Int>, Vector, a nullable Int and the dynamic
// "$meta" field). A filter that compiles is evaluated over a fixed set of
// rows row-wise and column-wise, and the two must agree (the differential
// property tests/expr/differential_test.cc checks on generated filters).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "expr/filter.h"
#include "expr/test_dataset.h"
#include "expr/test_schema.h"
#include "fuzz/fuzz_util.h"

using namespace ark;
using namespace ark::expr;
using namespace ark::expr::testing;

namespace {

std::vector<Row> MakeRows() {
  std::vector<Row> rows(6);
  using json = nlohmann::json;
  rows[0] = {1, 30, 9.5, "red apple", true, json{{"a", 1}, {"b", "x"}}, json{"x", "y"},
             json{1, 2, 3}, 7, json{{"color", "red"}, {"n", 3}}};
  rows[1] = {2, -4, -0.0, "", false, std::nullopt, json::array(), json::array(), std::nullopt,
             json::object()};
  rows[2] = {3, std::numeric_limits<int64_t>::max(), 1e300, "Z%_\\", true,
             json{{"a", json::array({1, "2", nullptr})}, {"c", json{{"d", 2.5}}}}, json{"red"},
             json{-1}, -2147483647 - 1, json{{"color", 5}, {"tags", json{"a"}}}};
  rows[3] = {4, std::numeric_limits<int64_t>::min(), std::numeric_limits<double>::infinity(),
             "\xc3\xa9t\xc3\xa9", false, json(nullptr), json{"", "y", "y"}, json{0, 0},
             2147483647, json{{"n", nullptr}}};
  rows[4] = {5, 0, std::numeric_limits<double>::quiet_NaN(), "red", true, json(3), json{"z"},
             json{9007199254740993LL}, 0, json{{"color", "blue"}, {"n", 1.5}}};
  rows[5] = {6, 17, 0.1, "apple pie", false, json("str"), json::array(), json{5, 4},
             std::nullopt, json{{"a", json{{"a", json{{"a", 1}}}}}}};
  return rows;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SimpleSchema schema = TestSchema();
  static const std::vector<Row> rows = MakeRows();
  static const RowColumns columns(rows);

  fuzz::InputReader in(data, size);
  uint8_t flags = in.Byte();
  std::string_view rest = in.Rest();
  nlohmann::json params;
  const nlohmann::json* params_ptr = nullptr;
  if (flags & 1) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return 0;
    params = nlohmann::json::parse(rest.substr(0, nl), nullptr, /*allow_exceptions=*/false);
    if (params.is_discarded()) return 0;
    params_ptr = &params;
    rest = rest.substr(nl + 1);
  }
  auto filter = Filter::Compile(rest, schema, params_ptr);
  if (!filter.ok()) return 0;
  (void)filter->ToString();
  (void)filter->ReferencedFields();
  (void)ExtractPrimaryKeys(*filter, kId);

  Bitmap bits;
  Status s = filter->Evaluate(columns, &bits);
  if (!s.ok()) return 0;
  ARK_FUZZ_CHECK(bits.size() == rows.size(), "bitmap size");
  RowView view(nullptr);
  for (size_t r = 0; r < rows.size(); ++r) {
    view.Reset(&rows[r]);
    bool row_wise = filter->Matches(view);
    ARK_FUZZ_CHECK(row_wise == bits.Get(r),
                   "row " + std::to_string(r) + ": row-wise " + std::to_string(row_wise) +
                       ", column-wise " + std::to_string(bits.Get(r)) + " for " +
                       filter->ToString());
  }
  return 0;
}
