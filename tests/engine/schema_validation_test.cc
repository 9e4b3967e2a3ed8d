#include <cmath>
#include <limits>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/row_batch.h"
#include "engine/schema.h"
#include "engine/validation.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

json Row(int64_t id, std::vector<float> v, std::string title = "a") {
  return json{{"id", id}, {"title", title}, {"score", 1.5}, {"tags", {{"k", 1}}}, {"embedding", v}};
}

TEST(Schema, ValidSchemaPassesAndRoundTripsThroughJson) {
  auto s = testing::TestSchema(8, false, true);
  ASSERT_OK(s.Validate("docs"));
  ASSERT_OK_AND_ASSIGN(auto back, CollectionSchema::FromJson(s.ToJson()));
  EXPECT_EQ(back, s);
}

TEST(Schema, RejectsBadPrimaryKeys) {
  auto s = testing::TestSchema();
  s.fields[0].is_primary_key = false;
  Status st = s.Validate("docs");
  EXPECT_TRUE(st.Is(StatusCode::kInvalidArgument));
  EXPECT_THAT(st.message(), HasSubstr("collection 'docs': expected exactly 1 primary key field, got 0"));
  s = testing::TestSchema();
  s.fields[1].is_primary_key = true;  // VarChar: a valid key type, but a second key
  EXPECT_THAT(s.Validate("docs").message(), HasSubstr("expected exactly 1 primary key field, got 2"));
  s = testing::TestSchema();
  s.fields[0].is_primary_key = false;
  s.fields[2].is_primary_key = true;
  EXPECT_THAT(s.Validate("docs").message(),
              HasSubstr("primary key field 'score' must be Int64 or VarChar, got Float"));
}

TEST(Schema, RejectsAutoIdOnVarCharKey) {
  CollectionSchema s;
  s.auto_id = true;
  s.fields.push_back({"pk", DataType::kVarChar, true, 16, 0, ""});
  s.fields.push_back({"v", DataType::kFloatVector, false, 0, 2, ""});
  EXPECT_THAT(s.Validate("c").message(), HasSubstr("autoID needs an Int64 primary key, field 'pk' is VarChar"));
}

TEST(Schema, RejectsBadDimMaxLengthDuplicateAndMissingVector) {
  auto s = testing::TestSchema();
  s.fields[4].dim = 0;
  EXPECT_THAT(s.Validate("c").message(), HasSubstr("field 'embedding': FloatVector dim must be in [1, 32768], got 0"));
  s = testing::TestSchema();
  s.fields[1].max_length = 70000;
  EXPECT_THAT(s.Validate("c").message(), HasSubstr("field 'title': VarChar max_length must be in [1, 65535], got 70000"));
  s = testing::TestSchema();
  s.fields[2].name = "title";
  EXPECT_THAT(s.Validate("c").message(), HasSubstr("field 'title' appears twice"));
  s = testing::TestSchema();
  s.fields.pop_back();
  EXPECT_THAT(s.Validate("c").message(), HasSubstr("at least one FloatVector"));
}

TEST(Schema, NamesMustBeIdentifiers) {
  EXPECT_OK(ValidateName("collection", "my_docs2"));
  EXPECT_THAT(ValidateName("collection", "2docs").message(), HasSubstr("collection name '2docs' is invalid"));
  EXPECT_THAT(ValidateName("database", "").message(), HasSubstr("database name is empty"));
}

TEST(RowBatchJson, RoundTripsRowsIncludingDynamicFields) {
  auto s = testing::TestSchema(3, false, true);
  json rows = json::array({Row(1, {1, 2, 3}), Row(2, {4, 5, 6}, "b")});
  rows[1]["color"] = "red";
  ASSERT_OK_AND_ASSIGN(RowBatch b, RowBatchFromJson(s, "docs", rows, WriteKind::kInsert));
  EXPECT_EQ(b.num_rows, 2u);
  EXPECT_EQ(b.columns[4].floats.size(), 6u);
  EXPECT_EQ(b.columns[5].strings[1], R"({"color":"red"})");
  ASSERT_OK(ValidateBatch(s, "docs", b));
  json back = RowBatchToJson(s, b);
  EXPECT_EQ(back, rows);
}

TEST(RowBatchJson, DimensionMismatchNamesCollectionFieldAndBothDims) {
  auto s = testing::TestSchema(3);
  auto r = RowBatchFromJson(s, "docs", json::array({Row(1, {1, 2})}), WriteKind::kInsert);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument));
  EXPECT_THAT(r.status().message(),
              HasSubstr("collection 'docs', row 0, field 'embedding': dimension mismatch: expected 3, got 2"));
}

TEST(RowBatchJson, MissingFieldIsNamed) {
  auto s = testing::TestSchema(3);
  json row = Row(1, {1, 2, 3});
  row.erase("title");
  auto r = RowBatchFromJson(s, "docs", json::array({row}), WriteKind::kInsert);
  EXPECT_THAT(r.status().message(),
              HasSubstr("collection 'docs', row 0, field 'title': missing value for field of type VarChar"));
}

TEST(RowBatchJson, UnknownFieldIsAnErrorWithoutDynamicField) {
  auto s = testing::TestSchema(3);
  json row = Row(1, {1, 2, 3});
  row["color"] = "red";
  auto r = RowBatchFromJson(s, "docs", json::array({row}), WriteKind::kInsert);
  EXPECT_THAT(r.status().message(), HasSubstr("field 'color': unknown field"));
}

