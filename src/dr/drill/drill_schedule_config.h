// DrillScheduleConfig: one scheduled drill (docs/drills.md, "Scheduled
// drills"), as `drills.schedules:` in `ark serve`'s YAML file describes it.
// It lives in dr/ because the drill scheduler (dr/drill/drill_scheduler.h)
// runs it; the server's config loader (server/server_config.h) only fills it
// in and calls ValidateDrillSchedule.
#pragma once

#include <string>

#include "core/status.h"

namespace ark::dr {

struct DrillScheduleConfig {
  std::string name;             // the `schedule` label of its metrics
  std::string scenario;         // only restore-check may be scheduled
  std::string cron;             // 5-field cron or @weekly etc., in UTC (dr/schedule/cron.h)
  std::string repo;             // the backup repository to restore from (URL)
  std::string key_file;         // encryption key (optional)
  std::string passphrase_file;  // or passphrase (optional)
  bool to_latest = false;       // restore to the end of the WAL archive
  int samples = 5;              // sample searches per collection, 1..1000
};

// The scenarios `ark drill run` knows, and the one a schedule may run.
inline constexpr const char* kSchedulableDrillScenario = "restore-check";
bool IsDrillScenario(const std::string& scenario);

// Checks one schedule; InvalidArgument naming the key under `where` (e.g.
// "drills.schedules[0]" -> "drills.schedules[0].scenario ..."): a name that
// is not 1..100 characters of A-Z a-z 0-9 . _ -, an empty cron or repo, a
// cron that does not parse, samples outside 1..1000, an unknown scenario,
// and every scenario but restore-check — the disruptive ones kill the
// primary with an operator's command and break production, so they are run
// by hand (`ark drill run`), never on a timer.
Status ValidateDrillSchedule(const DrillScheduleConfig& schedule, const std::string& where);

}  // namespace ark::dr
