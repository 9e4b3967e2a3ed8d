#include "dr/backup/backup.h"

#include "engine/content_checksum.h"
#include "engine/dr_seam.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/hash.h"
#include "dr/archive/pitr.h"
#include "dr/jobs/parallel_for.h"
#include "dr/lease/lease.h"
#include "dr/repository/repository_lease_table.h"
#include "engine/manifest.h"

#ifndef ARK_VERSION
#define ARK_VERSION "0.1.0"
#endif

namespace ark::dr {
namespace {

constexpr char kBackupsPrefix[] = "backups/";

std::string BackupKey(const std::string& name) { return kBackupsPrefix + name + ".json"; }

std::string RandomHex(size_t bytes) {
  std::random_device rd;
  std::string raw;
  for (size_t i = 0; i < bytes; ++i) raw.push_back(static_cast<char>(rd() & 0xff));
  return ToHex(raw.data(), raw.size());
}

bool IsCancelled(const std::atomic<bool>* cancelled) {
  return cancelled != nullptr && cancelled->load(std::memory_order_relaxed);
}

// A lease of `kind` on the repository, refused while a `conflicting` one is
// live (dr/lease/lease.h), judged by the repository's clock.
Result<std::unique_ptr<Lease>> AcquireRepositoryLease(Repository* repo, RepositoryLeaseTable* table,
                                                      const std::string& kind, const std::string& conflicting,
                                                      const std::string& description, uint64_t ttl_micros) {
  LeaseOptions options;
  options.kind = kind;
  options.conflicts = {conflicting};
  options.description = description;
  options.ttl_micros = ttl_micros;
  return Lease::Acquire(table, repo->env(), std::move(options));
}

// Kind of each file an engine manifest lists.
std::map<std::string, std::string> FileKinds(const Manifest& m) {
  std::map<std::string, std::string> kinds;
  for (const auto& c : m.collections) {
    for (const auto& s : c.segments) {
      kinds[s.file] = "segment";
      for (const auto& [field, files] : s.index_files) {
        for (const auto& f : files) kinds[f] = "index";
      }
    }
    for (const auto& t : c.tombstone_files) kinds[t] = "tombstone";
  }
  return kinds;
}

struct PinGuard {
  DrSeam* seam;
  std::string name;
  ~PinGuard() {
    if (!name.empty()) (void)seam->ReleasePin(name);
  }
};

Result<BlobStat> PutDatabaseFile(Repository* repo, const DrSeam& seam, const std::string& hash,
                                 const TransferControl& control) {
  ARK_ASSIGN_OR_RETURN(auto file, seam.OpenFile(hash));
  return repo->PutBlobFromReader(hash, std::move(file), control);
}

}  // namespace

std::string DefaultBackupName(uint64_t wall_micros) {
  std::time_t t = static_cast<std::time_t>(wall_micros / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "ark-%Y%m%d-%H%M%S", &tm);
  return buf;
}

namespace {

Result<BackupManifest> CreateBackupImpl(Database* db, Repository* repo, const BackupOptions& options,
                                        Progress* progress, const std::atomic<bool>* cancelled) {
  Progress local_progress;
  if (progress == nullptr) progress = &local_progress;
  Env* env = repo->env();
  const uint64_t started = env->WallMicros();
  progress->started_micros = started;
  const std::string name = options.name.empty() ? DefaultBackupName(started) : options.name;
  ARK_RETURN_IF_ERROR(ValidateBackupName(name));
  const std::string where = fmt::format("backup '{}' in {}", name, repo->store()->Describe());
  {
    auto head = repo->store()->Head(BackupKey(name));
    if (head.ok()) return Status::AlreadyExists(fmt::format("{} already exists", where));
    if (!head.status().IsNotFound()) return head.status();
  }
  RepositoryLeaseTable lease_table(repo);
  ARK_ASSIGN_OR_RETURN(auto lease, AcquireRepositoryLease(repo, &lease_table, "backup", "prune", "backup " + name,
                                                          options.lease_ttl_micros));

  // 1. The cut, its files pinned until the upload is done.
  const std::string pin = "backup/" + name + "/" + RandomHex(4);
  DrSeam seam(db);
  ARK_ASSIGN_OR_RETURN(ConsistentCut cut, seam.GetConsistentCut(pin, 0));
  PinGuard pin_guard{&seam, pin};
  BackupState state;
  state.manifest = cut.manifest;
  state.position = cut.position;
  ARK_RETURN_IF_ERROR(seam.ReadRecords(cut.manifest.checkpoint, cut.position,
                                       [&](const WalRecord& r, std::string_view) {
                                         state.tail.push_back(r);
                                         return Status::OK();
                                       }));
  const uint64_t want = cut.position.lsn - cut.manifest.checkpoint.lsn;
  if (state.tail.size() != want) {
    return Status::Internal(fmt::format("{}: read {} WAL records after the checkpoint {}, expected {} up to {}",
                                        where, state.tail.size(), cut.manifest.checkpoint.ToString(), want,
                                        cut.position.ToString()));
  }
  StateFilter filter;
  filter.select = options.collections;
  ARK_ASSIGN_OR_RETURN(BackupState kept, FilterState(state, filter));
  if (IsCancelled(cancelled)) return Status::Cancelled("cancelled");

  // 2. What the backup consists of.
  BackupManifest bm;
  bm.name = name;
  bm.started_micros = started;
  bm.ark_version = ARK_VERSION;
  bm.source = options.source.empty() ? seam.Describe() : options.source;
  bm.position = cut.position;
  bm.position_micros = state.tail.empty() ? cut.manifest.created_micros : state.tail.back().timestamp_micros;
  bm.checkpoint = cut.manifest.checkpoint;
  bm.wal_records = kept.tail.size();
  const std::string manifest_bytes = EncodeManifest(kept.manifest);
  const std::string tail_bytes = EncodeTail(kept.tail);
  bm.blobs.push_back({"manifest", ToHex(Sha256(manifest_bytes)), manifest_bytes.size(), 0});
  bm.blobs.push_back({"wal", ToHex(Sha256(tail_bytes)), tail_bytes.size(), 0});
  if (bm.blobs[1].hash == bm.blobs[0].hash) bm.blobs.pop_back();  // both empty: impossible, but keep names unique
  auto kinds = FileKinds(kept.manifest);
  for (const auto& [hash, kind] : kinds) {
    ARK_ASSIGN_OR_RETURN(uint64_t size, seam.FileSize(hash));
    bm.blobs.push_back({kind, hash, size, 0});
  }
  std::map<uint64_t, CollectionInfo> infos;
  for (const auto& c : cut.collections) infos[c.id] = c;
  std::map<uint64_t, const CollectionSnapshot*> snapshots;
  for (const auto& s : cut.snapshots) snapshots[s->collection_id()] = s.get();
  ARK_ASSIGN_OR_RETURN(auto names, CollectionsAtPosition(kept));
  for (const auto& [id, n] : names) {
    BackupCollection bc;
    bc.id = id;
    bc.database = n.database;
    bc.name = n.name;
    if (auto it = infos.find(id); it != infos.end()) bc.rows = it->second.live_rows;
    // What a restore must hold, value for value: restore-check drills
    // compare it (one pass over the collection's rows, in memory).
    // A column that cannot be read (a damaged segment file) fails the backup
    // naming the file: a backup must not record "unreadable" as the content.
    if (auto it = snapshots.find(id); it != snapshots.end()) {
      ContentChecksum sum = ComputeContentChecksum(*it->second);
      if (!sum.status.ok()) {
        return sum.status.WithContext("backup: collection " + n.database + "." + n.name);
      }
      bc.checksum = sum.checksum;
    }
    for (const auto& mc : kept.manifest.collections) {
      if (mc.id != id) continue;
      bc.segments = mc.segments.size();
      for (const auto& s : mc.segments) {
        bc.bytes += s.bytes;
        for (const auto& [field, files] : s.index_files) bc.index_files += files.size();
      }
    }
    bm.collections.push_back(std::move(bc));
  }

  // 3. Upload what the repository lacks.
  ARK_ASSIGN_OR_RETURN(auto present, repo->ListBlobs());
  progress->files_total = bm.blobs.size();
  uint64_t total = 0;
  for (const auto& b : bm.blobs) total += b.size;
  progress->bytes_total = total;
  std::mutex stats_mu;
  Status upload = ParallelFor(bm.blobs.size(), options.parallelism, cancelled, [&](size_t i) -> Status {
    BackupBlobRef& b = bm.blobs[i];
    auto it = present.find(repo->BlobId(b.hash));
    bool reused = false;
    if (it != present.end()) {
      b.stored_size = it->second.stored_size;
      reused = true;
    } else {
      TransferControl control;
      control.cancelled = cancelled;
      control.on_bytes = [progress](uint64_t n) {
        progress->bytes_done += n;
        progress->bytes_transferred += n;
      };
      Result<BlobStat> put = b.kind == "manifest" ? repo->PutBlob(b.hash, manifest_bytes, control)
                             : b.kind == "wal"    ? repo->PutBlob(b.hash, tail_bytes, control)
                                                  : PutDatabaseFile(repo, seam, b.hash, control);
      if (!put.ok()) return put.status();
      b.stored_size = put->stored_size;
      reused = put->existed;
    }
    {
      std::lock_guard<std::mutex> lock(stats_mu);
      if (reused) {
        bm.stats.reused_blobs++;
        bm.stats.reused_bytes += b.size;
      } else {
        bm.stats.new_blobs++;
        bm.stats.new_bytes += b.size;
        bm.stats.new_stored_bytes += b.stored_size;
      }
    }
    if (reused) progress->bytes_done += b.size;
    progress->files_done++;
    return lease->MaybeRenew();
  });
  ARK_RETURN_IF_ERROR(upload);
  if (IsCancelled(cancelled)) return Status::Cancelled("cancelled");
  bm.stats.total_bytes = total;

  // 4. The parent: the newest earlier backup sharing blobs with this one.
  {
    auto existing = ListBackups(repo);
    if (existing.ok()) {
      std::set<std::string> mine;
      for (const auto& b : bm.blobs) mine.insert(b.hash);
      for (auto it = existing->rbegin(); it != existing->rend(); ++it) {
        bool shares = false;
        for (const auto& b : it->blobs) shares |= b.kind != "manifest" && b.kind != "wal" && mine.count(b.hash) > 0;
        if (shares) {
          bm.parent = it->name;
          break;
        }
      }
    }
  }

  // 5. The commit point.
  bm.completed_micros = env->WallMicros();
  bm.stats.seconds = static_cast<double>(bm.completed_micros - started) / 1e6;
  ARK_RETURN_IF_ERROR(lease->MaybeRenew());
  Status put = repo->PutDocument(BackupKey(name), BackupManifestToJson(bm), /*if_absent=*/true);
  if (!put.ok()) return Status(put.code(), fmt::format("writing the manifest: {}", put.message()));
  return bm;
}

}  // namespace

Result<BackupManifest> CreateBackup(Database* db, Repository* repo, const BackupOptions& options,
                                    Progress* progress, const std::atomic<bool>* cancelled) {
  auto m = CreateBackupImpl(db, repo, options, progress, cancelled);
  if (m.ok()) return m;
  const Status& s = m.status();
  // Errors before anything was written keep their plain message; the others
  // say what they left behind.
  if (s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kAlreadyExists) return s;
  const std::string name = options.name.empty() ? std::string("(unnamed)") : options.name;
  return Status(s.code(), fmt::format("backup '{}' in {}: {}; nothing committed", name,
                                      repo->store()->Describe(), s.message()));
}

Result<BackupManifest> LoadBackup(Repository* repo, const std::string& name) {
  ARK_RETURN_IF_ERROR(ValidateBackupName(name));
  auto doc = repo->GetDocument(BackupKey(name));
  if (!doc.ok()) {
    if (doc.status().IsNotFound()) {
      return Status::NotFound(fmt::format("no backup named '{}' in {}", name, repo->store()->Describe()));
    }
    return doc.status();
  }
  const std::string where = fmt::format("{}/{}", repo->store()->Describe(), BackupKey(name));
  ARK_ASSIGN_OR_RETURN(BackupManifest m, BackupManifestFromJson(*doc, where));
  if (m.name != name) {
    return Status::Corruption(fmt::format("{}: the manifest names backup '{}'", where, m.name));
  }
  return m;
}

Result<std::vector<BackupManifest>> ListBackups(Repository* repo) {
  ARK_ASSIGN_OR_RETURN(auto objects, repo->store()->ListAll(kBackupsPrefix));
  std::vector<BackupManifest> out;
  for (const auto& o : objects) {
    std::string_view key = o.key;
    if (key.size() <= sizeof(kBackupsPrefix) - 1 + 5 || key.substr(key.size() - 5) != ".json") continue;
    std::string name(key.substr(sizeof(kBackupsPrefix) - 1, key.size() - (sizeof(kBackupsPrefix) - 1) - 5));
    if (!ValidateBackupName(name).ok()) continue;  // not a backup manifest (e.g. an operator's file)
    ARK_ASSIGN_OR_RETURN(BackupManifest m, LoadBackup(repo, name));
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const BackupManifest& a, const BackupManifest& b) {
    return std::tie(a.started_micros, a.name) < std::tie(b.started_micros, b.name);
  });
  return out;
}

