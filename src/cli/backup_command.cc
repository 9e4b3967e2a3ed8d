// `ark backup create|list|describe|verify|delete|prune|init` and `ark restore`
// (docs/backup.md).
//
// Offline on a data directory (--data-dir; the directory's lock makes it fail
// clearly while a server has it open), or through a running server's admin
// API (--server URL: the server takes the cut while it keeps serving writes).
// The repository is --repo URL: a directory, file:///path or
// s3://bucket/prefix?endpoint=... (credentials from AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY). Encryption keys: --key-file or --passphrase-file or
// $ARK_BACKUP_PASSPHRASE; never printed.
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command_registry.h"
#include "cli/time_format.h"
#include "cli/progress_display.h"
#include "cli/admin_client.h"
#include "dr/archive/pitr.h"
#include "dr/backup/backup.h"
#include "dr/repository/repository_open.h"
#include "engine/database.h"
#include "engine/schema.h"
#include "storage/env.h"
#include "storage/object_store_url.h"

namespace ark::cli {
namespace {

struct RepoFlags {
  std::string repo;
  std::string key_file;
  std::string passphrase_file;
  std::string compression = "zstd";
  int zstd_level = 3;
};

struct BackupArgs {
  RepoFlags r;
  std::string name;
  std::vector<std::string> collections;
  std::string data_dir;
  std::string server;
  std::string token;
  int parallel = 4;
  bool json = false;
  bool quiet = false;
  bool quick = false;
  bool dry_run = false;
  std::string grace = "1h";
  dr::RetentionPolicy policy;
  std::vector<std::string> renames;
  std::string suffix;
  // Point-in-time restore.
  std::string to_time;
  std::string to_position;
  bool to_latest = false;
  uint64_t epoch = 0;
};

void AddRepoFlags(CLI::App* cmd, RepoFlags* r) {
  cmd->add_option("--repo", r->repo, "Repository: a directory, file:///path or s3://bucket/prefix?endpoint=...")
      ->required();
  cmd->add_option("--key-file", r->key_file, "Encryption key: 32 raw bytes or 64 hex characters");
  cmd->add_option("--passphrase-file", r->passphrase_file,
                  "Encryption passphrase (first line; or set ARK_BACKUP_PASSPHRASE)");
}

Result<dr::OpenedRepository> OpenRepo(const RepoFlags& r, bool create) {
  ARK_ASSIGN_OR_RETURN(dr::EncryptionKey key, dr::KeyFromOptions(Env::Default(), r.key_file, r.passphrase_file));
  dr::RepositoryInitOptions init;
  init.compression = r.compression;
  init.zstd_level = r.zstd_level;
  return dr::OpenRepositoryUrl(Env::Default(), r.repo, key, create, init);
}

Result<std::vector<dr::CollectionName>> ParseNames(const std::vector<std::string>& texts) {
  std::vector<dr::CollectionName> out;
  for (const auto& t : texts) {
    ARK_ASSIGN_OR_RETURN(auto n, dr::ParseCollectionName(t));
    out.push_back(std::move(n));
  }
  return out;
}

Result<uint64_t> ParseDurationMicros(const std::string& text) {
  if (text.empty()) return Status::InvalidArgument("empty duration");
  size_t pos = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &pos);
  } catch (...) {
    return Status::InvalidArgument(fmt::format("'{}' is not a duration (like 30s, 15m, 1h, 2d)", text));
  }
  std::string unit = text.substr(pos);
  uint64_t mult = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (mult == 0 || n > (1ull << 40)) {
    return Status::InvalidArgument(fmt::format("'{}' is not a duration (like 30s, 15m, 1h, 2d)", text));
  }
  return n * mult * 1000000ull;
}

