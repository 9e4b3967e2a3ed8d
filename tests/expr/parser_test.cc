// Table-driven tests of the filter grammar and type checker: accepted
// filters with their canonical parse, rejected ones with the exact error.
#include "expr/parser.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "expr/test_schema.h"
#include "expr/type_checker.h"
#include "support/test_util.h"

namespace ark::expr {
namespace {

using testing::TestSchema;

// Parses and checks; returns the canonical form or the error message.
std::string Compile(const std::string& text, bool dynamic = true,
                    const nlohmann::json* params = nullptr) {
  auto parsed = ParseFilter(text, params);
  if (!parsed.ok()) return "ERROR " + parsed.status().message();
  std::unique_ptr<Node> root = std::move(parsed).value();
  if (root == nullptr) return "<all>";
  SimpleSchema schema = TestSchema(dynamic);
  Status st = CheckFilter(text, schema, root.get());
  if (!st.ok()) {
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    return "ERROR " + st.message();
  }
  return NodeToString(*root);
}

struct Accepted {
  const char* filter;
  const char* canonical;
};

TEST(FilterParserTest, AcceptedFiltersParseToTheirCanonicalForm) {
  const Accepted kCases[] = {
      {"", "<all>"},
      {"   ", "<all>"},
      {"age > 3", "(age > 3)"},
      {"3 < age", "(age > 3)"},
      {"age>=3", "(age >= 3)"},
      {"age != 3", "(age != 3)"},
      {"0 < age < 400", "((age > 0) and (age < 400))"},
      {"0 <= age < 400 <= price", "((age >= 0) and (age < 400) and (price >= 400))"},
      {"age > 1 and price < 2", "((age > 1) and (price < 2))"},
      {"not active or age > 1 and price < 2", "((not active) or ((age > 1) and (price < 2)))"},
      {"NOT active OR age > 1 AND price < 2", "((not active) or ((age > 1) and (price < 2)))"},
      {"!active || age > 1 && price < 2", "((not active) or ((age > 1) and (price < 2)))"},
      {"not (active or age > 1)", "(not (active or (age > 1)))"},
      {"not not active", "(not (not active))"},
      {"(((age > 1)))", "(age > 1)"},
      {"age + 1 > 5", "((age + 1) > 5)"},
      {"price * 2 < 10", "((price * 2) < 10)"},
      {"age + 2 * 3 - 1 == 10", "(((age + (2 * 3)) - 1) == 10)"},
      {"(age + 2) * 3 % 4 == 1", "((((age + 2) * 3) % 4) == 1)"},
      {"age / 2 > 1", "((age / 2) > 1)"},
      {"2 ** 3 ** 2 == age", "((2 ** (3 ** 2)) == age)"},
      {"-2 ** 2 == age", "((-(2 ** 2)) == age)"},
      {"-age < 3", "((-age) < 3)"},
      {"age > -5", "(age > -5)"},
      {"age > +5", "(age > 5)"},
      {"age == 9223372036854775807", "(age == 9223372036854775807)"},
      {"age >= -9223372036854775808", "(age >= -9223372036854775808)"},
      {"price > 1.5e3", "(price > 1500.0)"},
      {"price < 2E-2", "(price < 0.02)"},
      {"price > .5", "(price > 0.5)"},
      {"age > 2.5", "(age > 2.5)"},
      {"title == \"a\\\"b\"", "(title == \"a\\\"b\")"},
      {"title == 'it\\'s'", "(title == \"it's\")"},
      {"title == 'caf\\u00e9'", "(title == \"caf\u00e9\")"},
      {"title == 'na\xc3\xafve'", "(title == \"na\xc3\xafve\")"},
      {"title == \"tab\\there\"", "(title == \"tab\\there\")"},
      {"active == true", "(active == true)"},
      {"True == active", "(active == true)"},
      {"active != False", "(active != false)"},
      {"active", "active"},
      {"age in [1, 2, 3]", "(age in [1,2,3])"},
      {"age in [1, -2, 3.5,]", "(age in [1,-2,3.5])"},
      {"age not in []", "(age not in [])"},
      {"title IN ['a', \"b\"]", "(title in [\"a\",\"b\"])"},
      {"title like 'ab%'", "(title like \"ab%\")"},
      {"title LIKE '%a_c%'", "(title like \"%a_c%\")"},
      {"meta[\"model\"] == \"X\"", "(meta[\"model\"] == \"X\")"},
      {"meta['a']['b'] > 1", "(meta[\"a\"][\"b\"] > 1)"},
      {"meta['list'][0] == 'x'", "(meta[\"list\"][0] == \"x\")"},
      {"meta > 1", "(meta > 1)"},
      {"scores[1] > 3", "(scores[1] > 3)"},
      {"tags[0] like 'a%'", "(tags[0] like \"a%\")"},
      {"color == 'red'", "($meta[\"color\"] == \"red\")"},
      {"color['x'] in [1]", "($meta[\"color\"][\"x\"] in [1])"},
      {"$meta['color'] == 'red'", "($meta[\"color\"] == \"red\")"},
      {"size + 1 > age", "(($meta[\"size\"] + 1) > age)"},
      {"age > price", "(age > price)"},
      {"json_contains(meta['tags'], 'x')", "json_contains(meta[\"tags\"], \"x\")"},
      {"JSON_CONTAINS(meta, [1, 2])", "json_contains(meta, [1,2])"},
      {"json_contains_all(meta['t'], [1, 'a'])", "json_contains_all(meta[\"t\"], [1,\"a\"])"},
      {"json_contains_any(tags, ['a'])", "json_contains_any(tags, [\"a\"])"},
      {"array_contains(scores, 3)", "array_contains(scores, 3)"},
      {"array_contains_all(scores, [1, 2])", "array_contains_all(scores, [1,2])"},
      {"array_contains_any(tags, ['a', 'b'])", "array_contains_any(tags, [\"a\",\"b\"])"},
      {"array_length(scores) == 3", "(array_length(scores) == 3)"},
      {"array_length(meta['l']) > 0", "(array_length(meta[\"l\"]) > 0)"},
      {"opt is null", "(opt is null)"},
      {"opt IS NOT NULL", "(opt is not null)"},
      {"meta['k'] is null", "(meta[\"k\"] is null)"},
      {"flag", "$meta[\"flag\"]"},
      {"age > 1 and\n\tprice < 2", "((age > 1) and (price < 2))"},
  };
  for (const Accepted& c : kCases) {
    EXPECT_EQ(Compile(c.filter), c.canonical) << "filter: " << c.filter;
  }
}

TEST(FilterParserTest, TemplatesAreFilledFromExprParams) {
  const nlohmann::json params = {
      {"low", 5}, {"high", 2.5}, {"names", {"a", "b"}}, {"flag", true}, {"s", "x'y"}};
  EXPECT_EQ(Compile("{low} < age and price < {high}", true, &params),
            "((age > 5) and (price < 2.5))");
  EXPECT_EQ(Compile("title in {names} or active == {flag}", true, &params),
            "((title in [\"a\",\"b\"]) or (active == true))");
  EXPECT_EQ(Compile("title == {s}", true, &params), "(title == \"x'y\")");
  EXPECT_EQ(Compile("meta[{s}] == 1", true, &params), "(meta[\"x'y\"] == 1)");
}

struct Rejected {
  const char* filter;
  const char* error;  // the exact message
};

TEST(FilterParserTest, RejectedFiltersReportOffsetTokenAndExpectation) {
  const Rejected kCases[] = {
      {"age >> 3", "filter \"age >> 3\": at offset 5 ('>'): expected an expression"},
      {"title > 3",
       "filter \"title > 3\": at offset 6 ('>'): cannot compare VarChar field 'title' with Int 3 "
       "using '>'"},
      {"3 > title",
       "filter \"3 > title\": at offset 2 ('>'): cannot compare Int 3 with VarChar field 'title' "
       "using '>'"},
      {"age like 'a%'",
       "filter \"age like 'a%'\": at offset 4 ('like'): 'like' needs a VarChar or JSON operand, "
       "got Int field 'age'"},
      {"title + 1 > 2",
       "filter \"title + 1 > 2\": at offset 6 ('+'): arithmetic '+' needs numbers, got VarChar "
       "field 'title'"},
      {"-title < 1",
       "filter \"-title < 1\": at offset 0 ('-'): '-' needs a number, got VarChar field 'title'"},
      {"embedding == 1",
       "filter \"embedding == 1\": at offset 0 ('embedding'): vector field 'embedding' cannot be "
       "used in a filter"},
      {"active > true",
       "filter \"active > true\": at offset 7 ('>'): cannot compare Bool field 'active' with Bool "
       "true using '>'"},
      {"age in ['a']",
       "filter \"age in ['a']\": at offset 8 (''a''): list element VarChar 'a' can never equal "
       "Int field 'age'"},
      {"array_contains(scores, 'x')",
       "filter \"array_contains(scores, 'x')\": at offset 23 (''x''): VarChar 'x' can never equal "
       "an element of Array<Int> field 'scores'"},
      {"scores > 1",
       "filter \"scores > 1\": at offset 7 ('>'): cannot compare Array<Int> field 'scores' with "
       "Int 1 using '>'"},
      {"age",
       "filter \"age\": at offset 0 ('age'): a filter must be a boolean expression, got Int "
       "field 'age'"},
      {"title > 'a' and age",
       "filter \"title > 'a' and age\": at offset 12 ('and'): 'and' needs boolean operands, got "
       "Int field 'age'"},
      {"not price",
       "filter \"not price\": at offset 0 ('not'): 'not' needs boolean operands, got "
       "Float field 'price'"},
      {"age = 3",
       "filter \"age = 3\": at offset 4 ('='): expected '==' (a single '=' is not an operator)"},
      {"(age > 3",
       "filter \"(age > 3\": at offset 8 (end of input): expected ')' to close '(' at offset 0"},
      {"age > 3)", "filter \"age > 3)\": at offset 7 (')'): unbalanced ')'"},
      {"age > 1 title",
       "filter \"age > 1 title\": at offset 8 ('title'): expected 'and', 'or' or end of input"},
      {"age > 1 and",
       "filter \"age > 1 and\": at offset 11 (end of input): expected an expression"},
      {"age in 3", "filter \"age in 3\": at offset 7 ('3'): expected a list '[...]' after 'in'"},
      {"age not in (1)",
       "filter \"age not in (1)\": at offset 11 ('('): expected a list '[...]' after 'not in'"},
      {"age in [1, age]",
       "filter \"age in [1, age]\": at offset 11 ('age'): list elements must be literals"},
      {"age in [1 2]",
       "filter \"age in [1 2]\": at offset 10 ('2'): expected ',' or ']' in a list"},
      {"title like 5",
       "filter \"title like 5\": at offset 11 ('5'): expected a string pattern after 'like'"},
      {"title == 'abc", "filter \"title == 'abc\": at offset 9 ('''): unterminated string literal"},
      {"title == 'a\\u12'",
       "filter \"title == 'a\\u12'\": at offset 11 ('\\u12'): expected 4 hex digits after \\u"},
      {"title == 'a\xff'",
       "filter \"title == 'a\\xff'\": at offset 11 ('\\xff'): invalid UTF-8 in string literal"},
      {"title == 'a\xc3('",
       "filter \"title == 'a\\xc3('\": at offset 11 ('\\xc3'): invalid UTF-8 in string literal"},
      {"title == 'a\xed\xa0\x80'",
       "filter \"title == 'a\\xed\\xa0\\x80'\": at offset 11 ('\\xed'): invalid UTF-8 in string "
       "literal"},
      {"age > 9223372036854775808",
       "filter \"age > 9223372036854775808\": at offset 6 ('9223372036854775808'): integer "
       "literal out of int64 range"},
      {"age > -9223372036854775809",
       "filter \"age > -9223372036854775809\": at offset 7 ('9223372036854775809'): integer "
       "literal out of int64 range"},
      {"age > 1e",
       "filter \"age > 1e\": at offset 6 ('1e'): malformed number: expected digits "
       "in the exponent"},
      {"age > 12abc", "filter \"age > 12abc\": at offset 6 ('12abc'): malformed number"},
      {"price > 1e999",
       "filter \"price > 1e999\": at offset 8 ('1e999'): float literal out of range"},
      {"age @ 3", "filter \"age @ 3\": at offset 4 ('@'): unexpected character"},
      {"age & 3",
       "filter \"age & 3\": at offset 4 ('&'): expected '&&' (bitwise '&' is not supported)"},
      {"age == 1 == 1",
       "filter \"age == 1 == 1\": at offset 4 ('=='): '==' cannot be chained; only < <= > >= "
       "chain (use 'and')"},
      {"age == null",
       "filter \"age == null\": at offset 7 ('null'): null can only be tested with 'is null' / "
       "'is not null'"},
      {"age is 3",
       "filter \"age is 3\": at offset 7 ('3'): expected 'null' or 'not null' after 'is'"},
      {"(age + 1) is null",
       "filter \"(age + 1) is null\": at offset 10 ('is'): 'is null' needs a field, got Int "
       "expression"},
      {"foo(1) > 2",
       "filter \"foo(1) > 2\": at offset 0 ('foo'): unknown function 'foo' (supported: "
       "json_contains, json_contains_all, json_contains_any, array_contains, array_contains_all, "
       "array_contains_any, array_length)"},
      {"array_length(age) > 1",
       "filter \"array_length(age) > 1\": at offset 13 ('age'): array_length needs an Array or "
       "JSON field, got Int field 'age'"},
      {"array_length(scores, 1) > 1",
       "filter \"array_length(scores, 1) > 1\": at offset 0 ('array_length'): array_length takes "
       "1 argument, got 2"},
      {"json_contains_any(meta, 1)",
       "filter \"json_contains_any(meta, 1)\": at offset 24 ('1'): json_contains_any needs a list "
       "'[...]' as its second argument"},
      {"json_contains(meta, 1",
       "filter \"json_contains(meta, 1\": at offset 21 (end of input): expected ',' or ')' in the "
       "arguments of json_contains"},
      {"scores['a'] > 1",
       "filter \"scores['a'] > 1\": at offset 7 (''a''): an Array subscript must be an integer "
       "literal"},
      {"meta[age] > 1",
       "filter \"meta[age] > 1\": at offset 5 ('age'): a JSON subscript must be a string or "
       "integer literal"},
      {"meta[-1] > 1",
       "filter \"meta[-1] > 1\": at offset 5 ('-1'): a subscript must not be negative"},
      {"age[0] > 1",
       "filter \"age[0] > 1\": at offset 3 ('['): only JSON and Array fields can be subscripted, "
       "not Int field 'age'"},
      {"meta['a' > 1",
       "filter \"meta['a' > 1\": at offset 12 (end of input): expected ']' to close '[' at offset "
       "4"},
      {"{p} > age",
       "filter \"{p} > age\": at offset 0 ('{p}'): template parameter 'p' used but no exprParams "
       "object was given"},
      {"age > {", "filter \"age > {\": at offset 6 ('{'): expected a template parameter '{name}'"},
  };
  for (const Rejected& c : kCases) {
    EXPECT_EQ(Compile(c.filter), std::string("ERROR ") + c.error) << "filter: " << c.filter;
  }
}

TEST(FilterParserTest, UnknownNameWithoutDynamicFieldNamesTheField) {
  EXPECT_EQ(Compile("color == 'red'", /*dynamic=*/false),
            "ERROR filter \"color == 'red'\": at offset 0 ('color'): unknown field 'color' (the "
            "collection has no dynamic field)");
}

TEST(FilterParserTest, MissingTemplateParameterIsNamed) {
  const nlohmann::json params = {{"a", 1}};
  EXPECT_EQ(Compile("age > {b}", true, &params),
            "ERROR filter \"age > {b}\": at offset 6 ('{b}'): template parameter 'b' is not in "
            "exprParams");
  const nlohmann::json bad = {{"a", {{"x", 1}}}};
  EXPECT_EQ(Compile("age > {a}", true, &bad),
            "ERROR filter \"age > {a}\": at offset 6 ('{a}'): template parameter 'a' must be a "
            "number, string, bool or list, got object");
}

TEST(FilterParserTest, DeepNestingIsRejectedWithoutExhaustingTheStack) {
  const std::string parens = std::string(100000, '(') + "active" + std::string(100000, ')');
  EXPECT_NE(Compile(parens).find("expression nested too deeply (more than 200 levels)"),
            std::string::npos);
  std::string nots;
  for (int i = 0; i < 50000; ++i) nots += "not ";
  EXPECT_NE(Compile(nots + "active").find("nested too deeply"), std::string::npos);
  std::string sum = "age";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  EXPECT_NE(Compile(sum + " > 0").find("nested too deeply"), std::string::npos);
  std::string lists = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_NE(Compile("meta in [" + lists + "]").find("nested too deeply"), std::string::npos);
  std::string minus(100000, '-');
  EXPECT_NE(Compile("age > " + minus + "1").find("nested too deeply"), std::string::npos);
  // Just under the cap is fine.
  const std::string ok = std::string(150, '(') + "active" + std::string(150, ')');
  EXPECT_EQ(Compile(ok), "active");
}

TEST(FilterParserTest, VeryLongFlatFiltersAreAccepted) {
  std::string ors = "age == 0";
  for (int i = 1; i < 20000; ++i) ors += " or age == " + std::to_string(i);
  std::string canonical = Compile(ors);
  ASSERT_EQ(canonical.rfind("ERROR", 0), std::string::npos) << canonical.substr(0, 300);
  EXPECT_NE(canonical.find("(age == 19999)"), std::string::npos);

  std::string in = "id in [";
  for (int i = 0; i < 100000; ++i) in += (i ? "," : "") + std::to_string(i * 7);
  in += "]";
  EXPECT_EQ(Compile(in).rfind("(id in [0,7,14,", 0), 0u);
}

TEST(FilterParserTest, LongFiltersAreShortenedInMessages) {
  std::string text = "age > 1 and ";
  for (int i = 0; i < 100; ++i) text += "age > 1 and ";
  text += "age >";
  const std::string error = Compile(text);
  EXPECT_NE(error.find("...\": at offset " + std::to_string(text.size()) + " (end of input)"),
            std::string::npos)
      << error;
  EXPECT_LT(error.size(), 300u);
}

}  // namespace
}  // namespace ark::expr
