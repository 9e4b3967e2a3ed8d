// Request parsing and reply shaping shared by the Milvus entity and index
// routes: output-field projection, the search `data` vectors, limit/offset
// with Milvus's 16384 window, and int64-as-string rendering.
//
// Errors are Status values (InvalidArgument -> code 1100) except a missing
// required parameter, which throws HandlerError with code 1802 (as
// RequiredString does); HttpServer catches it at the module's edge.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/row_batch.h"
#include "engine/schema.h"
#include "server/milvus_error.h"

namespace ark::server {

[[noreturn]] void ThrowApi(MilvusCode code, std::string message);
// Throws code 1802 "missing required parameters, error: <key> is required".
[[noreturn]] void ThrowMissing(const char* key);

// Which columns of a row a reply carries (Milvus outputFields). The primary
// key is always included. "*" selects every field and every dynamic key;
// "$meta" every dynamic key; other names are schema fields or, with the
// dynamic field on, dynamic keys (returned when the row has them).
class OutputProjection {
 public:
  // `fields` is the request's outputFields (null/absent = none).
  // InvalidArgument naming the field when it is unknown and the dynamic field
  // is off, or when outputFields is not an array of strings.
  static Result<OutputProjection> Make(const CollectionSchema& schema,
                                       const std::string& collection, const nlohmann::json& fields);
  // Everything (entities/get without outputFields).
  static OutputProjection All(const CollectionSchema& schema);

  // Row `row` of `batch`, projected; Int64 values as strings when asked.
  nlohmann::json Row(const RowBatch& batch, size_t row, bool int64_as_string) const;
  // The columns Row() reads (one flag per column of the collection's
  // RowBatch), for SearchRequest::output_columns: the hits then carry, and
  // sealed segments decode, only those.
  std::vector<bool> Columns() const;
  // The schema fields Row() returns (indices, in schema order, the primary
  // key among them), for a transport that answers in columns; nullopt when
  // dynamic keys are asked for (they exist only per row, in "$meta").
  std::optional<std::vector<size_t>> SchemaFields() const;
  bool wants_count() const { return count_; }
  bool only_count() const { return count_ && fields_.empty() && !all_dynamic_ && dynamic_.empty(); }

 private:
  const CollectionSchema* schema_ = nullptr;
  std::set<std::string> fields_;   // schema fields to return (always the pk)
  std::set<std::string> dynamic_;  // dynamic keys asked for by name
  bool all_dynamic_ = false;
  bool count_ = false;  // "count(*)" was asked for
};

// Search/query window: limit (default `default_limit`) and offset, each a
// non-negative integer, limit + offset <= max_window (limits.max_limit_offset,
// Milvus's 16384 by default; never above the engine's kMaxSearchWindow).
struct Window {
  size_t limit = 0;
  size_t offset = 0;
  bool limit_given = false;
};
Result<Window> ParseWindow(const nlohmann::json& body, const std::string& collection,
                           size_t default_limit, size_t max_window);

// The `data` of a search: an array of `dim`-float vectors (or one vector).
// Returns them row-major; InvalidArgument naming the collection, the vector
// index and the dimensions on a mismatch or a non-number.
Result<std::vector<float>> ParseQueryVectors(const nlohmann::json& data,
                                             const std::string& collection, uint32_t dim,
                                             size_t* num_queries);

// Optional string member (absent/null = fallback); InvalidArgument if not a string.
Result<std::string> OptionalString(const nlohmann::json& body, const char* key,
                                   const std::string& fallback = "");

// The vector field a search targets: `anns_field`, or the only FloatVector
// field; InvalidArgument naming the collection otherwise.
Result<const FieldSchema*> VectorField(const CollectionSchema& schema,
                                       const std::string& collection,
                                       const std::string& anns_field);

// Primary keys from an `id` value (one key or an array). Int64 keys may come
// as decimal strings. InvalidArgument naming the collection and the value.
Result<std::vector<PrimaryKey>> KeysFromJson(const nlohmann::json& ids, const FieldSchema& pk,
                                             const std::string& collection);

// One entry of Milvus's indexParams (collections/create, indexes/create).
struct IndexRequest {
  std::string field;
  std::string index_name;  // default: the field name
  std::string type;        // indexType or params.index_type; default AUTOINDEX
  std::string metric;      // "" = the engine's default (COSINE)
  nlohmann::json params = nlohmann::json::object();  // without index_type
};
// Parses and validates (against `schema`, through MakeIndexDefinition) every
// entry, so that a bad one is refused before anything is written.
// (Defined in milvus_indexes.cc.)
Result<std::vector<IndexRequest>> IndexRequestsFromJson(const nlohmann::json& index_params,
                                                        const CollectionSchema& schema,
                                                        const std::string& collection);

}  // namespace ark::server