Status DeleteBackup(Repository* repo, const std::string& name) {
  ARK_RETURN_IF_ERROR(LoadBackup(repo, name).status());
  return repo->store()->Delete(BackupKey(name));
}

Result<VerifyReport> VerifyBackup(Repository* repo, const std::string& name, bool quick, int parallelism,
                                  Progress* progress, const std::atomic<bool>* cancelled) {
  Progress local_progress;
  if (progress == nullptr) progress = &local_progress;
  progress->started_micros = repo->env()->WallMicros();
  ARK_ASSIGN_OR_RETURN(BackupManifest m, LoadBackup(repo, name));
  VerifyReport report;
  progress->files_total = m.blobs.size();
  for (const auto& b : m.blobs) progress->bytes_total += b.size;
  std::mutex mu;
  Status s = ParallelFor(m.blobs.size(), parallelism, cancelled, [&](size_t i) -> Status {
    const BackupBlobRef& b = m.blobs[i];
    TransferControl control;
    control.cancelled = cancelled;
    control.on_bytes = [progress](uint64_t n) {
      progress->bytes_done += n;
      progress->bytes_transferred += n;
    };
    Status v = repo->VerifyBlob(b.hash, b.size, b.stored_size, quick, control);
    if (v.code() == StatusCode::kCancelled) return v;
    std::lock_guard<std::mutex> lock(mu);
    report.blobs_checked++;
    report.bytes_checked += b.size;
    if (quick) progress->bytes_done += b.size;
    progress->files_done++;
    if (!v.ok()) report.problems.push_back(fmt::format("{} blob {}: {}", b.kind, b.hash, v.ToString()));
    return Status::OK();
  });
  ARK_RETURN_IF_ERROR(s);
  if (!report.problems.empty()) {
    std::sort(report.problems.begin(), report.problems.end());
    std::string first;
    for (size_t i = 0; i < report.problems.size() && i < 3; ++i) first += "\n  " + report.problems[i];
    return Status::Corruption(fmt::format("backup '{}' in {} failed verification: {} of {} blobs bad:{}", name,
                                          repo->store()->Describe(), report.problems.size(), m.blobs.size(), first));
  }
  return report;
}

