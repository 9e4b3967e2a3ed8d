#include "server/admin_backup.h"

#include <fmt/format.h>

#include "dr/backup/backup.h"
#include "dr/backup/restore_into_server.h"
#include "dr/repository/repository_open.h"
#include "engine/schema.h"
#include "server/milvus_schema.h"

namespace ark::server {
namespace {

using nlohmann::json;

// A string member. A required one that is absent or null is code 1802, as
// on the Milvus routes (docs/server.md "Codes"); one that is empty is 1100.
Result<std::string> String(const json& body, const char* key, bool required) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) {
      throw HandlerError{{MilvusCode::kMissingParameter,
                          fmt::format("missing required parameters, error: {} is required", key), 200}};
    }
    return std::string();
  }
  if (!it->is_string()) {
    return Status::InvalidArgument(fmt::format("'{}' must be a string, got {}", key, JsonForMessage(*it)));
  }
  if (required && it->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument(fmt::format("'{}' must be a non-empty string", key));
  }
  return it->get<std::string>();
}

// The `name` of an existing backup: checked before a job starts, so that a
// name that cannot be in a repository ("../x", "a/b") fails the request.
Result<std::string> BackupName(const json& body) {
  ARK_ASSIGN_OR_RETURN(std::string name, String(body, "name", true));
  ARK_RETURN_IF_ERROR(dr::ValidateBackupName(name));
  return name;
}

Result<int64_t> Int(const json& body, const char* key, int64_t def, int64_t lo, int64_t hi) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return def;
  if (!it->is_number_integer()) {
    return Status::InvalidArgument(fmt::format("'{}' must be an integer, got {}", key, JsonForMessage(*it)));
  }
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(hi)) {
    return Status::InvalidArgument(fmt::format("'{}' must be between {} and {}", key, lo, hi));
  }
  int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) return Status::InvalidArgument(fmt::format("'{}' must be between {} and {}", key, lo, hi));
  return v;
}

Result<bool> Bool(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return Status::InvalidArgument(fmt::format("'{}' must be true or false, got {}", key, JsonForMessage(*it)));
  }
  return it->get<bool>();
}

Result<std::vector<dr::CollectionName>> Collections(const json& body) {
  std::vector<dr::CollectionName> out;
  auto it = body.find("collections");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) return Status::InvalidArgument("'collections' must be an array of names");
  for (const auto& v : *it) {
    if (!v.is_string()) return Status::InvalidArgument("'collections' must be an array of names");
    ARK_ASSIGN_OR_RETURN(auto n, dr::ParseCollectionName(v.get<std::string>()));
    out.push_back(std::move(n));
  }
  return out;
}

// The repository a request names; the key by file path on this host.
Result<dr::OpenedRepository> OpenFor(Env* env, const json& body, bool create) {
  if (body.contains("passphrase")) {
    return Status::InvalidArgument(
        "a passphrase is not accepted in a request body; give 'passphraseFile' (a path on the server) instead");
  }
  ARK_ASSIGN_OR_RETURN(std::string repo, String(body, "repo", true));
  ARK_ASSIGN_OR_RETURN(std::string key_file, String(body, "keyFile", false));
  ARK_ASSIGN_OR_RETURN(std::string passphrase_file, String(body, "passphraseFile", false));
  ARK_ASSIGN_OR_RETURN(dr::EncryptionKey key, dr::KeyFromOptions(env, key_file, passphrase_file));
  return dr::OpenRepositoryUrl(env, repo, key, create);
}

}  // namespace

