// IndexDefinition: a vector index declared on one field of a collection
// (Milvus create_index). The definition is collection metadata — logged as a
// kCreateIndex / kDropIndex WAL record and kept in the manifest — while the
// built indexes are per-segment content-addressed files (docs/formats/index.md)
// listed in the manifest under each segment.
//
// One index per vector field. Re-creating an index on a field with other
// parameters replaces the definition; segments keep serving from their old
// index file until the new one is built and committed.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "engine/schema.h"
#include "index/index_spec.h"

namespace ark {

struct IndexDefinition {
  std::string index_name;  // unique within the collection; default: the field name
  std::string field_name;  // a FloatVector field
  std::string index_type;  // as requested ("AUTOINDEX", "HNSW", ...), for describe
  IndexSpec spec;          // resolved (AUTOINDEX mapped), dim = the field's
  nlohmann::json params = nlohmann::json::object();  // as requested, for describe

  bool operator==(const IndexDefinition&) const = default;

  nlohmann::json ToJson() const;
  static Result<IndexDefinition> FromJson(const nlohmann::json& j);
};

// Resolves a Milvus index request against `schema`: the field must exist and
// be a FloatVector; the type and metric must parse; params must fit the type.
// InvalidArgument naming the collection, field and parameter otherwise.
Result<IndexDefinition> MakeIndexDefinition(const CollectionSchema& schema,
                                            std::string_view collection, std::string index_name,
                                            const std::string& field_name,
                                            const std::string& index_type,
                                            const std::string& metric_type,
                                            const nlohmann::json& params);

// Build state of one index, as describe_index reports it.
struct IndexInfo {
  IndexDefinition definition;
  uint64_t total_rows = 0;    // rows in sealed segments + growing rows
  uint64_t indexed_rows = 0;  // rows in sealed segments whose index matches the definition
  uint64_t pending_rows = 0;  // rows in sealed segments still waiting for a build
  uint64_t segments = 0;       // sealed segments
  uint64_t indexed_segments = 0;
  std::string state;           // "Finished", "InProgress", "Failed"
  std::string fail_reason;     // the last build error, if any
};

}  // namespace ark
