#include "engine/segment_columns.h"

#include <fmt/format.h>

namespace ark {

namespace {

expr::FieldType FilterType(DataType type) {
  switch (type) {
    case DataType::kBool:
      return expr::FieldType::kBool;
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
      return expr::FieldType::kInt;
    case DataType::kFloat:
    case DataType::kDouble:
      return expr::FieldType::kFloat;
    case DataType::kVarChar:
      return expr::FieldType::kString;
    case DataType::kJson:
      return expr::FieldType::kJson;
    case DataType::kFloatVector:
      return expr::FieldType::kVector;
  }
  return expr::FieldType::kVector;
}

}  // namespace

FilterSchema::FilterSchema(const CollectionSchema& schema) {
  fields_.reserve(schema.fields.size() + 1);
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const FieldSchema& f = schema.fields[i];
    expr::FieldInfo info;
    info.name = f.name;
    info.type = FilterType(f.type);
    info.index = static_cast<int>(i);
    info.is_primary_key = f.is_primary_key;
    fields_.push_back(std::move(info));
  }
  if (schema.enable_dynamic_field) {
    expr::FieldInfo info;
    info.name = std::string(kDynamicFieldName);
    info.type = expr::FieldType::kJson;
    info.index = static_cast<int>(schema.fields.size());
    dynamic_ = info.index;
    fields_.push_back(std::move(info));
  }
  if (schema.partition_column) {
    expr::FieldInfo info;
    info.name = std::string(kPartitionFieldName);
    info.type = expr::FieldType::kInt;
    info.index = schema.PartitionColumn();
    fields_.push_back(std::move(info));
  }
}

const expr::FieldInfo* FilterSchema::FindField(std::string_view name) const {
  for (const auto& f : fields_) {
    if (f.index != dynamic_ && f.name == name) return &f;
  }
  return nullptr;
}

const expr::FieldInfo* FilterSchema::DynamicField() const {
  return dynamic_ < 0 ? nullptr : &fields_[dynamic_];
}

Result<expr::ColumnView> BlockColumns::GetColumn(int field_index) const {
  const RowBatch& rows = block_.rows();
  if (field_index < 0 || static_cast<size_t>(field_index) >= rows.columns.size()) {
    return Status::NotFound(fmt::format("filter: no column {}", field_index));
  }
  ARK_RETURN_IF_ERROR(block_.EnsureColumn(static_cast<size_t>(field_index)));  // decoded on first use
  const Column& col = rows.columns[field_index];
  expr::ColumnView view;
  switch (col.type) {
    case DataType::kBool:
      view.kind = expr::ColumnKind::kBool64;
      view.data = col.ints.data();
      break;
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
      view.kind = expr::ColumnKind::kInt64;
      view.data = col.ints.data();
      break;
    case DataType::kFloat:
    case DataType::kDouble:
      view.kind = expr::ColumnKind::kDouble;
      view.data = col.doubles.data();
      break;
    case DataType::kVarChar:
      view.kind = expr::ColumnKind::kStdString;
      view.data = col.strings.data();
      break;
    case DataType::kJson:
      view.kind = expr::ColumnKind::kJson;
      view.data = block_.ParsedJson(static_cast<size_t>(field_index)).data();
      break;
    case DataType::kFloatVector:
      return Status::InvalidArgument(
          fmt::format("filter: vector field '{}' cannot be used in a filter",
                      static_cast<size_t>(field_index) < schema_.fields.size()
                          ? schema_.fields[field_index].name
                          : std::string("?")));
  }
  return view;
}

Result<expr::Filter> CompileFilter(const CollectionSchema& schema, std::string_view collection,
                                   const std::string& text, const nlohmann::json* params) {
  FilterSchema resolver(schema);
  auto filter = expr::Filter::Compile(text, resolver, params);
  if (!filter.ok()) {
    return Status(filter.status().code(),
                  fmt::format("collection '{}': {}", collection, filter.status().message()));
  }
  return std::move(filter).value();
}

}  // namespace ark
