// BackupState: the database at one position as a backup holds it — an engine
// manifest plus the WAL records after its checkpoint up to the position —
// and the pure transformations backup and restore apply to it: keep only
// some collections, rename them, and write the records back as WAL segment
// images that Database::Open replays with its ordinary recovery.
//
// Records of collections that are not kept are not dropped but replaced by
// kCheckpoint records at the same position (which carry no state), so the
// restored log stays contiguous (docs/formats/wal.md: a gap is corruption)
// and every kept record keeps its original position — the per-collection
// `flushed` positions in the manifest keep their meaning.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/position.h"
#include "core/status.h"
#include "engine/manifest.h"
#include "wal/wal_record.h"

namespace ark::dr {

struct BackupState {
  Manifest manifest;
  std::vector<WalRecord> tail;  // (manifest.checkpoint, position], lsns contiguous
  Position position;
};

// A collection as users name it: "name" (database "default") or "database.name".
struct CollectionName {
  std::string database = "default";
  std::string name;
  auto operator<=>(const CollectionName&) const = default;
  std::string ToString() const { return database + "." + name; }
};
// InvalidArgument naming the text if it is not a valid "name" or "db.name".
Result<CollectionName> ParseCollectionName(std::string_view text);

struct StateFilter {
  std::vector<CollectionName> select;              // empty: every collection at the position
  std::map<CollectionName, CollectionName> rename;  // by the name at the position
  std::string suffix;                              // appended to every kept name not renamed
};

// The collections that exist at state.position, id -> name (the manifest's
// collections with the tail's creates, renames and drops applied).
Result<std::map<uint64_t, CollectionName>> CollectionsAtPosition(const BackupState& state);

// Keeps the selected collections and renames them. NotFound naming a selected
// collection that does not exist at the position; InvalidArgument for a
// rename of a collection that is not kept, an invalid target name, or two
// collections ending up with one name. Aliases of dropped collections go; a
// renamed collection's target database is created if needed.
Result<BackupState> FilterState(const BackupState& in, const StateFilter& filter);

// The tail as WAL segment files: {file name, bytes}, one per epoch, the first
// starting at manifest.checkpoint.lsn + 1. An empty tail yields one segment
// with no records starting at position.lsn + 1 (so the log ends at the position).
std::vector<std::pair<std::string, std::string>> EncodeWalSegments(const BackupState& state);

// Encodes the tail records as one byte string (WAL frames, docs/formats/wal.md)
// and decodes it back, checking every frame; Corruption naming `where`.
std::string EncodeTail(const std::vector<WalRecord>& tail);
Result<std::vector<WalRecord>> DecodeTail(std::string_view bytes, const std::string& where);

}  // namespace ark::dr