Result<PruneReport> PruneBackups(Repository* repo, const PruneOptions& options) {
  Env* env = repo->env();
  RepositoryLeaseTable lease_table(repo);
  ARK_ASSIGN_OR_RETURN(auto lease,
                       AcquireRepositoryLease(repo, &lease_table, "prune", "backup", "prune", 3600ull * 1000000));
  ARK_ASSIGN_OR_RETURN(auto backups, ListBackups(repo));
  PruneReport report;
  std::set<std::string> removed;
  if (!options.policy.empty()) {
    std::vector<BackupAge> ages;
    for (const auto& b : backups) {
      if (b.name.rfind(options.only_prefix, 0) != 0) continue;
      ages.push_back({b.name, static_cast<int64_t>(b.started_micros / 1000000), true});
    }
    ARK_ASSIGN_OR_RETURN(RetentionDecision decision,
                         DecideRetention(options.policy, ages, static_cast<int64_t>(env->WallMicros() / 1000000)));
    report.kept = decision.keep;
    report.removed = decision.remove;
    for (const auto& b : backups) {
      if (b.name.rfind(options.only_prefix, 0) != 0) report.kept.push_back(b.name);
    }
    removed.insert(decision.remove.begin(), decision.remove.end());
  } else {
    for (const auto& b : backups) report.kept.push_back(b.name);
  }
  // Blobs still referenced by a kept backup.
  std::set<std::string> referenced;
  for (const auto& b : backups) {
    if (removed.count(b.name)) continue;
    for (const auto& blob : b.blobs) referenced.insert(repo->BlobId(blob.hash));
  }
  // The WAL archive: ranges before the oldest kept backup go; the others
  // keep their records and files (each kept backup's PITR window).
  std::vector<BackupManifest> kept_manifests;
  for (const auto& b : backups) {
    if (!removed.count(b.name)) kept_manifests.push_back(b);
  }
  ARK_ASSIGN_OR_RETURN(ArchivePrunePlan archive, PlanArchivePrune(repo, kept_manifests));
  for (const auto& hash : archive.referenced_hashes) referenced.insert(repo->BlobId(hash));
  report.archive_ranges_removed = archive.ranges_removed;
  if (!options.dry_run) {
    for (const auto& name : report.removed) ARK_RETURN_IF_ERROR(repo->store()->Delete(BackupKey(name)));
    for (const auto& key : archive.remove_keys) ARK_RETURN_IF_ERROR(repo->store()->Delete(key));
  }
  ARK_ASSIGN_OR_RETURN(auto stored, repo->ListBlobs());
  const uint64_t now = env->WallMicros();
  std::vector<std::string> garbage;
  for (const auto& [id, info] : stored) {
    if (referenced.count(id)) continue;
    if (info.mtime_micros + options.grace_micros > now) {
      report.blobs_in_grace++;
      continue;
    }
    garbage.push_back(id);
    report.bytes_freed += info.stored_size;
  }
  report.blobs_deleted = garbage.size();
  if (!options.dry_run && !garbage.empty()) ARK_RETURN_IF_ERROR(repo->DeleteBlobs(garbage));
  return report;
}

