// The schema shared by the expr tests.
#pragma once

#include "expr/schema.h"

namespace ark::expr::testing {

enum FieldIndex {
  kId = 0,
  kAge,
  kPrice,
  kTitle,
  kActive,
  kMeta,
  kTags,
  kScores,
  kEmbedding,
  kOpt,
  kDyn,
  kFieldCount
};

inline SimpleSchema TestSchema(bool dynamic = true) {
  std::vector<FieldInfo> f = {
      {"id", FieldType::kInt, FieldType::kInt, kId, false, true},
      {"age", FieldType::kInt, FieldType::kInt, kAge, false, false},
      {"price", FieldType::kFloat, FieldType::kInt, kPrice, false, false},
      {"title", FieldType::kString, FieldType::kInt, kTitle, false, false},
      {"active", FieldType::kBool, FieldType::kInt, kActive, false, false},
      {"meta", FieldType::kJson, FieldType::kInt, kMeta, false, false},
      {"tags", FieldType::kArray, FieldType::kString, kTags, false, false},
      {"scores", FieldType::kArray, FieldType::kInt, kScores, false, false},
      {"embedding", FieldType::kVector, FieldType::kInt, kEmbedding, false, false},
      {"opt", FieldType::kInt, FieldType::kInt, kOpt, true, false},
      {"$meta", FieldType::kJson, FieldType::kInt, kDyn, false, false},
  };
  if (!dynamic) {
    f.pop_back();
    return SimpleSchema(std::move(f));
  }
  return SimpleSchema(std::move(f), kDyn);
}

}  // namespace ark::expr::testing
