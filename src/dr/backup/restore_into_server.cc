#include "dr/backup/restore_into_server.h"

#include <chrono>
#include <random>

#include <fmt/format.h>

#include "core/hash.h"
#include "engine/manifest_format.h"

namespace ark::dr {

namespace {

bool IsCancelled(const std::atomic<bool>* cancelled) {
  return cancelled != nullptr && cancelled->load(std::memory_order_relaxed);
}

std::string StagingName() {
  std::random_device rd;
  std::string raw;
  for (int i = 0; i < 6; ++i) raw.push_back(static_cast<char>(rd() & 0xff));
  return std::string(manifest_format::kRestoreStagingPrefix) + ToHex(raw.data(), raw.size());
}

}  // namespace

Result<std::vector<CollectionName>> CheckLiveRestore(Database* db, Repository* repo,
                                                     const LiveRestoreOptions& options) {
  if (db->IsFollower()) {
    return Status::FailedPrecondition(
        "restore into a running server refused: this server is a follower (a standby); restore into its primary");
  }
  ARK_ASSIGN_OR_RETURN(BackupManifest bm, LoadBackup(repo, options.name));
  ARK_ASSIGN_OR_RETURN(BackupState state, LoadBackupState(repo, bm));
  ARK_ASSIGN_OR_RETURN(BackupState filtered, FilterState(state, options.filter));
  ARK_ASSIGN_OR_RETURN(auto at_position, CollectionsAtPosition(filtered));
  std::vector<CollectionName> names;
  std::vector<std::pair<std::string, std::string>> targets;
  for (const auto& [id, n] : at_position) {
    names.push_back(n);
    targets.push_back({n.database, n.name});
  }
  if (names.empty()) {
    return Status::InvalidArgument(fmt::format("backup '{}' holds no collection to restore", options.name));
  }
  ARK_RETURN_IF_ERROR(db->CheckImportTargets(targets));
  return names;
}

Result<LiveRestoreReport> RestoreIntoDatabase(Env* env, Database* db, Repository* repo,
                                              const LiveRestoreOptions& options, Progress* progress,
                                              const std::atomic<bool>* cancelled) {
  const uint64_t started = env->WallMicros();
  // Refused before anything is downloaded.
  ARK_ASSIGN_OR_RETURN(auto names, CheckLiveRestore(db, repo, options));
  const std::string where = fmt::format("restore of backup '{}' into the running server", options.name);

  // Staging inside the data directory: the same filesystem, so files link.
  const std::string staging = JoinPath(db->dir(), StagingName());
  struct Cleanup {
    Env* env;
    std::string dir;
    std::unique_ptr<Database> staged;
    ~Cleanup() {
      staged.reset();  // closed before its directory goes
      (void)env->RemoveAll(dir);
    }
  } cleanup{env, staging, nullptr};
  RestoreOptions ro;
  ro.name = options.name;
  ro.target_dir = staging;
  ro.filter = options.filter;
  ro.parallelism = options.parallelism;
  ro.keep_open = true;
  ro.database_options.index_build_threads = 1;
  ro.database_options.auto_seal = false;
  // A compaction (only run to fold deletes away) rewrites every segment, so
  // that every tombstone file can go.
  ro.database_options.compaction_deleted_fraction = 0.0;
  ARK_ASSIGN_OR_RETURN(RestoreReport restored, RestoreBackup(env, repo, ro, progress, cancelled));
  cleanup.staged = std::move(restored.database);
  Database* staged = cleanup.staged.get();
  auto check_cancel = [&]() -> Status {
    if (IsCancelled(cancelled)) return Status::Cancelled(where + " cancelled; nothing restored");
    return Status::OK();
  };
  auto wait_builds = [&]() -> Status {
    while (!staged->WaitForIndexBuilds(std::chrono::milliseconds(200))) ARK_RETURN_IF_ERROR(check_cancel());
    return check_cancel();
  };
  ARK_RETURN_IF_ERROR(check_cancel());
  // Every row into a segment file, and the new segments indexed.
  for (const auto& n : names) {
    ARK_RETURN_IF_ERROR(staged->Flush(n.database, n.name).WithContext(where));
  }
  ARK_RETURN_IF_ERROR(wait_builds());
  // Deletes of sealed rows (tombstone files) folded away.
  Manifest m = staged->CurrentManifest();
  bool compacted = false;
  for (const auto& c : m.collections) {
    if (c.tombstone_files.empty()) continue;
    ARK_RETURN_IF_ERROR(staged->Compact(c.database, c.name).status().WithContext(where));
    compacted = true;
  }
  if (compacted) {
    ARK_RETURN_IF_ERROR(wait_builds());
    m = staged->CurrentManifest();
  }
  for (const auto& c : m.collections) {
    if (!c.tombstone_files.empty()) {
      return Status::Internal(fmt::format("{}: collection {}.{} still has {} tombstone files after compaction",
                                          where, c.database, c.name, c.tombstone_files.size()));
    }
  }
  ARK_RETURN_IF_ERROR(check_cancel());
  LiveRestoreReport report;
  ARK_ASSIGN_OR_RETURN(report.positions, db->ImportCollections(m.collections, staged->FilesDir(), cancelled));
  for (const auto& c : m.collections) {
    auto info = db->DescribeCollection(c.database, c.name);
    if (info.ok()) report.collections.push_back(std::move(info).value());
  }
  report.bytes = restored.bytes;
  report.files = restored.files;
  report.seconds = static_cast<double>(env->WallMicros() - started) / 1e6;
  return report;
}

}  // namespace ark::dr
