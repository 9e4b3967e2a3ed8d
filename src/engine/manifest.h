// Manifest: one version of a database's durable state.
//
// It lists every collection (database, name, id, schema), the content-addressed
// segment and tombstone files holding its sealed rows (and, per segment and
// vector field, index files), the epoch history, and
// the positions that say which WAL records are already inside the files:
//
//   applied     every record at or before it is reflected (DDL fully, data in
//               files or, for data after a collection's `flushed`, in the WAL)
//   flushed     (per collection) every data record of that collection at or
//               before it is inside the collection's files
//   checkpoint  min(applied, every flushed): recovery replays the WAL after it
//
// Files: MANIFEST-<version> (32-byte binary header with magic, format version,
// body length and XXH3 of the body, then a JSON body), and CURRENT naming the
// live manifest. See docs/formats/manifest.md. Pure value type plus pure
// encode/decode and commit helpers; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/position.h"
#include "core/status.h"
#include "engine/collection_load_state.h"
#include "engine/index_definition.h"
#include "engine/schema.h"
#include "storage/env.h"

namespace ark {

struct ManifestSegment {
  std::string file;  // SHA-256 hex
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t min_lsn = 0;
  uint64_t max_lsn = 0;
  // vector field name -> index file names (SHA-256 hex; one per field today).
  std::map<std::string, std::vector<std::string>> index_files;
  // Non-zero for a segment imported from another database (a restore into a
  // running server, FileChange "import"): every row's insert lsn is this one
  // (the import record's), not the lsn the file stores, which counts in the
  // other database's WAL (version 6; "rowLsn", absent when zero).
  uint64_t row_lsn = 0;
  bool operator==(const ManifestSegment&) const = default;
};

struct ManifestCollection {
  uint64_t id = 0;
  std::string database;
  std::string name;
  CollectionSchema schema;
  Position created;
  Position flushed;
  int64_t next_auto_id = 1;
  std::vector<ManifestSegment> segments;
  std::vector<std::string> tombstone_files;  // SHA-256 hex, oldest first
  std::vector<IndexDefinition> indexes;       // one per indexed vector field
  std::map<std::string, int64_t> partitions;  // besides "_default" (version 3)
  int64_t next_partition_id = 1;              // (version 3)
  std::map<std::string, std::string> properties;  // Milvus collection properties (version 5)
  CollectionLoadState load;                       // (version 5; older: fully loaded)
  bool operator==(const ManifestCollection&) const = default;
};

struct ManifestAlias {
  std::string database;
  std::string alias;
  uint64_t collection_id = 0;
  bool operator==(const ManifestAlias&) const = default;
};

struct Manifest {
  uint64_t version = 0;  // grows by one at every commit
  uint64_t created_micros = 0;  // wall clock at commit (UTC)
  std::vector<EpochStart> epochs;
  Position applied;
  Position checkpoint;
  uint64_t next_collection_id = 1;
  std::vector<ManifestCollection> collections;
  std::vector<std::string> databases;    // created databases besides "default" (version 2)
  std::vector<ManifestAlias> aliases;    // (version 2)
  // database -> property -> value (version 3)
  std::map<std::string, std::map<std::string, std::string>> database_properties;
  // Files no collection lists any more, kept on disk for the WAL consumers
  // (durable slots) that may still replay the records naming them: file ->
  // the position of the manifest that stopped listing it (version 4). A file
  // leaves the map (and the disk) once every slot has passed that position.
  std::map<std::string, Position> retired;
  bool operator==(const Manifest&) const = default;

  // Every content-addressed file a collection lists (not `retired`).
  std::set<std::string> LiveFiles() const;
  uint64_t CurrentEpoch() const { return epochs.empty() ? 0 : epochs.back().epoch; }
};

// One collection entry as the manifest (and the WAL's "import" file-change
// record) spells it; FromJson: Corruption naming the bad field.
nlohmann::json ManifestCollectionToJson(const ManifestCollection& c);
Result<ManifestCollection> ManifestCollectionFromJson(const nlohmann::json& j);

// One segment entry as the manifest (and the WAL's file-change records) spell it.
nlohmann::json ManifestSegmentToJson(const ManifestSegment& s);
// Corruption naming the bad field.
Result<ManifestSegment> ManifestSegmentFromJson(const nlohmann::json& j);

std::string ManifestFileName(uint64_t version);
std::string EncodeManifest(const Manifest& m);
// Verifies magic, version and checksum; Corruption naming `name` otherwise.
Result<Manifest> DecodeManifest(std::string_view data, const std::string& name);
nlohmann::json ManifestToJson(const Manifest& m);

// Writes MANIFEST-<version> (temp, fsync, rename, fsync dir) and then points
// CURRENT at it the same way. Once this returns OK the manifest is durable.
Status CommitManifest(Env* env, const std::string& dir, const Manifest& m);
// CURRENT -> manifest. NotFound if `dir` has no CURRENT (a new database).
Result<Manifest> LoadCurrentManifest(Env* env, const std::string& dir, std::string* file_name);

}  // namespace ark
