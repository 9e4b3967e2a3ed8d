// BackupManifest: the document backups/<name>.json of a backup repository,
// written last — a backup without it does not exist
// (docs/formats/backup-repository.md, "Backup manifest").
//
// It names every blob the backup needs: the engine manifest at the cut
// (filtered to the chosen collections; docs/formats/manifest.md), the WAL
// records after that manifest's checkpoint up to the cut position (a WAL
// segment image, docs/formats/wal.md), and the segment, tombstone and index
// files the engine manifest lists. Pure value type + JSON codec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/position.h"
#include "core/status.h"

namespace ark::dr {

inline constexpr uint32_t kBackupManifestVersion = 1;

struct BackupBlobRef {
  std::string kind;          // "manifest" | "wal" | "segment" | "tombstone" | "index"
  std::string hash;          // SHA-256 hex of the plaintext (the engine's file name)
  uint64_t size = 0;         // plaintext bytes
  uint64_t stored_size = 0;  // bytes in the repository
  bool operator==(const BackupBlobRef&) const = default;
};

struct BackupCollection {
  uint64_t id = 0;
  std::string database;
  std::string name;
  uint64_t rows = 0;          // live rows at the cut position
  uint64_t segments = 0;      // sealed segments in the backup
  uint64_t index_files = 0;   // built index files in the backup
  uint64_t bytes = 0;         // plaintext bytes of its files
  // The content checksum of its rows at the cut (docs/formats/
  // content-checksum.md); "" in backups made before it was recorded.
  std::string checksum;
  bool operator==(const BackupCollection&) const = default;
};

struct BackupStats {
  uint64_t total_bytes = 0;         // plaintext bytes of every blob the backup names
  uint64_t new_bytes = 0;           // plaintext bytes uploaded by this backup
  uint64_t new_stored_bytes = 0;    // bytes those blobs take in the repository
  uint64_t reused_bytes = 0;        // plaintext bytes already in the repository
  uint64_t new_blobs = 0;
  uint64_t reused_blobs = 0;
  double seconds = 0;
  bool operator==(const BackupStats&) const = default;
};

struct BackupManifest {
  uint32_t format_version = kBackupManifestVersion;
  std::string name;
  uint64_t started_micros = 0;     // wall clock UTC µs
  uint64_t completed_micros = 0;
  std::string ark_version;
  std::string source;              // the data directory (or server) backed up
  Position position;               // the cut: the backup is the database at this position
  // The time of the cut: no record at or before `position` is newer (the
  // timestamp of the record at the position, or the engine manifest's
  // commit time). Point-in-time restore picks backups by it.
  uint64_t position_micros = 0;
  Position checkpoint;             // the engine manifest's checkpoint (WAL replay starts after it)
  uint64_t wal_records = 0;        // records in the WAL blob
  std::vector<BackupCollection> collections;
  std::vector<BackupBlobRef> blobs;  // the manifest blob first, then the WAL blob, then files
  std::string parent;              // the newest earlier backup sharing blobs ("" if none)
  BackupStats stats;
  bool operator==(const BackupManifest&) const = default;

  const BackupBlobRef* Find(const std::string& kind) const;  // first blob of a kind
};

nlohmann::json BackupManifestToJson(const BackupManifest& m);
// Validates every field; Corruption naming `where` and the field otherwise,
// NotSupported for a newer format version.
Result<BackupManifest> BackupManifestFromJson(const nlohmann::json& j, const std::string& where);

}  // namespace ark::dr