void RegisterBackupRoutes(HttpServer& http, Env* env, Database* db, dr::JobManager* jobs) {
  http.RegisterAdmin("backups/create", [env, db, jobs](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, String(ctx.body, "name", false));
    if (!name.empty()) ARK_RETURN_IF_ERROR(dr::ValidateBackupName(name));
    ARK_ASSIGN_OR_RETURN(auto collections, Collections(ctx.body));
    ARK_ASSIGN_OR_RETURN(int64_t parallel, Int(ctx.body, "parallel", 4, 1, 64));
    // Open the repository now so that a bad URL or key fails the request itself.
    ARK_ASSIGN_OR_RETURN(dr::OpenedRepository opened, OpenFor(env, ctx.body, /*create=*/true));
    auto repo = std::make_shared<dr::OpenedRepository>(std::move(opened));
    dr::BackupOptions options;
    options.name = name.empty() ? dr::DefaultBackupName(static_cast<uint64_t>(
                                      std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count()))
                                : name;
    options.collections = collections;
    options.parallelism = static_cast<int>(parallel);
    options.source = "server " + db->dir();
    ARK_ASSIGN_OR_RETURN(std::string id,
                         jobs->Start("backup", "backup " + options.name + " to " + repo->store->Describe(),
                                     [db, repo, options](dr::Progress* p, const std::atomic<bool>* c) -> Result<json> {
                                       ARK_ASSIGN_OR_RETURN(auto m, dr::CreateBackup(db, repo->repo.get(), options, p, c));
                                       return dr::BackupManifestToJson(m);
                                     }));
    return json{{"jobId", id}, {"name", options.name}};
  });

  http.RegisterAdmin("backups/verify", [env, jobs](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, BackupName(ctx.body));
    ARK_ASSIGN_OR_RETURN(bool quick, Bool(ctx.body, "quick"));
    ARK_ASSIGN_OR_RETURN(dr::OpenedRepository opened, OpenFor(env, ctx.body, false));
    auto repo = std::make_shared<dr::OpenedRepository>(std::move(opened));
    ARK_ASSIGN_OR_RETURN(std::string id,
                         jobs->Start("verify", "verify " + name, [repo, name, quick](dr::Progress* p, const std::atomic<bool>* c) -> Result<json> {
                           ARK_ASSIGN_OR_RETURN(auto r, dr::VerifyBackup(repo->repo.get(), name, quick, 4, p, c));
                           return json{{"blobsChecked", r.blobs_checked}, {"bytesChecked", r.bytes_checked}, {"quick", quick}};
                         }));
    return json{{"jobId", id}};
  });

  http.RegisterAdmin("restores/create", [env, db, jobs](RequestContext& ctx) -> Result<json> {
    dr::RestoreOptions options;
    ARK_ASSIGN_OR_RETURN(options.name, BackupName(ctx.body));
    ARK_ASSIGN_OR_RETURN(options.target_dir, String(ctx.body, "targetDir", false));
    ARK_ASSIGN_OR_RETURN(int64_t parallel, Int(ctx.body, "parallel", 4, 1, 64));
    options.parallelism = static_cast<int>(parallel);
    ARK_ASSIGN_OR_RETURN(options.filter.select, Collections(ctx.body));
    ARK_ASSIGN_OR_RETURN(options.filter.suffix, String(ctx.body, "suffix", false));
    if (!options.filter.suffix.empty()) {
      if (Status s = ValidateName("collection", "c" + options.filter.suffix); !s.ok()) {
        return Status::InvalidArgument("'suffix' must keep collection names valid (letters, digits, '_'): " +
                                       s.message());
      }
    }
    if (auto it = ctx.body.find("rename"); it != ctx.body.end() && !it->is_null()) {
      if (!it->is_object()) return Status::InvalidArgument("'rename' must map old names to new names");
      for (const auto& [from, to] : it->items()) {
        if (!to.is_string()) return Status::InvalidArgument("'rename' must map old names to new names");
        ARK_ASSIGN_OR_RETURN(auto f, dr::ParseCollectionName(from));
        ARK_ASSIGN_OR_RETURN(auto t, dr::ParseCollectionName(to.get<std::string>()));
        options.filter.rename[f] = t;
      }
    }
    ARK_ASSIGN_OR_RETURN(dr::OpenedRepository opened, OpenFor(env, ctx.body, false));
    auto repo = std::make_shared<dr::OpenedRepository>(std::move(opened));
    if (options.target_dir.empty()) {
      // Into this server (dr/backup/restore_into_server.h). A name clash, an
      // unknown backup or collection fails the request itself.
      dr::LiveRestoreOptions live;
      live.name = options.name;
      live.filter = options.filter;
      live.parallelism = options.parallelism;
      ARK_ASSIGN_OR_RETURN(auto names, dr::CheckLiveRestore(db, repo->repo.get(), live));
      json targets = json::array();
      for (const auto& n : names) targets.push_back(n.ToString());
      ARK_ASSIGN_OR_RETURN(
          std::string id,
          jobs->Start("restore", "restore " + live.name + " into the running server",
                      [env, db, repo, live](dr::Progress* p, const std::atomic<bool>* c) -> Result<json> {
                        ARK_ASSIGN_OR_RETURN(auto r, dr::RestoreIntoDatabase(env, db, repo->repo.get(), live, p, c));
                        json cols = json::array();
                        for (size_t i = 0; i < r.collections.size(); ++i) {
                          const auto& ci = r.collections[i];
                          cols.push_back({{"database", ci.database}, {"name", ci.name}, {"rows", ci.live_rows},
                                          {"position", i < r.positions.size() ? r.positions[i].ToString() : ""}});
                        }
                        return json{{"collections", cols}, {"bytes", r.bytes}, {"files", r.files},
                                    {"seconds", r.seconds}, {"intoServer", true}};
                      }));
      return json{{"jobId", id}, {"collections", targets}};
    }
    ARK_ASSIGN_OR_RETURN(std::string id,
                         jobs->Start("restore", "restore " + options.name + " into " + options.target_dir,
                                     [env, repo, options](dr::Progress* p, const std::atomic<bool>* c) -> Result<json> {
                                       ARK_ASSIGN_OR_RETURN(auto r, dr::RestoreBackup(env, repo->repo.get(), options, p, c));
                                       json cols = json::array();
                                       for (const auto& ci : r.collections) {
                                         cols.push_back({{"database", ci.database}, {"name", ci.name}, {"rows", ci.live_rows}});
                                       }
                                       return json{{"collections", cols}, {"bytes", r.bytes}, {"files", r.files}, {"seconds", r.seconds}};
                                     }));
    return json{{"jobId", id}};
  });

  http.RegisterAdmin("backups/list", [env](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(dr::OpenedRepository repo, OpenFor(env, ctx.body, false));
    ARK_ASSIGN_OR_RETURN(auto backups, dr::ListBackups(repo.repo.get()));
    json out = json::array();
    for (const auto& m : backups) out.push_back(dr::BackupManifestToJson(m));
    return out;
  });
  http.RegisterAdmin("backups/describe", [env](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, BackupName(ctx.body));
    ARK_ASSIGN_OR_RETURN(dr::OpenedRepository repo, OpenFor(env, ctx.body, false));
    ARK_ASSIGN_OR_RETURN(auto m, dr::LoadBackup(repo.repo.get(), name));
    return dr::BackupManifestToJson(m);
  });
  http.RegisterAdmin("backups/delete", [env](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string name, BackupName(ctx.body));
    ARK_ASSIGN_OR_RETURN(dr::OpenedRepository repo, OpenFor(env, ctx.body, false));
    ARK_RETURN_IF_ERROR(dr::DeleteBackup(repo.repo.get(), name));
    return json::object();
  });
  http.RegisterAdmin("backups/prune", [env](RequestContext& ctx) -> Result<json> {
    dr::PruneOptions o;
    constexpr int64_t kMax = 1'000'000;
    int64_t v = 0;
    ARK_ASSIGN_OR_RETURN(v, Int(ctx.body, "keepLast", 0, 0, kMax));
    o.policy.keep_last = static_cast<int>(v);
    ARK_ASSIGN_OR_RETURN(v, Int(ctx.body, "keepDays", 0, 0, kMax));
    o.policy.keep_days = static_cast<int>(v);
    ARK_ASSIGN_OR_RETURN(v, Int(ctx.body, "keepDaily", 0, 0, kMax));
    o.policy.keep_daily = static_cast<int>(v);
    ARK_ASSIGN_OR_RETURN(v, Int(ctx.body, "keepWeekly", 0, 0, kMax));
    o.policy.keep_weekly = static_cast<int>(v);
    ARK_ASSIGN_OR_RETURN(v, Int(ctx.body, "keepMonthly", 0, 0, kMax));
    o.policy.keep_monthly = static_cast<int>(v);
    ARK_ASSIGN_OR_RETURN(v, Int(ctx.body, "graceSeconds", 3600, 0, int64_t{1} << 32));
    o.grace_micros = static_cast<uint64_t>(v) * 1000000;
    ARK_ASSIGN_OR_RETURN(o.dry_run, Bool(ctx.body, "dryRun"));
    ARK_ASSIGN_OR_RETURN(dr::OpenedRepository repo, OpenFor(env, ctx.body, false));
    ARK_ASSIGN_OR_RETURN(auto r, dr::PruneBackups(repo.repo.get(), o));
    return json{{"kept", r.kept},         {"removed", r.removed},           {"blobsDeleted", r.blobs_deleted},
                {"bytesFreed", r.bytes_freed}, {"blobsInGrace", r.blobs_in_grace}, {"dryRun", o.dry_run}};
  });

  http.RegisterAdmin("jobs/list", [jobs](RequestContext&) -> Result<json> { return jobs->List(); });
  http.RegisterAdmin("jobs/get", [jobs](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string id, String(ctx.body, "jobId", true));
    return jobs->Get(id);
  });
  http.RegisterAdmin("jobs/cancel", [jobs](RequestContext& ctx) -> Result<json> {
    ARK_ASSIGN_OR_RETURN(std::string id, String(ctx.body, "jobId", true));
    ARK_RETURN_IF_ERROR(jobs->Cancel(id));
    return jobs->Get(id);
  });
}

}  // namespace ark::server
