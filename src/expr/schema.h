// The schema as the filter layer sees it.
//
// The filter layer does not depend on engine/: the engine adapts its
// collection schema to the SchemaResolver interface below (or fills a
// SimpleSchema). A field is identified by `index`, the same number the
// engine's RowAccessor / ColumnSource (row_evaluator.h, column_source.h)
// answer to.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ark::expr {

// Logical field types. Physical widths (int8 ... int64, float vs double)
// only matter to the column evaluator, which learns them from ColumnView.
enum class FieldType {
  kBool,
  kInt,     // Int8, Int16, Int32, Int64
  kFloat,   // Float, Double
  kString,  // VarChar
  kJson,
  kArray,   // element type in FieldInfo::element_type
  kVector,  // any vector type: never usable in a filter
};

std::string_view FieldTypeName(FieldType type);

struct FieldInfo {
  std::string name;
  FieldType type = FieldType::kInt;
  FieldType element_type = FieldType::kInt;  // only for kArray
  int index = 0;                             // the engine's field number
  bool nullable = false;
  bool is_primary_key = false;
};

// Answers "which field has this name?" for the type checker.
// Implementations must outlive every Filter compiled against them only for
// the duration of Compile(); a compiled Filter copies what it needs.
class SchemaResolver {
 public:
  virtual ~SchemaResolver() = default;
  // nullptr when no field has this name.
  virtual const FieldInfo* FindField(std::string_view name) const = 0;
  // The JSON field holding dynamic keys ("$meta"), or nullptr when the
  // collection has no dynamic field. Unknown bare names in a filter become
  // lookups into this field.
  virtual const FieldInfo* DynamicField() const = 0;
};

// A SchemaResolver over a plain list of fields: for tests and for engines
// that would rather fill a vector than implement the interface.
class SimpleSchema final : public SchemaResolver {
 public:
  SimpleSchema() = default;
  // `dynamic_field_index`: index into `fields` of the dynamic JSON field.
  explicit SimpleSchema(std::vector<FieldInfo> fields,
                        std::optional<size_t> dynamic_field = std::nullopt)
      : fields_(std::move(fields)), dynamic_(dynamic_field) {}

  const FieldInfo* FindField(std::string_view name) const override {
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (dynamic_ && *dynamic_ == i) continue;  // "$meta" is not a user field
      if (fields_[i].name == name) return &fields_[i];
    }
    return nullptr;
  }
  const FieldInfo* DynamicField() const override {
    return dynamic_ ? &fields_[*dynamic_] : nullptr;
  }
  const std::vector<FieldInfo>& fields() const { return fields_; }

 private:
  std::vector<FieldInfo> fields_;
  std::optional<size_t> dynamic_;
};

}  // namespace ark::expr
