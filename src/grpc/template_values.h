// Milvus expression templates over gRPC (`expr_template_values` of
// SearchRequest, QueryRequest and DeleteRequest: a filter such as
// `id in {ids}` with the values sent beside it) -> the REST `exprParams`
// object that fills the same `{name}` placeholders (Milvus 2.5 filter
// templates), so both transports run one filter implementation.
//
// Scalars map to JSON scalars (bool, int64, double, string) and arrays to
// JSON arrays, nested ones included; a JSON-array element (what the SDKs
// send for a list of mixed types) is parsed from its JSON text. A value
// Ark's filters cannot hold — raw bytes (`bytes_val`, the Node SDK's Bloom /
// Roaring filter blobs), no value at all, a non-finite double, JSON that
// does not parse or is an object — throws std::invalid_argument naming the
// key; the caller answers it as Milvus code 1100, like field_data.h.
// A placeholder the filter uses but the map lacks is reported by the filter
// parser, as for REST.
//
// Pure function; thread-safe.
#pragma once

#include <google/protobuf/map.h>

#include <nlohmann/json.hpp>
#include <string>

#include "milvus/schema.pb.h"

namespace ark::rpc {

// An empty map gives an empty object (a filter without placeholders ignores it).
nlohmann::json ExprParamsFromTemplates(
    const google::protobuf::Map<std::string, milvus::proto::schema::TemplateValue>& values);

}  // namespace ark::rpc
