// Adapters between the engine's data model and the filter layer (expr/):
//
//   FilterSchema   a collection schema as an expr::SchemaResolver; field
//                  index i = column i of the collection's RowBatches, the
//                  dynamic field "$meta" (when enabled) is the last column.
//   BlockColumns   one RowBlock as an expr::ColumnSource. Scalar columns are
//                  handed out in place; JSON columns come from the block's
//                  parse cache (RowBlock::ParsedJson), parsed once per block.
//
// CompileFilter compiles a Milvus expression for a collection, with error
// messages that name the collection.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/row_block.h"
#include "engine/schema.h"
#include "expr/filter.h"

namespace ark {

class FilterSchema final : public expr::SchemaResolver {
 public:
  explicit FilterSchema(const CollectionSchema& schema);
  const expr::FieldInfo* FindField(std::string_view name) const override;
  const expr::FieldInfo* DynamicField() const override;

 private:
  std::vector<expr::FieldInfo> fields_;
  int dynamic_ = -1;
};

class BlockColumns final : public expr::ColumnSource {
 public:
  BlockColumns(const CollectionSchema& schema, const RowBlock& block)
      : schema_(schema), block_(block) {}
  size_t RowCount() const override { return block_.num_rows(); }
  Result<expr::ColumnView> GetColumn(int field_index) const override;

 private:
  const CollectionSchema& schema_;
  const RowBlock& block_;
};

// InvalidArgument "collection 'c': invalid filter ..." on a bad expression.
// `params` may be null (no exprParams).
Result<expr::Filter> CompileFilter(const CollectionSchema& schema, std::string_view collection,
                                   const std::string& text, const nlohmann::json* params);

}  // namespace ark
