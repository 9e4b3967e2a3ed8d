#include "server/admin_dr.h"

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "dr/drill/drill_report.h"
#include "dr/drill/tiers.h"
#include "dr/schedule/cron.h"
#include "server/admin_replication.h"

#ifndef ARK_VERSION
#define ARK_VERSION "0.1.0"
#endif

namespace ark::server {
namespace {

constexpr int kDrStatusFormatVersion = 1;
// The newest drill reports listed (docs/formats/dr-status.md).
constexpr size_t kRecentDrills = 20;

nlohmann::json NullIfZero(uint64_t v) {
  return v == 0 ? nlohmann::json(nullptr) : nlohmann::json(v);
}

// A member of a JSON object read from disk, whatever its type; null when the
// object or the member is missing. Never throws (a drill report is input).
nlohmann::json Member(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nlohmann::json(nullptr) : *it;
}

std::string Role(const DrStatusSources& s) {
  if (s.db->IsFollower()) return "standby";
  if (s.lease != nullptr && s.lease->fenced()) return "fenced";
  return "primary";
}

nlohmann::json ServerJson(const ServerConfig& c) {
  const std::string url =
      !c.failover.advertise_url.empty()
          ? c.failover.advertise_url
          : fmt::format("{}://{}:{}", c.tls.enabled() ? "https" : "http", c.host, c.port);
  return {{"url", url}, {"dataDir", c.data_dir}, {"arkVersion", ARK_VERSION}};
}

nlohmann::json ArchiveJson(const DrStatusSources& s) {
  if (s.archiver == nullptr) return {{"enabled", false}};
  const dr::ArchiverStatus a = s.archiver->GetStatus();
  return {{"enabled", true},
          {"intervalSeconds", s.config->archive.interval_seconds},
          {"state", a.state},
          {"reason", a.reason},
          {"repository", a.repository},
          {"archivedPosition", a.archived.ToString()},
          {"archivedRecordMicros", NullIfZero(a.archived_record_micros)},
          {"lagSeconds", a.lag_seconds},
          {"failures", a.failures},
          {"gaps", a.gaps},
          {"spoolBytes", a.spool_bytes},
          {"writesBlocked", a.writes_blocked}};
}

// "keep_last=7, keep_days=30", or "" when the schedule keeps everything.
std::string RetentionText(const dr::BackupScheduleConfig& c) {
  std::string out;
  auto add = [&out](const char* key, int v) {
    if (v > 0) out += fmt::format("{}{}={}", out.empty() ? "" : ", ", key, v);
  };
  add("keep_last", c.keep_last);
  add("keep_days", c.keep_days);
  add("keep_daily", c.keep_daily);
  add("keep_weekly", c.keep_weekly);
  add("keep_monthly", c.keep_monthly);
  return out;
}

nlohmann::json ScheduleJson(const DrStatusSources& s, const dr::BackupScheduleConfig& c,
                            int64_t now_seconds) {
  nlohmann::json max_gap = nullptr;
  if (auto cron = dr::CronSchedule::Parse(c.cron); cron.ok()) {
    if (auto gap = cron->MaxGapSeconds(now_seconds)) max_gap = *gap;
  }
  const dr::BackupScheduler::Stats st = s.scheduler->GetStats(c.name);
  auto micros = [](int64_t unix_seconds) {
    return unix_seconds <= 0 ? nlohmann::json(nullptr) : nlohmann::json(unix_seconds * 1'000'000);
  };
  return {{"name", c.name},
          {"cron", c.cron},
          {"repo", c.repo},
          {"retention", RetentionText(c)},
          {"maxGapSeconds", max_gap},
          {"runs", st.runs},
          {"failures", st.failures},
          {"missed", st.missed},
          {"lastSuccessMicros", micros(st.last_success)},
          {"lastError", st.last_error},
          {"nextRunMicros", micros(st.next_run)},
          {"running", !st.running_job.empty()}};
}

nlohmann::json FailoverJson(const DrStatusSources& s) {
  const dr::FailoverConfig& f = s.config->failover;
  if (!f.enabled()) return nullptr;
  return {{"witness", f.witness},
          {"name", f.name},
          {"leaseTtlMs", f.lease_ttl_ms},
          {"lease", s.lease != nullptr ? s.lease->StatusJson() : nlohmann::json(nullptr)}};
}

// A database's tiers entry; its parsed targets go to *out (empty when it has
// none or they do not parse).
nlohmann::json TierJson(Database* db, const std::string& database, dr::DrTargets* out) {
  nlohmann::json j = {{"database", database}, {"targets", nullptr}, {"error", ""}};
  auto props = db->DatabaseProperties(database);
  if (!props.ok()) {
    j["error"] = props.status().message();  // dropped since it was listed
    return j;
  }
  auto targets = dr::TargetsFromProperties(*props);
  if (!targets.ok()) {
    j["error"] = targets.status().message();
  } else if (!targets->empty()) {
    targets->source = "database " + database;
    j["targets"] = targets->ToJson();
    *out = *targets;
  }
  return j;
}

// A collection with ark.dr.* properties of its own: its targets over its
// database's (MergeTargets); null for a collection without any.
nlohmann::json CollectionTierJson(const CollectionInfo& c, const dr::DrTargets& database) {
  std::map<std::string, std::string> own;
  for (const auto& [key, value] : c.properties) {
    if (key.rfind("ark.dr.", 0) == 0) own[key] = value;
  }
  if (own.empty()) return nullptr;
  nlohmann::json j = {{"database", c.database}, {"name", c.name}, {"targets", nullptr}, {"error", ""}};
  auto targets = dr::TargetsFromProperties(own);
  if (!targets.ok()) {
    j["error"] = targets.status().message();
    return j;
  }
  targets->source = fmt::format("collection {}.{}", c.database, c.name);
  j["targets"] = dr::MergeTargets(database, *targets).ToJson();
  return j;
}

// One entry of drills.recent[]: the report's summary (the whole report is
// report.json in its reportDir).
nlohmann::json DrillSummary(const nlohmann::json& report) {
  if (report.contains("unreadable")) {
    return {{"id", Member(report, "id")},
            {"reportDir", Member(report, "reportDir")},
            {"unreadable", Member(report, "unreadable")}};
  }
  nlohmann::json verdicts = nlohmann::json::array();
  const nlohmann::json collections = Member(report, "collections");
  if (collections.is_array()) {
    for (const auto& c : collections) {
      const nlohmann::json verdict = Member(c, "verdict");
      if (!verdict.is_object()) continue;  // no tier, no verdict
      verdicts.push_back({{"database", Member(c, "database")},
                          {"name", Member(c, "name")},
                          {"rto", Member(verdict, "rto")},
                          {"rpo", Member(verdict, "rpo")}});
    }
  }
  return {{"id", Member(report, "id")},
          {"scenario", Member(report, "scenario")},
          {"passed", Member(report, "passed")},
          {"error", Member(report, "error")},
          {"startedMicros", Member(report, "startedMicros")},
          {"finishedMicros", Member(report, "finishedMicros")},
          {"measured", Member(report, "measured")},
          {"reportDir", Member(report, "reportDir")},
          {"verdicts", std::move(verdicts)}};
}

nlohmann::json DrillsJson(const DrStatusSources& s) {
  const std::string dir = s.config->DrillReportDir();
  nlohmann::json recent = nlohmann::json::array();
  nlohmann::json j = {{"reportDir", dir}};
  Result<std::vector<nlohmann::json>> reports = std::vector<nlohmann::json>();
  try {
    reports = dr::ListDrillReports(s.env, dir, kRecentDrills);
  } catch (const std::exception& e) {
    // nlohmann throws on a report.json member of an unexpected type: one bad
    // file must not take the whole document down.
    reports = Status::Corruption(fmt::format("a report.json there is malformed: {}", e.what()));
  }
  if (!reports.ok()) {
    j["error"] =
        fmt::format("cannot list the drill reports in {}: {}", dir, reports.status().message());
  } else {
    for (const auto& r : *reports) recent.push_back(DrillSummary(r));
  }
  j["recent"] = std::move(recent);
  return j;
}

}  // namespace

nlohmann::json DrStatusJson(const DrStatusSources& s) {
  const uint64_t now_micros = s.env->WallMicros();
  nlohmann::json replication = ReplicationStatusJson(s.db, s.replication, s.standby, s.lease);
  nlohmann::json schedules = nlohmann::json::array();
  for (const auto& c : s.config->schedules) {
    schedules.push_back(ScheduleJson(s, c, static_cast<int64_t>(now_micros / 1'000'000)));
  }
  nlohmann::json tiers = nlohmann::json::array();
  nlohmann::json collection_tiers = nlohmann::json::array();
  nlohmann::json collections = nlohmann::json::array();
  for (const auto& database : s.db->ListDatabases()) {
    dr::DrTargets database_targets;
    tiers.push_back(TierJson(s.db, database, &database_targets));
    for (const auto& c : s.db->ListCollections(database)) {
      // What reads see, as ark_collection_rows reports it.
      auto snap = s.db->GetSnapshot(c.database, c.name);
      const uint64_t rows = snap.ok() ? (*snap)->CountRows() : c.live_rows;
      collections.push_back({{"database", c.database}, {"name", c.name}, {"rows", rows}});
      if (auto t = CollectionTierJson(c, database_targets); !t.is_null()) collection_tiers.push_back(std::move(t));
    }
  }
  nlohmann::json j = {{"format", "ark-dr-status"},
                      {"version", kDrStatusFormatVersion},
                      {"nowMicros", now_micros},
                      {"server", ServerJson(*s.config)},
                      {"role", Role(s)},
                      {"epoch", s.db->CurrentEpoch()},
                      {"lastPosition", Member(replication, "lastPosition")}};
  j["replication"] = std::move(replication);
  j["archive"] = ArchiveJson(s);
  j["schedules"] = std::move(schedules);
  j["failover"] = FailoverJson(s);
  j["tiers"] = std::move(tiers);
  j["collectionTiers"] = std::move(collection_tiers);
  j["collections"] = std::move(collections);
  j["drills"] = DrillsJson(s);
  return j;
}

void RegisterDrRoutes(HttpServer& http, DrStatusSources sources) {
  http.RegisterAdmin("dr/status", [sources](RequestContext&) -> Result<nlohmann::json> {
    return DrStatusJson(sources);
  });
}

}  // namespace ark::server