Status CheckRestoreTarget(Env* env, const std::string& target_dir) {
  if (target_dir.empty()) return Status::InvalidArgument("restore needs a target directory");
  std::string target = target_dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  if (env->FileExists(target)) {
    auto entries = env->ListDir(target);
    if (!entries.ok()) {
      return Status::FailedPrecondition(fmt::format("restore target {} exists and is not a directory", target));
    }
    if (!entries->empty()) {
      return Status::FailedPrecondition(
          fmt::format("restore target {} is not empty; restore into a new directory", target));
    }
  }
  return Status::OK();
}

Result<BackupState> LoadBackupState(Repository* repo, const BackupManifest& bm) {
  const std::string where = fmt::format("backup '{}' in {}", bm.name, repo->store()->Describe());
  BackupState state;
  state.position = bm.position;
  {
    ARK_ASSIGN_OR_RETURN(std::string bytes, repo->GetBlob(bm.blobs[0].hash));
    ARK_ASSIGN_OR_RETURN(state.manifest, DecodeManifest(bytes, where + " engine manifest"));
  }
  if (const BackupBlobRef* w = bm.Find("wal")) {
    ARK_ASSIGN_OR_RETURN(std::string bytes, repo->GetBlob(w->hash));
    ARK_ASSIGN_OR_RETURN(state.tail, DecodeTail(bytes, where + " WAL blob"));
  }
  if (state.manifest.checkpoint != bm.checkpoint ||
      (!state.tail.empty() && (state.tail.front().position.lsn != bm.checkpoint.lsn + 1 ||
                               state.tail.back().position != bm.position)) ||
      (state.tail.empty() && bm.position.lsn != bm.checkpoint.lsn)) {
    return Status::Corruption(fmt::format("{}: the WAL blob does not cover ({}, {}]", where,
                                          bm.checkpoint.ToString(), bm.position.ToString()));
  }
  return state;
}