TEST(RowBatchJson, WrongTypeNamesExpectedAndActual) {
  auto s = testing::TestSchema(3);
  json row = Row(1, {1, 2, 3});
  row["score"] = "high";
  auto r = RowBatchFromJson(s, "docs", json::array({row}), WriteKind::kInsert);
  EXPECT_THAT(r.status().message(), HasSubstr("field 'score': expected Float, got string \"high\""));
  row = Row(1, {1, 2, 3});
  row["id"] = 1.5;
  r = RowBatchFromJson(s, "docs", json::array({row}), WriteKind::kInsert);
  EXPECT_THAT(r.status().message(), HasSubstr("field 'id': expected Int64, got number 1.5"));
}

TEST(RowBatchJson, IntegerOutOfRangeForNarrowType) {
  CollectionSchema s;
  s.fields.push_back({"id", DataType::kInt64, true, 0, 0, ""});
  s.fields.push_back({"small", DataType::kInt8, false, 0, 0, ""});
  s.fields.push_back({"v", DataType::kFloatVector, false, 0, 1, ""});
  auto r = RowBatchFromJson(s, "c", json::array({{{"id", 1}, {"small", 300}, {"v", {1.0}}}}),
                            WriteKind::kInsert);
  EXPECT_THAT(r.status().message(), HasSubstr("field 'small': value 300 is out of range for Int8 [-128, 127]"));
}

TEST(RowBatchJson, AutoIdInsertMustNotCarryKeyButUpsertMust) {
  auto s = testing::TestSchema(2, true);
  auto r = RowBatchFromJson(s, "docs", json::array({Row(5, {1, 2})}), WriteKind::kInsert);
  EXPECT_THAT(r.status().message(), HasSubstr("field 'id': primary key must not be given on insert"));
  json row = Row(5, {1, 2});
  row.erase("id");
  ASSERT_OK_AND_ASSIGN(auto b, RowBatchFromJson(s, "docs", json::array({row}), WriteKind::kInsert));
  EXPECT_EQ(b.columns[0].ints.size(), 1u);
  auto u = RowBatchFromJson(s, "docs", json::array({row}), WriteKind::kUpsert);
  EXPECT_THAT(u.status().message(), HasSubstr("field 'id': missing value"));
}

TEST(Validation, NanAndInfInVectorsAreRejected) {
  auto s = testing::TestSchema(4);
  auto b = testing::TestRows(s, 1, 3);
  b.columns[4].floats[6] = std::numeric_limits<float>::quiet_NaN();
  Status st = ValidateBatch(s, "docs", b);
  EXPECT_TRUE(st.Is(StatusCode::kInvalidArgument));
  EXPECT_THAT(st.message(), HasSubstr("collection 'docs', field 'embedding': row 1, element 2: vectors must be finite, got nan"));
  b.columns[4].floats[6] = std::numeric_limits<float>::infinity();
  EXPECT_THAT(ValidateBatch(s, "docs", b).message(), HasSubstr("got inf"));
}

// The finite check runs in blocks (vectorised): a bad value anywhere — first
// element, last element, either side of a block boundary — is still found
// and named by row and element, and extreme finite values pass.
TEST(Validation, NonFiniteIsFoundAnywhereInALargeBatch) {
  auto s = testing::TestSchema(768);
  auto b = testing::TestRows(s, 1, 20);  // 15360 floats: several blocks
  auto& f = b.columns[4].floats;
  f[0] = std::numeric_limits<float>::max();
  f[1] = -std::numeric_limits<float>::max();
  f[2] = std::numeric_limits<float>::denorm_min();
  f[3] = -0.0f;
  ASSERT_OK(ValidateBatch(s, "docs", b));
  const float bad[] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                       std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  for (size_t at : {size_t{0}, size_t{4095}, size_t{4096}, size_t{8191}, f.size() - 1}) {
    for (float v : bad) {
      const float keep = f[at];
      f[at] = v;
      Status st = ValidateBatch(s, "docs", b);
      EXPECT_TRUE(st.Is(StatusCode::kInvalidArgument)) << "at " << at;
      EXPECT_THAT(st.message(), HasSubstr(fmt::format("row {}, element {}: vectors must be finite",
                                                      at / 768, at % 768)));
      f[at] = keep;
    }
  }
  ASSERT_OK(ValidateBatch(s, "docs", b));
}

TEST(Validation, VarCharTooLong) {
  auto s = testing::TestSchema(4);
  auto b = testing::TestRows(s, 1, 2);
  b.columns[1].strings[1] = std::string(33, 'x');
  EXPECT_THAT(ValidateBatch(s, "docs", b).message(),
              HasSubstr("field 'title': row 1: VarChar too long: max_length 32, got 33 bytes"));
}

TEST(Validation, RepeatedPrimaryKeyInBatch) {
  auto s = testing::TestSchema(4);
  auto b = testing::TestRows(s, 1, 3);
  b.columns[0].ints[2] = 1;
  EXPECT_THAT(ValidateBatch(s, "docs", b).message(),
              HasSubstr("field 'id': primary key 1 is repeated in the batch (rows 0 and 2)"));
}

TEST(Validation, WrongDimensionAndColumnShape) {
  auto s = testing::TestSchema(4);
  auto b = testing::TestRows(s, 1, 2);
  b.columns[4].dim = 3;
  EXPECT_THAT(ValidateBatch(s, "docs", b).message(),
              HasSubstr("field 'embedding': dimension mismatch: expected 4, got 3"));
  b = testing::TestRows(s, 1, 2);
  b.columns[2].doubles.pop_back();
  EXPECT_THAT(ValidateBatch(s, "docs", b).message(), HasSubstr("field 'score': expected 2 values, got 1"));
  b = testing::TestRows(s, 1, 2);
  b.columns[2].type = DataType::kDouble;
  EXPECT_THAT(ValidateBatch(s, "docs", b).message(), HasSubstr("field 'score': expected type Float, got Double"));
}

}  // namespace
}  // namespace ark
