// FileChange: the WAL record (engine op kOpFileChange = 107) that logs one
// change of a collection's files in the manifest — a seal, an index build, or
// a compaction — naming every file added and removed by its SHA-256.
//
// Why: the manifest's files are the result of work (sealing rows, building a
// graph, rewriting segments) that is not deterministic across machines (an
// HNSW build with threads differs run to run; a seal point depends on
// timing). With the change logged, whoever replays the WAL — recovery, a
// point-in-time restore, a standby — fetches the named files by hash instead
// of redoing the work, so every copy of a database holds byte-identical files.
//
// The record is appended (under the write lock) after its files are written
// and synced, and applied by Database::ApplyRecord — the same function on the
// primary that made the change and on every copy that replays it.
//
// Body: JSON, specified in docs/formats/manifest.md ("WAL bodies"):
//   {"kind": "seal", "sealPoint": "E/L", "segment": <segment entry> | absent,
//    "tombstone": hex | absent, "added": [hex], "removed": []}
//   {"kind": "index", "segment": hex, "field": name, "index": <definition>,
//    "file": hex, "added": [hex], "removed": [hex of the replaced index file]}
//   {"kind": "compact", "snapshotLsn": S, "replaced": [hex, in segment order],
//    "segments": [<segment entry>], "droppedTombstones": [hex],
//    "added": [hex], "removed": [hex]}
//   {"kind": "import", "collection": <collection entry>, "added": [hex], "removed": []}
// An import (a restore into a running server) brings a whole collection —
// schema, properties, load state, partitions, index definitions, sealed
// segments with their index files — from another database: the record's
// collection id is the new collection's, its entry's id/created/flushed are
// ignored (the record's position is both), its segments' rows take the
// record's lsn (ManifestSegment::row_lsn), and it names no tombstone files.
// `added`/`removed` list every file of the change, so a consumer (archiver,
// standby) can fetch or pin the files without knowing the kinds.
// Pure value type and pure encode/decode; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/position.h"
#include "core/status.h"
#include "engine/index_definition.h"
#include "engine/manifest.h"

namespace ark {

inline constexpr uint16_t kOpFileChange = 107;

enum class FileChangeKind { kSeal, kIndex, kCompact, kImport };

struct FileChange {
  FileChangeKind kind = FileChangeKind::kSeal;
  // kSeal: rows of the collection's growing segment with lsn <= seal_point
  // that are live at it went into `segment` (absent if none were live), the
  // pending deletes of sealed rows with lsn <= seal_point into `tombstone`.
  Position seal_point;
  bool has_segment = false;
  ManifestSegment segment;  // kSeal: the new segment; kIndex: unused
  std::string tombstone;    // kSeal: SHA-256 hex or empty
  // kIndex: the index file built for `index_segment`'s field `field`.
  std::string index_segment;
  std::string field;
  IndexDefinition index;
  std::string index_file;
  std::string replaced_index_file;  // the file it replaces, or empty
  // kCompact: rows of `replaced` (in this order) visible at snapshot_lsn went,
  // in order, into `segments` (each with its index files).
  uint64_t snapshot_lsn = 0;
  std::vector<std::string> replaced;
  std::vector<ManifestSegment> segments;
  std::vector<std::string> dropped_tombstones;
  // kImport: the collection as it enters (database and name are the new ones).
  ManifestCollection imported;

  // Every file the change adds / removes (SHA-256 hex), derived from the above.
  std::vector<std::string> Added() const;
  std::vector<std::string> Removed() const;
};

std::string_view FileChangeKindName(FileChangeKind kind);
std::string EncodeFileChange(const FileChange& change);
// Corruption naming the record's position on any malformed field.
Result<FileChange> DecodeFileChange(std::string_view body, Position at);

}  // namespace ark