Result<RestoreReport> RestoreBackup(Env* env, Repository* repo, const RestoreOptions& options,
                                    Progress* progress, const std::atomic<bool>* cancelled) {
  ARK_RETURN_IF_ERROR(CheckRestoreTarget(env, options.target_dir));
  ARK_ASSIGN_OR_RETURN(BackupManifest bm, LoadBackup(repo, options.name));
  RestorePlan plan;
  plan.where = fmt::format("backup '{}' in {}", bm.name, repo->store()->Describe());
  ARK_ASSIGN_OR_RETURN(BackupState state, LoadBackupState(repo, bm));
  ARK_ASSIGN_OR_RETURN(plan.state, FilterState(state, options.filter));
  std::map<std::string, const BackupBlobRef*> blobs;
  for (const auto& b : bm.blobs) blobs[b.hash] = &b;
  for (const auto& hash : plan.state.manifest.LiveFiles()) {
    auto it = blobs.find(hash);
    if (it == blobs.end()) {
      return Status::Corruption(
          fmt::format("{}: the engine manifest names file {} the backup does not list", plan.where, hash));
    }
    plan.files.push_back(*it->second);
  }
  for (const auto& c : bm.collections) plan.expected_rows[c.id] = c.rows;
  return ExecuteRestore(env, repo, plan, options, progress, cancelled);
}

