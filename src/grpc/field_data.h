// Conversions between Milvus's gRPC messages (columnar FieldData, the
// serialized CollectionSchema, PlaceholderGroup) and the JSON shapes of the
// Milvus REST v2 routes (rows, REST schemas, describe answers).
//
// Each function throws RequestError-like std::invalid_argument with a
// message naming the field when a request holds what REST cannot express
// (a type Ark does not store, a column of the wrong length); the caller
// answers it as Milvus code 1100.
//
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "engine/row_batch.h"
#include "engine/schema.h"
#include "engine/search.h"

#include "milvus/milvus.pb.h"
#include "milvus/schema.pb.h"

namespace ark::rpc {

// schema.CollectionSchema -> the REST `schema` object of collections/create.
nlohmann::json SchemaToJson(const milvus::proto::schema::CollectionSchema& schema);

// A REST collections/describe answer -> DescribeCollectionResponse (status untouched).
void DescribeToProto(const nlohmann::json& describe, const std::string& db,
                     milvus::proto::milvus::DescribeCollectionResponse* out);

// Rows of a write's columns when its num_rows is 0: the first column's
// (its valid_data flags, else its values). Throws for a column without data.
size_t NumRowsOfFieldData(const google::protobuf::RepeatedPtrField<milvus::proto::schema::FieldData>& fields);

// Columns (InsertRequest.fields_data) -> REST rows; `num_rows` 0: from the
// columns. Refuses, before making any row, a column without a name, a name
// sent twice, a column whose length does not match, and (with `schema`) a
// column that is neither a schema field nor the dynamic "$meta": over gRPC
// dynamic keys travel inside "$meta", as the SDKs send them.
nlohmann::json RowsFromFieldData(
    const google::protobuf::RepeatedPtrField<milvus::proto::schema::FieldData>& fields, uint32_t num_rows,
    const CollectionSchema* schema = nullptr);

// Columns -> a RowBatch for `schema`, without JSON, for the plain case only:
// every schema field present once with its own type and row count, no
// nulls, no dynamic or auto-ID keys, integers in range, JSON that parses.
// Anything else: nullopt (the caller falls back to RowsFromFieldData and the
// REST validation). Values are not otherwise checked here: the engine's
// ValidateBatch checks dimensions, lengths and finiteness for both paths.
std::optional<RowBatch> BatchFromFieldData(
    const google::protobuf::RepeatedPtrField<milvus::proto::schema::FieldData>& fields, uint32_t num_rows,
    const CollectionSchema& schema, WriteKind kind);

// A serialized common.PlaceholderGroup of float vectors -> REST search `data`.
nlohmann::json VectorsFromPlaceholders(const std::string& placeholder_group);

// The query vectors of a serialized common.PlaceholderGroup as row-major
// floats, for the plain case only: one FloatVector placeholder whose every
// value is `dim` float32s. Anything else: nullopt (the caller falls back to
// VectorsFromPlaceholders and the REST validation, which name the problem).
std::optional<std::vector<float>> FloatsFromPlaceholders(const std::string& placeholder_group, uint32_t dim,
                                                         size_t* num_queries);

// Engine hits -> SearchResultData without JSON: ids, scores, topks and the
// schema fields `fields` (indices, in schema order) as columns, equal to what
// SearchResultsToProto makes of the REST answer for the same hits.
void SearchHitsToProto(const CollectionSchema& schema, const std::vector<size_t>& fields,
                       const SearchResponse& response, int64_t limit,
                       milvus::proto::schema::SearchResultData* out);

// A grouping search's group values (one per hit, in answer order; schema
// field `field` at index `field_index`) -> SearchResultData's
// group_by_field_value, which pymilvus reads, and the same column as the one
// element of group_by_field_values, which the Node SDK reads. The gRPC
// Search RPC calls it after SearchHitsToProto or SearchResultsToProto alike,
// so both paths answer the same values.
void GroupValuesToProto(const FieldSchema& field, size_t field_index, const Column& values,
                        milvus::proto::schema::SearchResultData* out);

// REST search hits (flat, with topks) -> SearchResultData, the primary key
// always among the columns (as Milvus returns it). `describe` gives the
// field types: "fields" (describe's shape) and "enableDynamicField", as
// collections/describe answers and as search/query add them on request.
void SearchResultsToProto(const nlohmann::json& describe, const nlohmann::json& hits, const nlohmann::json& topks,
                          int64_t limit, milvus::proto::schema::SearchResultData* out);

// REST query rows -> QueryResults' fields_data and output_fields.
void QueryRowsToProto(const nlohmann::json& describe, const nlohmann::json& rows, const nlohmann::json& output,
                      milvus::proto::milvus::QueryResults* out);

}  // namespace ark::rpc
