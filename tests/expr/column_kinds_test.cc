// The column evaluator over every physical column kind (int8 ... double,
// with and without nulls) must agree with the row evaluator.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "expr/filter.h"
#include "support/test_util.h"

namespace ark::expr {
namespace {

struct NarrowColumns final : ColumnSource {
  std::vector<int8_t> i8;
  std::vector<int16_t> i16;
  std::vector<float> f32;
  std::vector<uint8_t> flag;
  std::vector<uint8_t> valid;      // for i16
  std::vector<int64_t> flag64;     // Bool held as int64 (the engine's RowBatch)
  std::vector<std::string> names;  // VarChar held as std::string

  size_t RowCount() const override { return i8.size(); }
  Result<ColumnView> GetColumn(int field) const override {
    switch (field) {
      case 0:
        return ColumnView{ColumnKind::kInt8, i8.data(), nullptr};
      case 1:
        return ColumnView{ColumnKind::kInt16, i16.data(), valid.data()};
      case 2:
        return ColumnView{ColumnKind::kFloat, f32.data(), nullptr};
      case 3:
        return ColumnView{ColumnKind::kBool, flag.data(), valid.data()};
      case 4:
        return ColumnView{ColumnKind::kBool64, flag64.data(), nullptr};
      case 5:
        return ColumnView{ColumnKind::kStdString, names.data(), nullptr};
      default:
        return Status::NotFound("field " + std::to_string(field));
    }
  }
};

// Reads the same arrays one row at a time, independently of ColumnView::Get.
struct NarrowRow final : RowAccessor {
  const NarrowColumns* c = nullptr;
  size_t row = 0;
  Value GetField(int field) const override {
    switch (field) {
      case 0:
        return Value::Int(c->i8[row]);
      case 1:
        return c->valid[row] ? Value::Int(c->i16[row]) : Value::Null();
      case 2:
        return Value::Double(static_cast<double>(c->f32[row]));
      case 3:
        return c->valid[row] ? Value::Bool(c->flag[row] != 0) : Value::Null();
      case 4:
        return Value::Bool(c->flag64[row] != 0);
      case 5:
        return Value::String(c->names[row]);
      default:
        return Value::Null();
    }
  }
};

TEST(ColumnKindsTest, NarrowIntegerFloatAndNullableColumnsMatchRowWise) {
  NarrowColumns cols;
  for (int i = 0; i < 517; ++i) {  // not a multiple of 64: exercises the tail
    cols.i8.push_back(static_cast<int8_t>(i * 37));
    cols.i16.push_back(static_cast<int16_t>(i * 997));
    cols.f32.push_back(i % 50 == 0 ? std::nanf("") : static_cast<float>(i) / 10.0f - 20.0f);
    cols.flag.push_back(i % 3 == 0);
    cols.valid.push_back(i % 7 != 0);
    cols.flag64.push_back(i % 5 == 0 ? 0 : i);
    cols.names.push_back("n" + std::to_string(i % 40));
  }
  SimpleSchema schema({{"small", FieldType::kInt, FieldType::kInt, 0, false, false},
                       {"mid", FieldType::kInt, FieldType::kInt, 1, true, false},
                       {"ratio", FieldType::kFloat, FieldType::kInt, 2, false, false},
                       {"flag", FieldType::kBool, FieldType::kInt, 3, true, false},
                       {"wide", FieldType::kBool, FieldType::kInt, 4, false, false},
                       {"name", FieldType::kString, FieldType::kInt, 5, false, false}});
  const char* kFilters[] = {
      "wide",
      "not wide",
      "wide == true",
      "wide != true",
      "wide in [false]",
      "name == 'n7'",
      "name > 'n3'",
      "name in ['n1', 'n22', 'zz']",
      "name not in ['n1']",
      "name like 'n1%'",
      "name like '%2'",
      "name like 'n_'",
      "name like '%'",
      "small > 10",
      "small <= -100",
      "small == 44",
      "small in [300, 44, -128]",
      "small not in [300, 44]",
      "small in [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]",
      "small in [-128, 127, 1000000000, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]",
      "small > 2.5",
      "small < 1000",
      "small > -1e30",
      "mid > 1000",
      "mid is null",
      "mid is not null",
      "mid != 0",
      "mid in [997, 1994, 70000]",
      "mid not in [997]",
      "ratio > 0.1",
      "ratio != 1.5",
      "ratio == ratio",
      "ratio < 9007199254740993",
      "ratio in [0.5, -20.0, 3]",
      "ratio not in [0.5]",
      "flag",
      "not flag",
      "flag == false",
      "flag != true",
      "flag in [true]",
      "flag is null",
      "-128 <= small < 0 and flag or mid > 30000",
  };
  NarrowRow row;
  row.c = &cols;
  for (const char* text : kFilters) {
    SCOPED_TRACE(text);
    ASSERT_OK_AND_ASSIGN(Filter f, Filter::Compile(text, schema));
    Bitmap bits;
    ASSERT_OK(f.Evaluate(cols, &bits));
    size_t hits = 0;
    for (size_t i = 0; i < cols.RowCount(); ++i) {
      row.row = i;
      const bool expected = f.Matches(row);
      hits += expected;
      ASSERT_EQ(bits.Get(i), expected) << "row " << i;
    }
    EXPECT_EQ(bits.Count(), hits);
  }
}

TEST(ColumnKindsTest, OutOfRangeListValuesDoNotWrapOnNarrowColumns) {
  NarrowColumns cols;
  // Enough rows for the vectorised 64-row blocks, not just the tail.
  cols.i8.assign(130, 44);
  cols.i16.assign(130, 0);
  cols.f32.assign(130, 0);
  cols.flag.assign(130, 0);
  cols.valid.assign(130, 1);
  SimpleSchema schema({{"small", FieldType::kInt, FieldType::kInt, 0, false, false}});
  ASSERT_OK_AND_ASSIGN(Filter f, Filter::Compile("small in [300]", schema));  // 300 wraps to 44
  Bitmap bits;
  ASSERT_OK(f.Evaluate(cols, &bits));
  EXPECT_EQ(bits.Count(), 0u);
}

TEST(ColumnKindsTest, MovedFiltersKeepWorking) {
  SimpleSchema schema({{"small", FieldType::kInt, FieldType::kInt, 0, false, false}});
  std::vector<Filter> filters;
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(Filter f, Filter::Compile("small == " + std::to_string(i), schema));
    filters.push_back(std::move(f));  // may reallocate: the tree must not dangle
  }
  EXPECT_EQ(filters[7].ToString(), "(small == 7)");
  EXPECT_EQ(filters[7].text(), "small == 7");
}

}  // namespace
}  // namespace ark::expr