Result<RestoreReport> ExecuteRestore(Env* env, Repository* repo, const RestorePlan& plan,
                                     const RestoreOptions& options, Progress* progress,
                                     const std::atomic<bool>* cancelled) {
  Progress local_progress;
  if (progress == nullptr) progress = &local_progress;
  const uint64_t started = env->WallMicros();
  progress->started_micros = started;
  ARK_RETURN_IF_ERROR(CheckRestoreTarget(env, options.target_dir));
  std::string target = options.target_dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  const std::string& where = plan.where;
  const auto& files = plan.files;

  // Staging directory beside the target: renamed into place only when complete.
  const std::string staging = target + ".ark-restore-" + RandomHex(6);
  struct Cleanup {
    Env* env;
    std::string dir;
    ~Cleanup() {
      if (!dir.empty()) (void)env->RemoveAll(dir);
    }
  } cleanup{env, staging};
  ARK_RETURN_IF_ERROR(DrSeam::PrepareDirectory(env, staging));
  progress->files_total = files.size();
  for (const auto& f : files) progress->bytes_total += f.size;
  RestoreReport report;
  Status download = ParallelFor(files.size(), options.parallelism, cancelled, [&](size_t i) -> Status {
    TransferControl control;
    control.cancelled = cancelled;
    control.on_bytes = [progress](uint64_t n) {
      progress->bytes_done += n;
      progress->bytes_transferred += n;
    };
    Status s = repo->GetBlobToFile(files[i].hash, DrSeam::FileDestination(staging, files[i].hash), control);
    if (!s.ok()) return Status(s.code(), fmt::format("{}: {} file {}: {}", where, files[i].kind, files[i].hash, s.message()));
    progress->files_done++;
    return Status::OK();
  });
  if (!download.ok()) {
    if (download.code() == StatusCode::kCancelled) return Status::Cancelled(where + ": restore cancelled; nothing restored");
    return Status(download.code(), download.message() + "; nothing restored");
  }
  for (const auto& f : files) {
    report.bytes += f.size;
    report.files++;
  }
  // WAL tail, then the manifest (CURRENT last).
  ARK_RETURN_IF_ERROR(DrSeam::SeedDirectory(env, staging, plan.state.manifest, plan.state.tail));
  if (IsCancelled(cancelled)) return Status::Cancelled(where + ": restore cancelled; nothing restored");

  // Publish, then open it the way a server would and compare what it holds
  // with the backup. (The open happens at the target, not in staging: a
  // database cannot be moved while open, and a caller may keep it.)
  if (env->FileExists(target)) ARK_RETURN_IF_ERROR(env->RemoveDir(target));  // empty (checked above)
  ARK_RETURN_IF_ERROR(env->RenameFile(staging, target));
  ARK_RETURN_IF_ERROR(env->SyncDir(DirName(target)));
  Status checked = [&]() -> Status {
    DatabaseOptions db_options = options.database_options;
    if (!options.keep_open) {
      db_options.index_build_threads = 0;
      db_options.auto_seal = false;
    }
    auto opened = Database::Open(env, target, db_options);
    if (!opened.ok()) {
      return Status(opened.status().code(),
                    fmt::format("{}: the restored database does not open: {}", where, opened.status().message()));
    }
    for (const auto& db_name : (*opened)->ListDatabases()) {
      for (auto& info : (*opened)->ListCollections(db_name)) {
        auto it = plan.expected_rows.find(info.id);
        if (it != plan.expected_rows.end() && it->second != info.live_rows) {
          return Status::Corruption(fmt::format("{}: collection {}.{} has {} rows after restore, the backup recorded {}",
                                                where, info.database, info.name, info.live_rows, it->second));
        }
        report.collections.push_back(std::move(info));
      }
    }
    if (plan.after_open) ARK_RETURN_IF_ERROR(plan.after_open(opened->get()));
    if (options.keep_open) {
      report.database = std::move(opened).value();
    } else {
      ARK_RETURN_IF_ERROR(DrSeam(opened->get()).FlushWal());
    }
    return Status::OK();
  }();
  if (!checked.ok()) {
    // Take it back out of sight before removing it.
    if (env->RenameFile(target, staging).ok()) cleanup.dir = staging;
    return checked;
  }
  cleanup.dir.clear();
  report.seconds = static_cast<double>(env->WallMicros() - started) / 1e6;
  return report;
}

}  // namespace ark::dr
