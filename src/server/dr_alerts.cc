#include "server/dr_alerts.h"

#include <fmt/format.h>

#include <algorithm>

#include "dr/drill/html_text.h"
#include "dr/drill/report_html.h"

namespace ark::server {
namespace {

using dr::html::ArrayMember;
using dr::html::Bool;
using dr::html::Integer;
using dr::html::Member;
using dr::html::Number;
using dr::html::Text;
using nlohmann::json;

std::string Duration(double ms) { return dr::FormatDrillDuration(ms); }

// "27 h ago"; "" when either time is unknown.
std::string Age(std::optional<int64_t> now_micros, std::optional<int64_t> micros) {
  if (!now_micros || !micros) return "";
  return Duration((static_cast<double>(*now_micros) - static_cast<double>(*micros)) / 1000) +
         " ago";
}

void AssessReplication(const json& doc, std::vector<DrAlert>& alerts) {
  const json& replication = Member(doc, "replication");
  for (const json& standby : ArrayMember(replication, "standbys")) {
    const std::string name = Text(standby, "name");
    if (Bool(standby, "connected") == false) {
      alerts.push_back({DrAlertSeverity::kWarning, "Standby " + name + " is not connected."});
    }
    if (Bool(Member(standby, "slot"), "invalidated") == true) {
      alerts.push_back({DrAlertSeverity::kCritical,
                        "Standby " + name + "'s slot was invalidated: it must bootstrap again."});
    }
    const std::optional<double> lag = Number(standby, "lagSeconds");
    if (lag && *lag > kDrLagWarningSeconds) {
      alerts.push_back({DrAlertSeverity::kWarning,
                        "Standby " + name + " is " + Duration(*lag * 1000) + " behind."});
    }
  }
  if (Bool(Member(replication, "sync"), "degraded") == true) {
    alerts.push_back({DrAlertSeverity::kWarning,
                      "Sync replication has degraded to async: writes are acknowledged without "
                      "a standby."});
  }
  const std::string state = Text(replication, "state");
  if (Text(doc, "role") == "standby" && !state.empty() && state != "streaming") {
    alerts.push_back(
        {state == "needs-rebootstrap" ? DrAlertSeverity::kCritical : DrAlertSeverity::kWarning,
         "This standby is " + state + ", not streaming from its primary."});
  }
}

void AssessArchive(const json& doc, std::vector<DrAlert>& alerts) {
  const json& archive = Member(doc, "archive");
  if (Bool(archive, "enabled") != true) return;
  const std::string state = Text(archive, "state");
  const std::string reason = Text(archive, "reason");
  const std::string because = reason.empty() ? "." : ": " + reason;
  if (state == "stopped") {
    alerts.push_back({DrAlertSeverity::kCritical, "The WAL archive has stopped" + because});
  } else if (state == "retrying") {
    alerts.push_back({DrAlertSeverity::kWarning, "The WAL archive is retrying" + because});
  }
  const std::optional<double> lag = Number(archive, "lagSeconds");
  const double interval = Number(archive, "intervalSeconds").value_or(0);
  if (lag && *lag > std::max(kDrLagWarningSeconds, 10 * interval)) {
    alerts.push_back(
        {DrAlertSeverity::kWarning, "The WAL archive is " + Duration(*lag * 1000) + " behind."});
  }
  const std::optional<int64_t> gaps = Integer(archive, "gaps");
  if (gaps && *gaps > 0) {
    alerts.push_back({DrAlertSeverity::kWarning,
                      fmt::format("The WAL archive has {} gap(s): records it lost since the "
                                  "server started (a point-in-time restore cannot cross them).",
                                  *gaps)});
  }
}

void AssessSchedules(const json& doc, std::vector<DrAlert>& alerts) {
  const std::optional<int64_t> now = Integer(doc, "nowMicros");
  for (const json& schedule : ArrayMember(doc, "schedules")) {
    const std::string name = Text(schedule, "name");
    if (JudgeBackupSchedule(schedule, now) == BackupScheduleState::kOverdue) {
      alerts.push_back(
          {DrAlertSeverity::kCritical,
           fmt::format("Backup schedule {} last succeeded {}, longer than its {} gap: the RPO "
                       "of a restore from it is no longer bounded by its schedule.",
                       name, Age(now, Integer(schedule, "lastSuccessMicros")),
                       Duration(Number(schedule, "maxGapSeconds").value_or(0) * 1000))});
    }
    const std::string error = Text(schedule, "lastError");
    if (!error.empty()) {
      alerts.push_back(
          {DrAlertSeverity::kWarning, "Backup schedule " + name + " failed: " + error});
    }
  }
}

void AssessOthers(const json& doc, std::vector<DrAlert>& alerts) {
  if (Text(doc, "role") == "fenced") {
    alerts.push_back({DrAlertSeverity::kCritical,
                      "This server is fenced: its witness names a newer epoch, and it refuses "
                      "writes."});
  }
  const json& lease = Member(Member(doc, "failover"), "lease");
  const std::string lease_state = Text(lease, "state");
  if (Text(doc, "role") == "primary" && !lease_state.empty() && lease_state != "held") {
    alerts.push_back({DrAlertSeverity::kWarning, "The leader lease is " + lease_state + "."});
  }
  for (const json& tier : ArrayMember(doc, "tiers")) {
    const std::string error = Text(tier, "error");
    if (!error.empty()) {
      alerts.push_back(
          {DrAlertSeverity::kWarning, "Database " + Text(tier, "database") + ": " + error});
    }
  }
  const json& drills = Member(doc, "drills");
  if (!Text(drills, "error").empty()) {
    alerts.push_back({DrAlertSeverity::kWarning, Text(drills, "error")});
  }
  const json& recent = ArrayMember(drills, "recent");
  if (recent.empty()) return;
  const json& newest = recent.front();
  const std::string id = Text(newest, "id");
  if (!Text(newest, "unreadable").empty()) {
    alerts.push_back(
        {DrAlertSeverity::kWarning,
         "The newest drill report " + id + " cannot be read: " + Text(newest, "unreadable")});
  } else if (Bool(newest, "passed") == false) {
    const std::string error = Text(newest, "error");
    alerts.push_back({DrAlertSeverity::kCritical,
                      "The newest drill " + id + " failed" +
                          (error.empty() ? ": a target was not met." : ": " + error)});
  }
}

}  // namespace

BackupScheduleState JudgeBackupSchedule(const json& schedule, std::optional<int64_t> now_micros) {
  const std::optional<int64_t> last = Integer(schedule, "lastSuccessMicros");
  if (!last) return BackupScheduleState::kNever;
  const std::optional<double> max_gap = Number(schedule, "maxGapSeconds");
  if (!now_micros || !max_gap) return BackupScheduleState::kUnknown;
  const double grace = std::max(60.0, *max_gap / 10);
  const double age_seconds = (static_cast<double>(*now_micros) - static_cast<double>(*last)) / 1e6;
  return age_seconds > *max_gap + grace ? BackupScheduleState::kOverdue
                                        : BackupScheduleState::kOnTime;
}

std::vector<DrAlert> AssessDrStatus(const json& status) {
  std::vector<DrAlert> alerts;
  try {
    AssessOthers(status, alerts);
    AssessReplication(status, alerts);
    AssessArchive(status, alerts);
    AssessSchedules(status, alerts);
  } catch (const json::exception& e) {
    // The readers are written not to throw; should one, say so.
    alerts.push_back(
        {DrAlertSeverity::kWarning, std::string("The status could not be read: ") + e.what()});
  }
  std::stable_sort(alerts.begin(), alerts.end(), [](const DrAlert& a, const DrAlert& b) {
    return a.severity == DrAlertSeverity::kCritical && b.severity != DrAlertSeverity::kCritical;
  });
  return alerts;
}

}  // namespace ark::server
