// Point-in-time restore: a backup plus the archived WAL after it, replayed to
// a target time or position, into a new data directory (docs/archive.md).
//
//   1. The history to follow: the target's epoch (--epoch), else the newest
//      epoch with archived records. Its epoch document says which lsns of
//      older epochs belong to it, so records of an abandoned branch are
//      never applied.
//   2. The newest backup on that history whose position is at or before the
//      target (for a time: whose position_micros is at or before it), or the
//      one named.
//   3. The archived ranges after the backup, contiguous on the history, up to
//      the target: a time target stops before the first record newer than
//      it; a position target includes the record at the position; latest
//      takes every archived record. A gap before the target is refused,
//      naming the missing records; a target past the archive's end is
//      refused (with the end, so the user can choose --to-latest).
//   4. The backup's files plus every file the replayed file changes add are
//      fetched by hash (checked), the records become the WAL tail, and the
//      directory is seeded and opened like any restore.
//   5. A new epoch: its number (above every epoch the archive knows) is
//      reserved in the repository with its history before the database
//      starts it, so the restored database's future archive never mixes with
//      the old history.
//
// Memory: the replayed records are held in memory (the backup's tail plus
// the archived records up to the target). Thread-safety: as RestoreBackup.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/position.h"
#include "core/status.h"
#include "dr/archive/archive_index.h"
#include "dr/backup/backup.h"
#include "dr/jobs/progress.h"
#include "dr/repository/repository.h"
#include "storage/env.h"

namespace ark::dr {

struct PitrTarget {
  enum class Kind { kLatest, kTime, kPosition };
  Kind kind = Kind::kLatest;
  uint64_t time_micros = 0;  // kTime: UTC µs; records with a later timestamp are not applied
  Position position;         // kPosition: the last record applied
  std::string ToString() const;
};

struct PitrOptions {
  PitrTarget target;
  uint64_t epoch = 0;        // the history to follow; 0 = the newest with archived records
  std::string backup;        // start from this backup ("" = the newest that fits)
  std::string target_dir;
  StateFilter filter;
  int parallelism = 4;
  DatabaseOptions database_options;
};

struct PitrReport {
  std::string backup;             // the backup it started from
  Position backup_position;
  Position reached;               // the last record applied
  uint64_t reached_micros = 0;    // its timestamp
  uint64_t archived_records = 0;  // records replayed from the archive
  uint64_t ranges = 0;            // archive ranges read
  uint64_t new_epoch = 0;         // the epoch the restored database writes in
  std::vector<EpochStart> history;  // its history
  RestoreReport restore;
};

// Fetches and checks the records of `pieces` (each range whole: its blob's
// hash, every frame, lsns and epoch as its document says), clipped to the
// piece. Records come back in order, one vector per piece. Used by restore
// and by a standby catching up from the archive.
Result<std::vector<std::vector<WalRecord>>> FetchArchivedPieces(Repository* repo,
                                                                const std::vector<ArchiveIndex::Piece>& pieces,
                                                                int parallelism, Progress* progress = nullptr);

Result<PitrReport> RestoreToPointInTime(Env* env, Repository* repo, const PitrOptions& options,
                                        Progress* progress = nullptr,
                                        const std::atomic<bool>* cancelled = nullptr);

// What `ark archive status` and `backup describe` show: per history, the
// archived span, its gaps, and per backup the window it can restore to.
struct RestoreWindow {
  std::string backup;
  Position from;             // the backup's position
  uint64_t from_micros = 0;
  Position to;               // the end of the contiguous archive after it (== from if none)
  uint64_t to_micros = 0;
};
struct ArchiveStatusReport {
  uint64_t epoch = 0;                 // the history reported (newest with records)
  std::vector<EpochStart> history;
  Position first, last;               // archived span on the history
  uint64_t first_micros = 0, last_micros = 0;
  uint64_t ranges = 0, records = 0, bytes = 0, stored_bytes = 0;
  std::vector<ArchiveGap> gaps;
  std::vector<RestoreWindow> windows;  // one per backup on the history, oldest first
  std::vector<std::string> notes;      // e.g. newer epochs without archived records
};
Result<ArchiveStatusReport> GetArchiveStatus(Repository* repo, uint64_t epoch = 0);

struct ArchiveVerifyReport {
  uint64_t ranges = 0, records = 0, bytes = 0, files = 0;
  std::vector<std::string> problems;
};
// Reads every range on the history (or only those overlapping [from, to]
// when given) and checks its blob's SHA-256, every frame's checksums, that
// it holds exactly the records its document says, in order, with the
// document's times, and that every file it names is present (quick) or
// intact (full); also continuity (gaps) and overlaps. Corruption naming the
// first problems if any.
Result<ArchiveVerifyReport> VerifyArchive(Repository* repo, uint64_t epoch, Position from, Position to, bool quick,
                                          Progress* progress = nullptr);

// Prune's part: the archive documents no kept backup needs (every range
// that ends before the oldest kept backup's position; with no backup kept,
// none) and the blobs the remaining ranges reference.
struct ArchivePrunePlan {
  std::vector<std::string> remove_keys;     // range documents to delete
  std::set<std::string> referenced_hashes;  // blobs (content hashes) the kept ranges need
  uint64_t ranges_removed = 0;
};
Result<ArchivePrunePlan> PlanArchivePrune(Repository* repo, const std::vector<BackupManifest>& kept_backups);

}  // namespace ark::dr
