// Restore into a running server (docs/backup.md, "Restore into a running
// server"): chosen collections of a backup come back into a live Database,
// under their names, a suffix or new names, while it serves.
//
// The backup is restored with the ordinary restore path (RestoreBackup:
// blobs downloaded and hash-checked, the WAL after the backup's position
// replayed, row counts compared) into a staging directory inside the live
// data directory (so its files can be hard-linked); there every collection
// is sealed (all rows in segment files), its new segments indexed, and — if
// its backup held deletes of sealed rows — compacted so that no tombstone
// file remains. Then Database::ImportCollections links the files into the
// live database and logs one WAL record per collection: each appears at once
// with all its rows and indexes (the backup's index files, by hash: nothing
// is rebuilt in the live server), and standbys, the WAL archive and
// recovery follow the records. The staging directory is removed at the end
// (and by Database::Open after a crash).
//
// A name clash is refused before anything is downloaded; a restore that
// fails or is cancelled before the import leaves no collection behind.
// Thread-safety: as RestoreBackup; the Database is shared with its writers.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/status.h"
#include "dr/backup/backup.h"
#include "dr/backup/backup_state.h"
#include "dr/jobs/progress.h"
#include "dr/repository/repository.h"
#include "engine/database.h"
#include "storage/env.h"

namespace ark::dr {

struct LiveRestoreOptions {
  std::string name;    // the backup
  StateFilter filter;  // collections to restore and their new names
  int parallelism = 4;
};

struct LiveRestoreReport {
  std::vector<CollectionInfo> collections;  // as they are in the live database
  std::vector<Position> positions;          // of the import records, one per collection
  uint64_t bytes = 0;                       // plaintext bytes downloaded
  uint64_t files = 0;
  double seconds = 0;
};

// The collections the restore would create (database, name) — checked
// against `db` now: AlreadyExists naming the collection if one is taken.
Result<std::vector<CollectionName>> CheckLiveRestore(Database* db, Repository* repo, const LiveRestoreOptions& options);

Result<LiveRestoreReport> RestoreIntoDatabase(Env* env, Database* db, Repository* repo,
                                              const LiveRestoreOptions& options, Progress* progress = nullptr,
                                              const std::atomic<bool>* cancelled = nullptr);

}  // namespace ark::dr
