// The simdjson request path of the hot Milvus routes: entities/insert,
// entities/upsert and entities/search.
//
// HttpServer hands these routes' raw bodies to ParseWriteBody /
// ParseSearchBody (BodyParsers, see http_server.h) instead of building an
// nlohmann tree of the whole body. The body is parsed once with a simdjson
// DOM parser, which validates all of it (UTF-8, structure, numbers), in
// place (the POST body carries kBodyPadding spare bytes). The big member,
// `data`, stays in the DOM; every other top-level member is converted to
// nlohmann and left in ctx.body, so that dbName, collectionName,
// partitionName(s), limit, searchParams, filter, outputFields... go through
// the same code as before.
//
// In the handler, once the schema is known, RowBatchFromDom and
// QueryVectorsFromDom turn `data` into columns / floats directly. They accept
// only what the nlohmann path accepts, with the same values; on anything else
// (a wrong type, a wrong dim, a missing field, a number out of range...)
// they return nullopt and the handler throws ReparseBody, so the generic path
// runs and answers with exactly its code and message. Whatever simdjson
// refuses (invalid JSON, numbers beyond double, depth > 1024) the generic
// parse answers too.
//
// Thread-safety: the parse functions are thread-safe (DOM parsers come from a
// small shared pool); a parsed request is used by one thread.
#pragma once

#include <simdjson.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/row_batch.h"
#include "server/http_server.h"

namespace ark::server {

// A DOM parser borrowed from a shared pool; returned when destroyed. The
// document it parsed (and every element of it) lives as long as the lease.
class DomParserLease {
 public:
  DomParserLease();
  ~DomParserLease();
  DomParserLease(const DomParserLease&) = delete;
  DomParserLease& operator=(const DomParserLease&) = delete;
  simdjson::dom::parser& parser() { return *parser_; }

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
};

// entities/insert and entities/upsert.
struct FastWriteRequest : ParsedBody {
  DomParserLease lease;  // owns the document `data` points into
  bool has_data = false;  // `data` present and not null
  simdjson::dom::element data;
  std::string partition_name;  // "partitionName" when a string, else ""
};

// entities/search.
struct FastSearchRequest : ParsedBody {
  DomParserLease lease;
  bool has_data = false;
  simdjson::dom::element data;
  std::vector<std::string> partition_names;  // "partitionNames" when an array of strings
};

// BodyParsers for HttpServer::RegisterMilvusFast.
std::unique_ptr<ParsedBody> ParseWriteBody(const std::string& raw, nlohmann::json* body);
std::unique_ptr<ParsedBody> ParseSearchBody(const std::string& raw, nlohmann::json* body);

// The rows of `data` (an array of row objects, or one object) as a batch,
// equal to RowBatchFromJson's for the same JSON; nullopt when RowBatchFromJson
// would fail, when there are no rows or more than `max_rows`, or when the
// input is beyond what the fast path handles.
std::optional<RowBatch> RowBatchFromDom(const CollectionSchema& schema,
                                        simdjson::dom::element data, WriteKind kind,
                                        size_t max_rows);

// The query vectors of a search's `data` (as ParseQueryVectors: an array of
// `dim`-number arrays, or one bare vector), row-major; nullopt when
// ParseQueryVectors would fail.
std::optional<std::vector<float>> QueryVectorsFromDom(simdjson::dom::element data, uint32_t dim,
                                                      size_t* num_queries);

// The nlohmann value of a DOM element (objects keep the last of duplicate
// keys, as nlohmann's parser does).
nlohmann::json DomToJson(simdjson::dom::element e);

}  // namespace ark::server