void PrintManifest(const dr::BackupManifest& m) {
  std::printf("backup      %s\n", m.name.c_str());
  std::printf("created     %s (took %.1f s)\n", IsoTime(m.started_micros).c_str(), m.stats.seconds);
  std::printf("position    %s (WAL replay from %s, %llu records)\n", m.position.ToString().c_str(),
              m.checkpoint.ToString().c_str(), static_cast<unsigned long long>(m.wal_records));
  std::printf("source      %s (ark %s)\n", m.source.c_str(), m.ark_version.c_str());
  std::printf("parent      %s\n", m.parent.empty() ? "-" : m.parent.c_str());
  std::printf("size        %s in %zu blobs; this backup added %s (%s stored) in %llu blobs, reused %s\n",
              ProgressDisplay::Bytes(static_cast<double>(m.stats.total_bytes)).c_str(), m.blobs.size(),
              ProgressDisplay::Bytes(static_cast<double>(m.stats.new_bytes)).c_str(),
              ProgressDisplay::Bytes(static_cast<double>(m.stats.new_stored_bytes)).c_str(),
              static_cast<unsigned long long>(m.stats.new_blobs),
              ProgressDisplay::Bytes(static_cast<double>(m.stats.reused_bytes)).c_str());
  std::printf("collections\n");
  for (const auto& c : m.collections) {
    std::printf("  %-32s %12llu rows  %4llu segments  %4llu index files  %s\n", (c.database + "." + c.name).c_str(),
                static_cast<unsigned long long>(c.rows), static_cast<unsigned long long>(c.segments),
                static_cast<unsigned long long>(c.index_files),
                ProgressDisplay::Bytes(static_cast<double>(c.bytes)).c_str());
  }
}

Status Create(const BackupArgs& a) {
  ARK_ASSIGN_OR_RETURN(auto collections, ParseNames(a.collections));
  if (!a.name.empty()) ARK_RETURN_IF_ERROR(dr::ValidateBackupName(a.name));
  if (!a.server.empty() && !a.data_dir.empty()) {
    return Status::InvalidArgument(
        "give --data-dir DIR (offline) or --server URL, not both: which one would be backed up?");
  }
  if (!a.server.empty()) {
    nlohmann::json body = {{"repo", a.r.repo}, {"collections", a.collections}, {"parallel", a.parallel}};
    if (!a.name.empty()) body["name"] = a.name;
    if (!a.r.key_file.empty()) body["keyFile"] = a.r.key_file;
    if (!a.r.passphrase_file.empty()) body["passphraseFile"] = a.r.passphrase_file;
    ARK_ASSIGN_OR_RETURN(nlohmann::json job, RunAdminJob(a.server, a.token, "backups/create", body, a.quiet));
    if (a.json) {
      std::printf("%s\n", job.dump(2).c_str());
    } else if (job.contains("result") && job["result"].is_object()) {
      auto m = dr::BackupManifestFromJson(job["result"], "server answer");
      if (m.ok()) PrintManifest(*m);
    }
    return Status::OK();
  }
  if (a.data_dir.empty()) return Status::InvalidArgument("give --data-dir DIR (offline) or --server URL");
  // Database::Open creates a missing directory: a mistyped path would back
  // up a new, empty database (and leave the directory behind). Check first,
  // before the repository is created.
  if (!Env::Default()->FileExists(a.data_dir + "/CURRENT")) {
    return Status::InvalidArgument(fmt::format(
        "--data-dir {}: not an Ark data directory (no CURRENT file)", a.data_dir));
  }
  ARK_ASSIGN_OR_RETURN(auto repo, OpenRepo(a.r, /*create=*/true));
  DatabaseOptions options;
  options.index_build_threads = 0;  // a backup never builds indexes; the server will
  options.auto_seal = false;
  auto db = Database::Open(Env::Default(), a.data_dir, options);
  if (!db.ok()) return db.status().WithContext(fmt::format("opening data directory {}", a.data_dir));
  dr::BackupOptions o;
  o.name = a.name;
  o.collections = collections;
  o.parallelism = a.parallel;
  o.source = a.data_dir;
  dr::Progress progress;
  Result<dr::BackupManifest> m = Status::OK();
  {
    ProgressDisplay display(&progress, "backup", a.quiet || a.json);
    m = dr::CreateBackup(db->get(), repo.repo.get(), o, &progress);
  }
  if (!m.ok()) return m.status();
  if (a.json) {
    std::printf("%s\n", dr::BackupManifestToJson(*m).dump(2).c_str());
  } else {
    PrintManifest(*m);
  }
  return Status::OK();
}

