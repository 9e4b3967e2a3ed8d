// Translation between Milvus REST v2 collection shapes and Ark's schema.
//
// Milvus accepts two create forms: the quick form (dimension, metricType,
// idType, autoID, primaryFieldName, vectorFieldName, params) and the full
// form (schema.fields with fieldName / dataType / isPrimary /
// elementTypeParams). Both become a CollectionSchema; messages name the
// collection and the field, in Milvus's vocabulary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "engine/database.h"
#include "engine/schema.h"

namespace ark::server {

// A request value as shown in an error message: scalars as JSON (long
// strings cut to 200 characters), arrays and objects by kind and size only.
// Never a recursive dump: a body of 10^5 nested arrays is 200 KB, well under
// limits.max_body_bytes, and json::dump() recursing through it overflows a
// worker thread's stack (found by tests/node/bad_input.test.js).
std::string JsonForMessage(const nlohmann::json& value);

// Reads a required non-empty string parameter (code 1802 when missing).
Result<std::string> RequiredString(const nlohmann::json& body, const char* key);

Result<CollectionSchema> SchemaFromCreateRequest(const nlohmann::json& body,
                                                 const std::string& collection);

// The `describe` reply for one collection.
nlohmann::json DescribeCollectionJson(const CollectionInfo& info, bool loaded);

// Milvus's field JSON for one field.
nlohmann::json FieldJson(const FieldSchema& field, bool auto_id);

}  // namespace ark::server
