// What in a DR status document (docs/formats/dr-status.md) needs a person's
// attention: the dashboard's health badge and the list under it
// (docs/drills.md#dashboard). A reading for display, not a policy: `ark dr
// check` judges the same document against the tiers, and its exit code is
// what CI should act on.
//
// Critical: a fenced server, a standby that must bootstrap again (an
// invalidated slot, needs-rebootstrap), a stopped WAL archive, a backup
// schedule past its longest cron gap plus grace (the RPO of a restore from it
// is no longer bounded by the schedule), a newest drill that failed.
// Warning: a standby disconnected, not streaming or more than a minute
// behind, sync replication degraded to async, a retrying archive, one more
// than a minute (and ten intervals) behind or with gaps, a schedule whose
// last run failed, a leader lease not held by a primary, a tier that does
// not parse, drill reports that cannot be listed or read.
//
// Pure and thread-safe; never throws on any JSON value (missing or
// wrong-typed keys raise nothing); ages come from the document's nowMicros.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ark::server {

enum class DrAlertSeverity { kWarning, kCritical };

struct DrAlert {
  DrAlertSeverity severity;
  std::string text;  // one sentence, plain text (escape it to show it)
};

// Lag beyond this (replication or archive) is worth a warning.
inline constexpr double kDrLagWarningSeconds = 60;

// Every alert, critical ones first, otherwise in the document's order.
std::vector<DrAlert> AssessDrStatus(const nlohmann::json& status);

// A backup schedule (an entry of `schedules[]`) judged by its newest success:
// overdue once that is older than maxGapSeconds (the longest its cron waits
// between two runs) plus a grace of a tenth of it, at least a minute, for the
// backup itself to run; kNever without one; kUnknown without a clock or gap.
enum class BackupScheduleState { kOnTime, kOverdue, kNever, kUnknown };
BackupScheduleState JudgeBackupSchedule(const nlohmann::json& schedule,
                                        std::optional<int64_t> now_micros);

}  // namespace ark::server
