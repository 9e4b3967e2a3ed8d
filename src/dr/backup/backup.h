// Backup and restore of an Ark database to a backup repository
// (docs/backup.md; formats: docs/formats/backup-repository.md).
//
// CreateBackup takes one consistent cut of the database (Database::
// GetConsistentCut: the last committed manifest, pinned, plus the position of
// the last applied record) while writes go on, keeps the chosen collections
// (BackupState), uploads the blobs the repository lacks in parallel, and
// writes the backup manifest last — the commit point. A backup that fails or
// is cancelled leaves no manifest (blobs it uploaded are garbage that prune
// collects after the grace period).
//
// RestoreBackup downloads and hash-checks every blob into a staging directory
// beside the target, writes the engine manifest and the WAL tail there,
// renames the staging directory to the target, and opens the result with the
// engine's ordinary recovery, comparing row counts with the backup's; if that
// fails the directory is renamed away and removed: a restore that fails
// part-way leaves nothing at the target. Index files come
// from the backup, so the restored database searches with its indexes at once.
//
// Time and local files: CreateBackup, VerifyBackup and PruneBackups read the
// clock (backup names and times, lease expiry, the prune grace period) and
// local files through repo->env() (Repository::Open's Env); RestoreBackup
// through its `env`. Nothing here reads a clock of its own.
//
// Thread-safety: the functions may run concurrently on different backups;
// the repository's leases keep a prune from deleting what a running backup
// relies on.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "dr/backup/backup_manifest.h"
#include "dr/backup/backup_state.h"
#include "dr/backup/retention.h"
#include "dr/jobs/progress.h"
#include "dr/repository/repository.h"
#include "engine/database.h"
#include "storage/env.h"

namespace ark::dr {

struct BackupOptions {
  std::string name;                         // empty: "ark-YYYYMMDD-HHMMSS" (UTC)
  std::vector<CollectionName> collections;  // empty: every collection, across databases
  int parallelism = 4;                      // concurrent blob uploads
  std::string source;                       // recorded in the manifest (data dir or server)
  uint64_t lease_ttl_micros = 3600ull * 1000000;  // renewed while the backup runs
};

Result<BackupManifest> CreateBackup(Database* db, Repository* repo, const BackupOptions& options,
                                    Progress* progress = nullptr,
                                    const std::atomic<bool>* cancelled = nullptr);

// Every committed backup, oldest first. A manifest that does not decode is
// reported as an error naming it (never skipped silently).
Result<std::vector<BackupManifest>> ListBackups(Repository* repo);
Result<BackupManifest> LoadBackup(Repository* repo, const std::string& name);
// Removes the backup's manifest (its blobs go at the next prune).
Status DeleteBackup(Repository* repo, const std::string& name);

struct VerifyReport {
  uint64_t blobs_checked = 0;
  uint64_t bytes_checked = 0;
  std::vector<std::string> problems;  // one line per bad blob: kind, hash, what is wrong
};
// Re-reads every blob of the backup and checks its hash (quick: presence and
// stored size only). Returns the report; Corruption naming the backup and the
// first bad blobs if any check failed.
Result<VerifyReport> VerifyBackup(Repository* repo, const std::string& name, bool quick, int parallelism = 4,
                                  Progress* progress = nullptr,
                                  const std::atomic<bool>* cancelled = nullptr);

struct PruneOptions {
  RetentionPolicy policy;       // empty: remove no backup, only collect garbage
  bool dry_run = false;
  uint64_t grace_micros = 3600ull * 1000000;  // unreferenced blobs younger than this stay
  // If set, the policy applies only to backups whose name starts with it (a
  // schedule's own backups); the others are kept. Blob collection is global.
  std::string only_prefix;
};
struct PruneReport {
  std::vector<std::string> kept;
  std::vector<std::string> removed;
  uint64_t blobs_deleted = 0;
  uint64_t bytes_freed = 0;      // stored bytes
  uint64_t blobs_in_grace = 0;   // unreferenced but younger than the grace period
  uint64_t archive_ranges_removed = 0;  // archived WAL ranges older than every kept backup
};
// Applies the retention policy (removing backup manifests), removes archived
// WAL ranges that end before the oldest kept backup (dr/archive/pitr.h), and
// deletes blobs no remaining backup or range references. Refuses (Unavailable) while a backup holds
// an unexpired lease on the repository.
Result<PruneReport> PruneBackups(Repository* repo, const PruneOptions& options);

struct RestoreOptions {
  std::string name;
  std::string target_dir;  // must not exist, or be an empty directory
  StateFilter filter;      // collections to restore and their new names
  int parallelism = 4;
  // Hand the database opened for the check back in the report (with these
  // options) instead of closing it: a caller that serves the restored data
  // in-process then pays the open once.
  bool keep_open = false;
  DatabaseOptions database_options;
};
struct RestoreReport {
  std::vector<CollectionInfo> collections;  // as opened from the restored directory
  uint64_t bytes = 0;                       // plaintext bytes written
  uint64_t files = 0;
  double seconds = 0;
  std::unique_ptr<Database> database;       // with keep_open: the restored database, open
};
Result<RestoreReport> RestoreBackup(Env* env, Repository* repo, const RestoreOptions& options,
                                    Progress* progress = nullptr,
                                    const std::atomic<bool>* cancelled = nullptr);

// ---- the steps of a restore, shared with point-in-time restore (dr/archive/pitr.h) ----

// OK if `dir` does not exist or is an empty directory; FailedPrecondition otherwise.
Status CheckRestoreTarget(Env* env, const std::string& dir);
// A backup's engine manifest and WAL tail, checked against its manifest.
Result<BackupState> LoadBackupState(Repository* repo, const BackupManifest& bm);
// What ExecuteRestore builds.
struct RestorePlan {
  std::string where;                  // names the source in messages
  BackupState state;                  // filtered; its tail replays at open
  std::vector<BackupBlobRef> files;   // every file the manifest and the tail's file changes need
  std::map<uint64_t, uint64_t> expected_rows;  // collection id -> live rows after open (checked)
  // Called on the opened database before it is closed or handed back (a
  // point-in-time restore starts its new epoch here).
  std::function<Status(Database*)> after_open;
};
// Downloads the files into a staging directory beside options.target_dir,
// seeds it, renames it into place and opens it (checking the rows); on any
// failure nothing is left at the target. options.name and filter are unused.
Result<RestoreReport> ExecuteRestore(Env* env, Repository* repo, const RestorePlan& plan,
                                     const RestoreOptions& options, Progress* progress = nullptr,
                                     const std::atomic<bool>* cancelled = nullptr);

// "ark-20261126-023000" for a wall-clock time in UTC µs.
std::string DefaultBackupName(uint64_t wall_micros);

}  // namespace ark::dr
