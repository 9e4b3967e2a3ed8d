// Rows for the expr tests, readable both row-wise (RowAccessor) and
// column-wise (ColumnSource). The two adapters are written independently so
// that the differential test compares two real implementations.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expr/column_source.h"
#include "expr/row_evaluator.h"
#include "expr/test_schema.h"

namespace ark::expr::testing {

struct Row {
  int64_t id = 0;
  int64_t age = 0;
  double price = 0;
  std::string title;
  bool active = false;
  std::optional<nlohmann::json> meta;  // nullopt: SQL NULL
  nlohmann::json tags = nlohmann::json::array();
  nlohmann::json scores = nlohmann::json::array();
  std::optional<int32_t> opt;
  nlohmann::json dyn = nlohmann::json::object();
};

class RowView final : public RowAccessor {
 public:
  explicit RowView(const Row* row) : row_(row) {}
  void Reset(const Row* row) { row_ = row; }
  Value GetField(int field_index) const override {
    switch (field_index) {
      case kId:
        return Value::Int(row_->id);
      case kAge:
        return Value::Int(row_->age);
      case kPrice:
        return Value::Double(row_->price);
      case kTitle:
        return Value::String(row_->title);
      case kActive:
        return Value::Bool(row_->active);
      case kMeta:
        return row_->meta ? Value::FromJson(&*row_->meta) : Value::Null();
      case kTags:
        return Value::FromJson(&row_->tags);
      case kScores:
        return Value::FromJson(&row_->scores);
      case kOpt:
        return row_->opt ? Value::Int(*row_->opt) : Value::Null();
      case kDyn:
        return Value::FromJson(&row_->dyn);
      default:
        return Value::Null();
    }
  }

 private:
  const Row* row_;
};

class RowColumns final : public ColumnSource {
 public:
  explicit RowColumns(const std::vector<Row>& rows) {
    for (const Row& r : rows) {
      id_.push_back(r.id);
      age_.push_back(r.age);
      price_.push_back(r.price);
      title_.push_back(r.title);
      active_.push_back(r.active ? 1 : 0);
      meta_.push_back(r.meta ? &*r.meta : nullptr);
      tags_.push_back(&r.tags);
      scores_.push_back(&r.scores);
      opt_.push_back(r.opt.value_or(0));
      opt_valid_.push_back(r.opt ? 1 : 0);
      dyn_.push_back(&r.dyn);
    }
  }
  size_t RowCount() const override { return id_.size(); }
  Result<ColumnView> GetColumn(int field_index) const override {
    switch (field_index) {
      case kId:
        return ColumnView{ColumnKind::kInt64, id_.data(), nullptr};
      case kAge:
        return ColumnView{ColumnKind::kInt64, age_.data(), nullptr};
      case kPrice:
        return ColumnView{ColumnKind::kDouble, price_.data(), nullptr};
      case kTitle:
        return ColumnView{ColumnKind::kString, title_.data(), nullptr};
      case kActive:
        return ColumnView{ColumnKind::kBool, active_.data(), nullptr};
      case kMeta:
        return ColumnView{ColumnKind::kJson, meta_.data(), nullptr};
      case kTags:
        return ColumnView{ColumnKind::kJson, tags_.data(), nullptr};
      case kScores:
        return ColumnView{ColumnKind::kJson, scores_.data(), nullptr};
      case kOpt:
        return ColumnView{ColumnKind::kInt32, opt_.data(), opt_valid_.data()};
      case kDyn:
        return ColumnView{ColumnKind::kJson, dyn_.data(), nullptr};
      default:
        return Status::NotFound("no column for field " + std::to_string(field_index));
    }
  }

 private:
  std::vector<int64_t> id_, age_;
  std::vector<double> price_;
  std::vector<std::string_view> title_;
  std::vector<uint8_t> active_;
  std::vector<const nlohmann::json*> meta_, tags_, scores_, dyn_;
  std::vector<int32_t> opt_;
  std::vector<uint8_t> opt_valid_;
};

}  // namespace ark::expr::testing