Status List(const BackupArgs& a) {
  ARK_ASSIGN_OR_RETURN(auto repo, OpenRepo(a.r, false));
  ARK_ASSIGN_OR_RETURN(auto backups, dr::ListBackups(repo.repo.get()));
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : backups) out.push_back(dr::BackupManifestToJson(m));
    std::printf("%s\n", out.dump(2).c_str());
    return Status::OK();
  }
  std::printf("%-28s %-20s %-14s %11s %11s %5s  %s\n", "NAME", "CREATED", "POSITION", "SIZE", "ADDED", "COLLS",
              "PARENT");
  for (const auto& m : backups) {
    std::printf("%-28s %-20s %-14s %11s %11s %5zu  %s\n", m.name.c_str(), IsoTime(m.started_micros).c_str(),
                m.position.ToString().c_str(), ProgressDisplay::Bytes(static_cast<double>(m.stats.total_bytes)).c_str(),
                ProgressDisplay::Bytes(static_cast<double>(m.stats.new_stored_bytes)).c_str(), m.collections.size(),
                m.parent.empty() ? "-" : m.parent.c_str());
  }
  return Status::OK();
}

Status Describe(const BackupArgs& a) {
  ARK_ASSIGN_OR_RETURN(auto repo, OpenRepo(a.r, false));
  ARK_ASSIGN_OR_RETURN(auto m, dr::LoadBackup(repo.repo.get(), a.name));
  // The point-in-time window the WAL archive gives it.
  ARK_ASSIGN_OR_RETURN(dr::ArchiveStatusReport archive, dr::GetArchiveStatus(repo.repo.get()));
  const dr::RestoreWindow* window = nullptr;
  for (const auto& w : archive.windows) {
    if (w.backup == m.name) window = &w;
  }
  if (a.json) {
    nlohmann::json j = dr::BackupManifestToJson(m);
    if (window != nullptr) {
      j["restoreWindow"] = {{"from", window->from.ToString()}, {"fromMicros", window->from_micros},
                            {"to", window->to.ToString()}, {"toMicros", window->to_micros}};
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    PrintManifest(m);
    if (window != nullptr && window->to != window->from) {
      std::printf("restorable  to any point from %s (%s) to %s (%s) with the archived WAL\n",
                  window->from.ToString().c_str(), IsoTime(window->from_micros).c_str(), window->to.ToString().c_str(),
                  IsoTime(window->to_micros).c_str());
    } else {
      std::printf("restorable  to its position only (no archived WAL follows it)\n");
    }
  }
  return Status::OK();
}

Status Verify(const BackupArgs& a) {
  ARK_ASSIGN_OR_RETURN(auto repo, OpenRepo(a.r, false));
  dr::Progress progress;
  Result<dr::VerifyReport> r = Status::OK();
  {
    ProgressDisplay display(&progress, a.quick ? "verify --quick" : "verify", a.quiet || a.json);
    r = dr::VerifyBackup(repo.repo.get(), a.name, a.quick, a.parallel, &progress);
  }
  if (!r.ok()) return r.status();
  std::printf("backup '%s' is intact: %llu blobs, %s %s\n", a.name.c_str(),
              static_cast<unsigned long long>(r->blobs_checked),
              ProgressDisplay::Bytes(static_cast<double>(r->bytes_checked)).c_str(),
              a.quick ? "present with their sizes (quick: contents not read)" : "read and every SHA-256 checked");
  return Status::OK();
}

Status Delete(const BackupArgs& a) {
  ARK_ASSIGN_OR_RETURN(auto repo, OpenRepo(a.r, false));
  ARK_RETURN_IF_ERROR(dr::DeleteBackup(repo.repo.get(), a.name));
  std::printf("deleted backup '%s' (its blobs go at the next prune)\n", a.name.c_str());
  return Status::OK();
}

Status Prune(const BackupArgs& a) {
  ARK_ASSIGN_OR_RETURN(auto repo, OpenRepo(a.r, false));
  dr::PruneOptions o;
  o.policy = a.policy;
  o.dry_run = a.dry_run;
  ARK_ASSIGN_OR_RETURN(o.grace_micros, ParseDurationMicros(a.grace));
  ARK_ASSIGN_OR_RETURN(auto r, dr::PruneBackups(repo.repo.get(), o));
  if (a.json) {
    std::printf("%s\n", nlohmann::json{{"kept", r.kept},
                                       {"removed", r.removed},
                                       {"blobsDeleted", r.blobs_deleted},
                                       {"bytesFreed", r.bytes_freed},
                                       {"blobsInGrace", r.blobs_in_grace},
                                       {"archiveRangesRemoved", r.archive_ranges_removed},
                                       {"dryRun", a.dry_run}}
                            .dump(2)
                            .c_str());
    return Status::OK();
  }
  const char* verb = a.dry_run ? "would remove" : "removed";
  std::printf("kept %zu backups; %s %zu:", r.kept.size(), verb, r.removed.size());
  for (const auto& n : r.removed) std::printf(" %s", n.c_str());
  std::printf("\n%s %llu unreferenced blobs (%s); %llu younger than the grace period stay\n", verb,
              static_cast<unsigned long long>(r.blobs_deleted),
              ProgressDisplay::Bytes(static_cast<double>(r.bytes_freed)).c_str(),
              static_cast<unsigned long long>(r.blobs_in_grace));
  if (r.archive_ranges_removed > 0) {
    std::printf("%s %llu archived WAL ranges older than every kept backup\n", verb,
                static_cast<unsigned long long>(r.archive_ranges_removed));
  }
  return Status::OK();
}

Status Init(const BackupArgs& a, bool encrypt) {
  ARK_ASSIGN_OR_RETURN(dr::EncryptionKey key, dr::KeyFromOptions(Env::Default(), a.r.key_file, a.r.passphrase_file));
  if (encrypt && key.empty()) {
    return Status::InvalidArgument("--encrypt needs --key-file, --passphrase-file or ARK_BACKUP_PASSPHRASE");
  }
  if (!encrypt && !key.empty()) {
    return Status::InvalidArgument("a key was given without --encrypt (unset ARK_BACKUP_PASSPHRASE or add --encrypt)");
  }
  ARK_ASSIGN_OR_RETURN(auto store, OpenObjectStore(a.r.repo));
  dr::RepositoryInitOptions o;
  o.compression = a.r.compression;
  o.zstd_level = a.r.zstd_level;
  o.encrypt = encrypt;
  ARK_RETURN_IF_ERROR(dr::Repository::Init(Env::Default(), store.get(), o, key));
  std::printf("created repository %s (%s%s)\n", store->Describe().c_str(), o.compression.c_str(),
              encrypt ? ", AES-256-GCM" : "");
  return Status::OK();
}

Status Restore(const BackupArgs& a) {
  dr::StateFilter filter;
  ARK_ASSIGN_OR_RETURN(filter.select, ParseNames(a.collections));
  for (const auto& r : a.renames) {
    size_t colon = r.find(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument(fmt::format("--rename '{}': expected OLD:NEW (each \"name\" or \"db.name\")", r));
    }
    ARK_ASSIGN_OR_RETURN(auto from, dr::ParseCollectionName(r.substr(0, colon)));
    ARK_ASSIGN_OR_RETURN(auto to, dr::ParseCollectionName(r.substr(colon + 1)));
    filter.rename[from] = to;
  }
  filter.suffix = a.suffix;
  if (!a.name.empty()) ARK_RETURN_IF_ERROR(dr::ValidateBackupName(a.name));
  if (!a.suffix.empty()) {
    if (Status s = ValidateName("collection", "c" + a.suffix); !s.ok()) {
      return Status::InvalidArgument(fmt::format(
          "--suffix '{}' must keep collection names valid (letters, digits, '_'): {}", a.suffix, s.message()));
    }
  }
  if (!a.server.empty()) {
    // Into the running server (docs/backup.md, "Restore into a running server").
    if (!a.data_dir.empty()) {
      return Status::InvalidArgument(
          "give --data-dir DIR (a new directory) or --server URL (into the running server), not both");
    }
    if (!a.to_time.empty() || !a.to_position.empty() || a.to_latest) {
      return Status::InvalidArgument(
          "--server restores a backup (--name) into the running server; a point in time (--to-time, --to-position, "
          "--to-latest) is restored into a new --data-dir");
    }
    if (a.name.empty()) return Status::InvalidArgument("give --name BACKUP: the backup to restore into the server");
    nlohmann::json rename = nlohmann::json::object();
    for (const auto& [from, to] : filter.rename) rename[from.ToString()] = to.ToString();
    nlohmann::json body = {{"repo", a.r.repo}, {"name", a.name}, {"collections", a.collections},
                           {"rename", rename}, {"parallel", a.parallel}};
    if (!a.suffix.empty()) body["suffix"] = a.suffix;
    if (!a.r.key_file.empty()) body["keyFile"] = a.r.key_file;
    if (!a.r.passphrase_file.empty()) body["passphraseFile"] = a.r.passphrase_file;
    ARK_ASSIGN_OR_RETURN(nlohmann::json job, RunAdminJob(a.server, a.token, "restores/create", body, a.quiet || a.json));
    if (a.json) {
      std::printf("%s\n", job.dump(2).c_str());
      return Status::OK();
    }
    const nlohmann::json& r = job.contains("result") ? job["result"] : nlohmann::json::object();
    std::printf("restored backup '%s' into %s\n", a.name.c_str(), a.server.c_str());
    for (const auto& c : r.value("collections", nlohmann::json::array())) {
      std::printf("  %-32s %12llu rows  (WAL %s)\n",
                  (c.value("database", std::string()) + "." + c.value("name", std::string())).c_str(),
                  static_cast<unsigned long long>(c.value("rows", uint64_t{0})),
                  c.value("position", std::string()).c_str());
    }
    return Status::OK();
  }
  const int targets = (a.to_time.empty() ? 0 : 1) + (a.to_position.empty() ? 0 : 1) + (a.to_latest ? 1 : 0);
  if (targets > 1) return Status::InvalidArgument("give one of --to-time, --to-position, --to-latest");
  if (targets == 0 && a.name.empty()) {
    return Status::InvalidArgument("give --name BACKUP, or a point in time: --to-time, --to-position or --to-latest");
  }
  if (targets == 0 && a.epoch != 0) return Status::InvalidArgument("--epoch needs --to-time, --to-position or --to-latest");
  if (a.data_dir.empty()) return Status::InvalidArgument("give --data-dir DIR: a new directory to restore into");
  dr::PitrOptions p;
  if (!a.to_time.empty()) {
    p.target.kind = dr::PitrTarget::Kind::kTime;
    ARK_ASSIGN_OR_RETURN(p.target.time_micros, ParseTimeMicros(a.to_time));
  } else if (!a.to_position.empty()) {
    p.target.kind = dr::PitrTarget::Kind::kPosition;
    auto pos = Position::Parse(a.to_position);
    if (!pos.ok() || pos->epoch == 0 || pos->lsn == 0) {
      return Status::InvalidArgument(fmt::format("--to-position '{}' is not a position EPOCH/LSN like 1/5234", a.to_position));
    }
    p.target.position = *pos;
  }
  ARK_ASSIGN_OR_RETURN(auto repo, OpenRepo(a.r, false));
  if (!a.name.empty()) ARK_RETURN_IF_ERROR(dr::LoadBackup(repo.repo.get(), a.name).status());
  bool pitr = targets > 0;
  if (!pitr) {
    // A repository with a WAL archive records the epoch a restored database
    // writes in, so a plain restore goes the point-in-time way, to the
    // backup's own position.
    ARK_ASSIGN_OR_RETURN(auto index, dr::ArchiveIndex::Load(repo.repo.get()));
    if (!index.empty()) {
      ARK_ASSIGN_OR_RETURN(auto bm, dr::LoadBackup(repo.repo.get(), a.name));
      p.target.kind = dr::PitrTarget::Kind::kPosition;
      p.target.position = bm.position;
      pitr = true;
    }
  }
  dr::Progress progress;
  if (pitr) {
    p.backup = a.name;
    p.epoch = a.epoch;
    p.target_dir = a.data_dir;
    p.filter = filter;
    p.parallelism = a.parallel;
    Result<dr::PitrReport> r = Status::OK();
    {
      ProgressDisplay display(&progress, "restore", a.quiet || a.json);
      r = dr::RestoreToPointInTime(Env::Default(), repo.repo.get(), p, &progress);
    }
    if (!r.ok()) return r.status();
    if (a.json) {
      nlohmann::json collections = nlohmann::json::array();
      for (const auto& c : r->restore.collections) {
        collections.push_back({{"database", c.database}, {"name", c.name}, {"rows", c.live_rows}});
      }
      nlohmann::json history = nlohmann::json::array();
      for (const auto& h : r->history) history.push_back({{"epoch", h.epoch}, {"first", h.first.ToString()}});
      std::printf("%s\n", nlohmann::json{{"backup", r->backup},
                                          {"backupPosition", r->backup_position.ToString()},
                                          {"reached", r->reached.ToString()},
                                          {"reachedMicros", r->reached_micros},
                                          {"reachedTime", IsoTime(r->reached_micros)},
                                          {"archivedRecords", r->archived_records},
                                          {"ranges", r->ranges},
                                          {"newEpoch", r->new_epoch},
                                          {"history", history},
                                          {"files", r->restore.files},
                                          {"bytes", r->restore.bytes},
                                          {"seconds", r->restore.seconds},
                                          {"collections", collections}}
                                .dump(2)
                                .c_str());
      return Status::OK();
    }
    std::printf("restored into %s to position %s (%s): backup '%s' at %s + %llu archived records from %llu ranges; "
                "%llu files, %s, %.1f s\n",
                a.data_dir.c_str(), r->reached.ToString().c_str(), IsoTime(r->reached_micros).c_str(),
                r->backup.c_str(), r->backup_position.ToString().c_str(),
                static_cast<unsigned long long>(r->archived_records), static_cast<unsigned long long>(r->ranges),
                static_cast<unsigned long long>(r->restore.files),
                ProgressDisplay::Bytes(static_cast<double>(r->restore.bytes)).c_str(), r->restore.seconds);
    std::printf("it writes in a new epoch %llu (history %s)\n", static_cast<unsigned long long>(r->new_epoch),
                dr::HistoryToString(r->history).c_str());
    for (const auto& c : r->restore.collections) {
      std::printf("  %-32s %12llu rows\n", (c.database + "." + c.name).c_str(),
                  static_cast<unsigned long long>(c.live_rows));
    }
    return Status::OK();
  }
  dr::RestoreOptions o;
  o.name = a.name;
  o.target_dir = a.data_dir;
  o.filter = filter;
  o.parallelism = a.parallel;
  Result<dr::RestoreReport> r = Status::OK();
  {
    ProgressDisplay display(&progress, "restore", a.quiet || a.json);
    r = dr::RestoreBackup(Env::Default(), repo.repo.get(), o, &progress);
  }
  if (!r.ok()) return r.status();
  std::printf("restored backup '%s' into %s: %llu files, %s, %.1f s\n", a.name.c_str(), a.data_dir.c_str(),
              static_cast<unsigned long long>(r->files), ProgressDisplay::Bytes(static_cast<double>(r->bytes)).c_str(),
              r->seconds);
  for (const auto& c : r->collections) {
    std::printf("  %-32s %12llu rows\n", (c.database + "." + c.name).c_str(),
                static_cast<unsigned long long>(c.live_rows));
  }
  return Status::OK();
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_COMMAND(backup) {
  using namespace ark::cli;
  auto* cmd = app.add_subcommand("backup", "Create, list, check and prune backups in a repository");
  cmd->require_subcommand(1);
  auto a = std::make_shared<BackupArgs>();
  auto run = [](const ark::Status& s) {
    if (!s.ok()) Fail(s);
  };

  auto* create = cmd->add_subcommand("create", "Back up collections (all by default) at one consistent position");
  AddRepoFlags(create, &a->r);
  create->add_option("-n,--name", a->name, "Backup name (default: ark-YYYYMMDD-HHMMSS, UTC)");
  create->add_option("-c,--collection", a->collections, "Collection (\"name\" or \"db.name\"); repeatable");
  create->add_option("--data-dir", a->data_dir, "Back up this data directory (no server may have it open)");
  create->add_option("--server", a->server, "Back up through a running server (http://host:port)");
  create->add_option("--token", a->token, "Admin token for --server (or ARK_ADMIN_TOKEN)");
  create->add_option("--parallel", a->parallel, "Concurrent uploads")->check(CLI::Range(1, 64));
  create->add_option("--compression", a->r.compression, "For a new repository: zstd or none");
  create->add_option("--zstd-level", a->r.zstd_level, "For a new repository: 1..19");
  create->add_flag("--json", a->json, "Print the backup manifest as JSON");
  create->add_flag("-q,--quiet", a->quiet, "No progress display");
  create->callback([a, run] { run(Create(*a)); });

  auto* list = cmd->add_subcommand("list", "List the backups in a repository, oldest first");
  AddRepoFlags(list, &a->r);
  list->add_flag("--json", a->json, "JSON output");
  list->callback([a, run] { run(List(*a)); });

  auto* describe = cmd->add_subcommand("describe", "Show a backup: collections, rows, position, sizes, parent");
  describe->add_option("name", a->name, "Backup name")->required();
  AddRepoFlags(describe, &a->r);
  describe->add_flag("--json", a->json, "JSON output");
  describe->callback([a, run] { run(Describe(*a)); });

  auto* verify = cmd->add_subcommand("verify", "Re-read every blob of a backup and check its SHA-256");
  verify->add_option("name", a->name, "Backup name")->required();
  AddRepoFlags(verify, &a->r);
  verify->add_flag("--quick", a->quick, "Only check that every blob is present with its size");
  verify->add_option("--parallel", a->parallel, "Concurrent reads")->check(CLI::Range(1, 64));
  verify->add_flag("-q,--quiet", a->quiet, "No progress display");
  verify->callback([a, run] { run(Verify(*a)); });

  auto* del = cmd->add_subcommand("delete", "Delete a backup (its blobs go at the next prune)");
  del->add_option("name", a->name, "Backup name")->required();
  AddRepoFlags(del, &a->r);
  del->callback([a, run] { run(Delete(*a)); });

  auto* prune = cmd->add_subcommand("prune", "Apply a retention policy and remove unreferenced blobs");
  AddRepoFlags(prune, &a->r);
  prune->add_option("--keep-last", a->policy.keep_last, "Keep the N newest backups");
  prune->add_option("--keep-days", a->policy.keep_days, "Keep backups from the last D days");
  prune->add_option("--keep-daily", a->policy.keep_daily, "Keep the newest backup of each of the last N days");
  prune->add_option("--keep-weekly", a->policy.keep_weekly, "... of each of the last N ISO weeks");
  prune->add_option("--keep-monthly", a->policy.keep_monthly, "... of each of the last N months");
  prune->add_option("--grace", a->grace, "Unreferenced blobs younger than this stay (default 1h)");
  prune->add_flag("--dry-run", a->dry_run, "Only say what would be removed");
  prune->add_flag("--json", a->json, "JSON output");
  prune->callback([a, run] { run(Prune(*a)); });

  auto* init = cmd->add_subcommand("init", "Create an empty repository (backup create does it on first use)");
  AddRepoFlags(init, &a->r);
  auto encrypt = std::make_shared<bool>(false);
  init->add_flag("--encrypt", *encrypt, "Encrypt blobs and manifests with AES-256-GCM");
  init->add_option("--compression", a->r.compression, "zstd or none");
  init->add_option("--zstd-level", a->r.zstd_level, "1..19");
  init->callback([a, encrypt, run] { run(Init(*a, *encrypt)); });
}

ARK_CLI_COMMAND(restore) {
  using namespace ark::cli;
  auto a = std::make_shared<BackupArgs>();
  auto* cmd = app.add_subcommand("restore", "Restore a backup, or a point in time from backups + archived WAL, into a new data directory "
                                 "(--data-dir) or a backup into a running server (--server)");
  cmd->add_option("-n,--name", a->name, "Backup name (with a point in time: start from this backup)");
  cmd->add_option("--to-time", a->to_time, "Point-in-time restore: the database as of this time (RFC 3339, e.g. 2026-12-05T10:30:00Z)");
  cmd->add_option("--to-position", a->to_position, "Point-in-time restore: up to and including this WAL position EPOCH/LSN");
  cmd->add_flag("--to-latest", a->to_latest, "Point-in-time restore: to the end of the archived WAL");
  cmd->add_option("--epoch", a->epoch, "Follow this epoch's history (default: the newest with archived WAL)");
  AddRepoFlags(cmd, &a->r);
  cmd->add_option("--data-dir", a->data_dir, "New data directory to restore into (must not exist or be empty)");
  cmd->add_option("--server", a->server,
                  "Restore the backup's collections into this running server (http://host:port) while it serves; "
                  "a name that exists there is refused: use --rename or --suffix");
  cmd->add_option("--token", a->token, "Admin token for --server (or ARK_ADMIN_TOKEN)");
  cmd->add_option("-c,--collection", a->collections, "Restore only this collection; repeatable");
  cmd->add_option("--rename", a->renames, "OLD:NEW, e.g. docs:docs_restored or sales.orders:archive.orders");
  cmd->add_option("--suffix", a->suffix, "Append to the name of every restored collection not renamed");
  cmd->add_option("--parallel", a->parallel, "Concurrent downloads")->check(CLI::Range(1, 64));
  cmd->add_flag("-q,--quiet", a->quiet, "No progress display");
  cmd->add_flag("--json", a->json, "Quiet progress (for scripts)");
  cmd->callback([a] {
    if (auto s = Restore(*a); !s.ok()) Fail(s);
  });
}
