#include "dr/drill/restore_check.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dr/archive/archive_index.h"
#include "dr/archive/pitr.h"
#include "dr/backup/backup.h"
#include "dr/drill/drill_api.h"
#include "dr/drill/scratch_server.h"
#include "dr/drill/tiers.h"
#include "dr/failover/http_json.h"

namespace ark::dr {
namespace {


Result<nlohmann::json> Api(const std::string& url, const std::string& route, nlohmann::json body) {
  return MilvusApi(url, route, body);
}

// Verifies one collection on the scratch server; fills `c` and the report's
// checks. Returns whether its sample searches were correct.
bool VerifyCollection(const std::string& url, const RecoveredCollection& e, int samples, DrillReport* report, nlohmann::json* c) {
  const std::string full = e.database + "." + e.name;
  const nlohmann::json where = {{"dbName", e.database}, {"collectionName", e.name}};
  auto stats = Api(url, "collections/get_stats", where);
  if (!stats.ok()) {
    report->Check("rows", false, fmt::format("{}: get_stats failed: {}", full, stats.status().message()));
    return false;
  }
  const uint64_t rows = stats->is_object() && (*stats)["rowCount"].is_number_unsigned() ? (*stats)["rowCount"].get<uint64_t>() : 0;
  (*c)["rows"] = rows;
  report->Check("rows", rows == e.rows,
                rows == e.rows ? fmt::format("{}: {} rows, as the source recorded", full, rows)
                               : fmt::format("{}: {} rows served, the source recorded {}", full, rows, e.rows));

  auto desc = Api(url, "collections/describe", where);
  if (!desc.ok()) {
    report->Check("describe", false, fmt::format("{}: describe failed: {}", full, desc.status().message()));
    return false;
  }
  std::string pk, vec;
  if ((*desc)["fields"].is_array()) {
    for (const auto& f : (*desc)["fields"]) {
      if (!f.is_object() || !f["name"].is_string()) continue;
      if (f.value("primaryKey", false)) pk = f["name"].get<std::string>();
      if (vec.empty() && f["type"].is_string() && f["type"] == "FloatVector") vec = f["name"].get<std::string>();
    }
  }
  (*c)["samples"] = 0;
  (*c)["samplesFound"] = 0;
  if (pk.empty() || vec.empty()) {
    report->Check("search", true, fmt::format("{}: no float vector field; no sample search", full));
    return true;
  }
  if (rows == 0) {
    report->Check("search", true, fmt::format("{}: empty; no sample search", full));
    return true;
  }
  if ((*desc).value("load", "") != "LoadStateLoaded") {
    auto loaded = Api(url, "collections/load", where);
    if (!loaded.ok()) {
      report->Check("load", false, fmt::format("{}: load failed: {}", full, loaded.status().message()));
      return false;
    }
  }
  nlohmann::json q = where;
  q["filter"] = "";
  q["limit"] = samples;
  q["outputFields"] = {pk, vec};
  auto got = Api(url, "entities/query", q);
  if (!got.ok() || !got->is_array()) {
    report->Check("search", false, fmt::format("{}: sample query failed: {}", full,
                                               got.ok() ? "no rows array" : got.status().message()));
    return false;
  }
  int found = 0, asked = 0;
  std::string misses;
  for (const auto& row : *got) {
    if (!row.is_object() || !row.contains(pk) || !row.contains(vec)) continue;
    ++asked;
    nlohmann::json s = where;
    s["data"] = nlohmann::json::array({row[vec]});
    s["annsField"] = vec;
    s["limit"] = 10;
    s["outputFields"] = {pk};
    auto hits = Api(url, "entities/search", s);
    bool hit = false;
    if (hits.ok() && hits->is_array()) {
      for (const auto& h : *hits) {
        if (h.is_object() && h.contains(pk) && h[pk] == row[pk]) hit = true;
      }
    }
    if (hit) {
      ++found;
    } else if (misses.size() < 300) {
      misses += fmt::format(" {}={}{}", pk, row[pk].dump(), hits.ok() ? "" : " (" + hits.status().message() + ")");
    }
  }
  (*c)["samples"] = asked;
  (*c)["samplesFound"] = found;
  const bool ok = asked > 0 && found == asked;
  report->Check("search", ok,
                ok ? fmt::format("{}: {} stored rows each found by a search with its own vector", full, asked)
                   : fmt::format("{}: {} of {} sample rows found by a search with their own vector; missed:{}", full,
                                 found, asked, misses));
  return ok;
}

}  // namespace

Result<Recovery> RecoverInto(Env* env, Repository* repo, const RestoreCheckOptions& options,
                             const std::string& data_dir, DrillReport* report) {
  // 1. What to recover from.
  ARK_ASSIGN_OR_RETURN(auto backups, ListBackups(repo));
  if (backups.empty()) return Status::NotFound(fmt::format("no backup in {}", options.repo_description));
  ARK_ASSIGN_OR_RETURN(auto index, ArchiveIndex::Load(repo));
  if (options.to_latest && index.empty()) {
    return Status::FailedPrecondition(
        fmt::format("--to-latest needs a WAL archive, and {} has none (docs/archive.md)", options.repo_description));
  }
  std::string name = options.backup;
  if (name.empty()) {
    name = std::max_element(backups.begin(), backups.end(), [](const BackupManifest& a, const BackupManifest& b) {
             return a.position_micros < b.position_micros;
           })->name;
  }
  ARK_ASSIGN_OR_RETURN(BackupManifest bm, LoadBackup(repo, name));
  nlohmann::json source = {{"repo", options.repo_description}, {"backup", bm.name},
                           {"backupPosition", bm.position.ToString()}, {"backupTimeMicros", bm.position_micros},
                           {"pointInTime", options.to_latest ? "latest" : ""}};
  report->SetSource(source);
  report->Event("source-chosen", "recovery",
                fmt::format("backup {} (cut at {}){}", bm.name, bm.position.ToString(),
                            options.to_latest ? ", then the archived WAL to its end" : ""));

  // 2. Restore.
  const uint64_t restore_start = report->ElapsedMs();
  std::vector<RecoveredCollection> expected;
  uint64_t recovered_until = bm.position_micros;
  if (options.to_latest || !index.empty()) {
    // With an archive, a restore records the epoch it writes in (the
    // point-in-time path), as `ark restore` does.
    PitrOptions p;
    p.target.kind = options.to_latest ? PitrTarget::Kind::kLatest : PitrTarget::Kind::kPosition;
    p.target.position = bm.position;
    p.backup = options.to_latest ? options.backup : bm.name;
    p.target_dir = data_dir;
    p.parallelism = options.parallelism;
    ARK_ASSIGN_OR_RETURN(PitrReport r, RestoreToPointInTime(env, repo, p));
    for (const auto& c : r.restore.collections) {
      RecoveredCollection e{c.database, c.name, c.live_rows, ""};
      // Nothing replayed after the backup: the state is the backup's cut.
      if (r.archived_records == 0) {
        for (const auto& bc : bm.collections) {
          if (bc.database == c.database && bc.name == c.name) e.checksum = bc.checksum;
        }
      }
      expected.push_back(std::move(e));
    }
    recovered_until = std::max(recovered_until, r.reached_micros);
    source["backup"] = r.backup;
    source["reachedPosition"] = r.reached.ToString();
    source["reachedTimeMicros"] = r.reached_micros;
    report->SetSource(source);
    report->Event("restored", "recovery",
                  fmt::format("backup {} + {} archived records, to {}: {} files, {} bytes", r.backup,
                              r.archived_records, r.reached.ToString(), r.restore.files, r.restore.bytes));
  } else {
    RestoreOptions o;
    o.name = bm.name;
    o.target_dir = data_dir;
    o.parallelism = options.parallelism;
    ARK_ASSIGN_OR_RETURN(RestoreReport r, RestoreBackup(env, repo, o));
    for (const auto& c : r.collections) expected.push_back({c.database, c.name, c.live_rows, ""});
    report->Event("restored", "recovery", fmt::format("backup {}: {} files, {} bytes", bm.name, r.files, r.bytes));
  }
  report->Measure("restoreMs", report->ElapsedMs() - restore_start);
  // The restore checked every blob's hash and the rows at open; the rows
  // served are checked against the source's record: the backup's for a
  // plain restore, the replayed database's for a point in time.
  if (options.to_latest || !index.empty()) {
    // (expected already holds the replayed counts)
  } else {
    for (auto& e : expected) {
      for (const auto& bc : bm.collections) {
        if (e.database == bc.database && e.name == bc.name) {
          e.rows = bc.rows;
          e.checksum = bc.checksum;
        }
      }
    }
  }
  return Recovery{std::move(expected), recovered_until};
}

// The restored rows against the content checksums the backup recorded at
// its cut: the "content" check, and checksum/contentMatches per collection.
static void CompareContent(const std::string& url, const std::vector<RecoveredCollection>& expected, DrillReport* report,
                    std::vector<nlohmann::json>* collections) {
  size_t recorded = 0;
  for (const auto& e : expected) recorded += e.checksum.empty() ? 0 : 1;
  if (recorded == 0) {
    report->Event("content-not-compared", "verification",
                  "no content checksum to compare: the backup predates them, or archived records were replayed "
                  "after it (rows and sample searches were checked)");
    return;
  }
  auto sums = AdminApi(url, "collections/checksum", nlohmann::json::object(), "", 600000);
  if (!sums.ok() || !(*sums)["collections"].is_array()) {
    report->Check("content", false, fmt::format("cannot read the restored copy's checksums: {}",
                                                sums.ok() ? "no collections in the answer" : sums.status().message()));
    return;
  }
  std::map<std::pair<std::string, std::string>, std::string> got;
  for (const auto& j : (*sums)["collections"]) got[{j.value("database", ""), j.value("name", "")}] = j.value("checksum", "");
  std::vector<std::string> bad;
  for (size_t i = 0; i < expected.size(); ++i) {
    const RecoveredCollection& e = expected[i];
    if (e.checksum.empty()) continue;
    auto it = got.find({e.database, e.name});
    const std::string sum = it == got.end() ? "" : it->second;
    (*collections)[i]["checksumExpected"] = e.checksum;
    (*collections)[i]["checksum"] = sum;
    (*collections)[i]["contentMatches"] = sum == e.checksum;
    if (sum != e.checksum) {
      bad.push_back(fmt::format("{}.{}: {} (the backup recorded {})", e.database, e.name,
                                sum.empty() ? "missing" : sum, e.checksum));
    }
  }
  report->Check("content", bad.empty(),
                bad.empty() ? fmt::format("{} collection(s) hold exactly the rows the backup recorded (content checksums)",
                                          recorded)
                            : fmt::format("restored content differs from the backup: {}", fmt::join(bad, "; ")));
}

Status StartScratchServer(const RestoreCheckOptions& options, const std::string& data_dir, ScratchServer* server,
                          DrillReport* report) {
  ScratchServerOptions so;
  so.ark_binary = options.ark_binary;
  so.data_dir = data_dir;
  so.log_file = JoinPath(options.work_dir, "serve.log");
  so.extra_args = {"--log-level", "warn"};
  ARK_RETURN_IF_ERROR(server->Start(so));
  report->Event("instance-started", "recovery", fmt::format("ark serve on {} (pid {})", server->url(), server->pid()));
  ARK_RETURN_IF_ERROR(server->WaitReady(options.ready_timeout_ms));
  report->Event("instance-ready", "recovery", fmt::format("{}/readyz answers 200", server->url()));
  return Status::OK();
}

Status RunRestoreCheck(Env* env, Repository* repo, const RestoreCheckOptions& options, DrillReport* report) {
  report->Event("drill-started", "disaster",
                fmt::format("restore-check of {}: the site is taken as lost now; recovering into the scratch directory {}",
                            options.repo_description, options.work_dir));
  if (Status s = CheckRestoreTarget(env, options.work_dir); !s.ok()) {
    report->Fail(s);
    return s;
  }
  const std::string data_dir = JoinPath(options.work_dir, "data");
  ScratchServer server(env);
  auto run = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(Recovery recovery, RecoverInto(env, repo, options, data_dir, report));
    std::vector<RecoveredCollection>& expected = recovery.expected;
    const uint64_t recovered_until = recovery.recovered_until_micros;
    const uint64_t rpo_ms = report->started_micros() > recovered_until
                                ? (report->started_micros() - recovered_until) / 1000 : 0;
    report->Measure("rpoMs", rpo_ms);

    // 3. A real server on the restored data.
    ARK_RETURN_IF_ERROR(StartScratchServer(options, data_dir, &server, report));

    // 4. Verify every collection; the service counts as restored when all
    // of them answer correct searches.
    bool all_ok = true;
    std::vector<nlohmann::json> collections;
    for (const auto& e : expected) {
      nlohmann::json c = {{"database", e.database}, {"name", e.name}, {"expectedRows", e.rows}};
      all_ok = VerifyCollection(server.url(), e, options.samples, report, &c) && all_ok;
      collections.push_back(std::move(c));
    }
    const uint64_t rto_ms = report->ElapsedMs();
    if (all_ok) {
      report->Measure("rtoSearchMs", rto_ms);
      report->Measure("rtoMs", rto_ms);
    }
    report->Event("verified", "verification",
                  all_ok ? fmt::format("{} collection(s): rows and sample searches correct", expected.size())
                         : "verification failed (see the checks)");
    CompareContent(server.url(), expected, report, &collections);

    // 5. Verdicts against each collection's tier (its own, over its database's).
    std::set<std::string> databases;
    for (const auto& e : expected) databases.insert(e.database);
    auto targets = ReadTargets(server.url(), databases, report);
    for (auto& c : collections) {
      const std::string database = c["database"].get<std::string>();
      auto t = targets.find(database);
      const DrTargets merged = CollectionTargets(server.url(), database, c["name"].get<std::string>(),
                                                 t != targets.end() ? t->second : DrTargets{}, report);
      if (!merged.empty()) {
        c["targets"] = merged.ToJson();
        std::optional<uint64_t> rto = all_ok ? std::optional<uint64_t>(rto_ms) : std::nullopt;
        c["verdict"] = Judge(merged, rto, rpo_ms).ToJson();
      }
      report->AddCollection(std::move(c));
    }
    if (expected.empty()) report->Check("collections", false, "the backup holds no collection");
    return Status::OK();
  };
  Status s = run();
  if (!s.ok()) report->Fail(s);
  if (Status st = server.Stop(); !st.ok()) report->Check("teardown", false, st.message());
  if (!options.keep) {
    if (Status rm = env->RemoveAll(options.work_dir); !rm.ok()) report->Check("teardown", false, rm.message());
  }
  report->Event("torn-down", "teardown",
                options.keep ? fmt::format("scratch instance stopped; kept {}", options.work_dir)
                             : "scratch instance stopped and its directory removed");
  if (!s.ok()) return s;
  if (!report->passed()) return Status::FailedPrecondition(report->FailureSummary());
  return Status::OK();
}

}  // namespace ark::dr
