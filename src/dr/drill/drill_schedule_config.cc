#include "dr/drill/drill_schedule_config.h"

#include <fmt/format.h>

#include "dr/schedule/cron.h"

namespace ark::dr {
namespace {

constexpr const char* kScenarios[] = {"restore-check", "site-loss", "primary-crash", "switchover"};

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// What a disruptive scenario does to the cluster it runs against.
const char* DisruptionOf(const std::string& scenario) {
  if (scenario == "site-loss")
    return "an operator's --kill-cmd kills the primary and destroys its data directory";
  if (scenario == "primary-crash")
    return "an operator's --kill-cmd kills the primary and forces a failover";
  return "it moves the primary role to a standby and pauses writes";  // switchover
}

}  // namespace

bool IsDrillScenario(const std::string& scenario) {
  for (const char* s : kScenarios) {
    if (scenario == s) return true;
  }
  return false;
}

Status ValidateDrillSchedule(const DrillScheduleConfig& s, const std::string& where) {
  bool name_ok = !s.name.empty() && s.name.size() <= 100 && s.name != "." && s.name != "..";
  for (char c : s.name) name_ok = name_ok && IsNameCharacter(c);
  if (!name_ok) {
    return Status::InvalidArgument(
        fmt::format("{}.name '{}' must be 1..100 characters of A-Z a-z 0-9 . _ -", where, s.name));
  }
  if (s.scenario.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}.scenario is required ({})", where, kSchedulableDrillScenario));
  }
  if (!IsDrillScenario(s.scenario)) {
    return Status::InvalidArgument(
        fmt::format("{}.scenario '{}' is not a drill scenario (restore-check, site-loss, "
                    "primary-crash, switchover); "
                    "only restore-check can be scheduled",
                    where, s.scenario));
  }
  if (s.scenario != kSchedulableDrillScenario) {
    return Status::InvalidArgument(
        fmt::format("{}.scenario '{}' cannot be scheduled: it is disruptive and breaks production "
                    "({}). Run it by hand, with an "
                    "operator present: `ark drill run {}` (docs/drills.md). Only restore-check, "
                    "which touches nothing but a "
                    "scratch directory, runs on a schedule",
                    where, s.scenario, DisruptionOf(s.scenario), s.scenario));
  }
  if (s.cron.empty())
    return Status::InvalidArgument(fmt::format("{}.cron is required (e.g. \"0 3 * * 0\")", where));
  if (auto c = CronSchedule::Parse(s.cron); !c.ok()) return c.status().WithContext(where + ".cron");
  if (s.repo.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}.repo is required: the backup repository to restore from", where));
  }
  if (!s.key_file.empty() && !s.passphrase_file.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}: key_file and passphrase_file are exclusive; give one", where));
  }
  if (s.samples < 1 || s.samples > 1000) {
    return Status::InvalidArgument(
        fmt::format("{}.samples must be 1..1000, got {}", where, s.samples));
  }
  return Status::OK();
}

}  // namespace ark::dr
