#include "dr/backup/retention.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string_view>

namespace ark::dr {
namespace {

namespace chrono = std::chrono;

constexpr int64_t kSecondsPerDay = 86400;
// Calendar arithmetic is done for 0001-01-01 .. 9999-12-31 (UTC); timestamps
// outside are clamped for bucketing only, so absurd values cannot overflow the
// date conversion. They still sort by their real value.
constexpr int64_t kMinCalendarSeconds = -62135596800;
constexpr int64_t kMaxCalendarSeconds = 253402300799;

chrono::sys_days DayOf(int64_t unix_seconds) {
  const int64_t t = std::clamp(unix_seconds, kMinCalendarSeconds, kMaxCalendarSeconds);
  int64_t day = t / kSecondsPerDay;
  if (t % kSecondsPerDay < 0) --day;  // floor, for instants before 1970
  return chrono::sys_days{chrono::days{day}};
}

// A calendar period a backup falls in: a key that orders periods, and a label
// for the reason string.
struct Period {
  int64_t key;
  std::string label;
};

Period DailyPeriod(chrono::sys_days day) {
  const chrono::year_month_day ymd{day};
  return {day.time_since_epoch().count(),
          fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()))};
}

// ISO 8601 week: Monday to Sunday; the week belongs to the year of its
// Thursday, so 2026-12-31 (a Thursday) is in 2026-W53 and 2027-01-01 too.
Period WeeklyPeriod(chrono::sys_days day) {
  const unsigned iso_weekday = chrono::weekday{day}.iso_encoding();  // Monday = 1
  const chrono::sys_days monday = day - chrono::days{iso_weekday - 1};
  const chrono::sys_days thursday = monday + chrono::days{3};
  const chrono::year iso_year = chrono::year_month_day{thursday}.year();
  const chrono::sys_days first_of_year{iso_year / 1 / 1};
  const int64_t week = (thursday - first_of_year).count() / 7 + 1;
  return {monday.time_since_epoch().count(),
          fmt::format("{:04d}-W{:02d}", static_cast<int>(iso_year), week)};
}

Period MonthlyPeriod(chrono::sys_days day) {
  const chrono::year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  const unsigned month = static_cast<unsigned>(ymd.month());
  return {int64_t{year} * 12 + month, fmt::format("{:04d}-{:02d}", year, month)};
}

Status ValidatePolicy(const RetentionPolicy& policy) {
  const std::pair<std::string_view, int> flags[] = {
      {"--keep-last", policy.keep_last},       {"--keep-days", policy.keep_days},
      {"--keep-daily", policy.keep_daily},     {"--keep-weekly", policy.keep_weekly},
      {"--keep-monthly", policy.keep_monthly},
  };
  for (const auto& [flag, value] : flags) {
    if (value < 0) {
      return Status::InvalidArgument(
          fmt::format("retention policy: {} must not be negative, got {}", flag, value));
    }
  }
  if (policy.empty()) {
    return Status::InvalidArgument(
        "a retention policy must keep something: set --keep-last, --keep-days, --keep-daily, "
        "--keep-weekly or --keep-monthly");
  }
  return Status::OK();
}

using Reasons = std::map<std::string, std::vector<std::string>>;

// Keeps the newest backup of each of the `count` most recent periods that have
// a backup. `newest_first` must be sorted newest first, so periods arrive in
// descending order and the first backup seen in a period is its newest.
void KeepPerPeriod(const std::vector<const BackupAge*>& newest_first, int count,
                   std::string_view rule, const std::function<Period(chrono::sys_days)>& period_of,
                   Reasons& reasons) {
  int kept = 0;
  std::optional<int64_t> previous_key;
  for (const BackupAge* backup : newest_first) {
    if (kept >= count) return;
    Period period = period_of(DayOf(backup->created_unix_seconds));
    if (previous_key == period.key) continue;
    previous_key = period.key;
    reasons[backup->name].push_back(fmt::format("{} {}", rule, period.label));
    ++kept;
  }
}

}  // namespace

bool RetentionPolicy::empty() const {
  return keep_last == 0 && keep_days == 0 && keep_daily == 0 && keep_weekly == 0 &&
         keep_monthly == 0;
}

Result<RetentionDecision> DecideRetention(const RetentionPolicy& policy,
                                          std::vector<BackupAge> backups,
                                          int64_t now_unix_seconds) {
  ARK_RETURN_IF_ERROR(ValidatePolicy(policy));
  std::set<std::string_view> names;
  for (const BackupAge& backup : backups) {
    if (!names.insert(backup.name).second) {
      return Status::InvalidArgument(fmt::format(
          "retention: backup name '{}' appears more than once in the list", backup.name));
    }
  }
  std::sort(backups.begin(), backups.end(), [](const BackupAge& a, const BackupAge& b) {
    if (a.created_unix_seconds != b.created_unix_seconds) {
      return a.created_unix_seconds > b.created_unix_seconds;
    }
    return a.name > b.name;
  });

  // Only complete backups can be restored, so only they fill rule slots.
  std::vector<const BackupAge*> complete;
  for (const BackupAge& backup : backups) {
    if (backup.complete) complete.push_back(&backup);
  }

  Reasons reasons;
  for (int i = 0; i < policy.keep_last && i < static_cast<int>(complete.size()); ++i) {
    reasons[complete[i]->name].push_back(fmt::format("last {}", policy.keep_last));
  }
  KeepPerPeriod(complete, policy.keep_daily, "daily", DailyPeriod, reasons);
  KeepPerPeriod(complete, policy.keep_weekly, "weekly", WeeklyPeriod, reasons);
  KeepPerPeriod(complete, policy.keep_monthly, "monthly", MonthlyPeriod, reasons);
  if (policy.keep_days > 0) {
    const int64_t span = int64_t{policy.keep_days} * kSecondsPerDay;
    const int64_t cutoff = now_unix_seconds < std::numeric_limits<int64_t>::min() + span
                               ? std::numeric_limits<int64_t>::min()
                               : now_unix_seconds - span;
    for (const BackupAge* backup : complete) {
      if (backup->created_unix_seconds < cutoff) break;  // sorted: the rest are older
      reasons[backup->name].push_back(
          fmt::format("within {} day{}", policy.keep_days, policy.keep_days == 1 ? "" : "s"));
    }
  }
  // Safety: never leave the repository without a restorable backup.
  if (!complete.empty() && !reasons.contains(complete.front()->name)) {
    reasons[complete.front()->name].push_back("newest backup (always kept)");
  }
  // An incomplete backup newer than every complete one may still be running.
  for (const BackupAge& backup : backups) {
    if (backup.complete) break;
    reasons[backup.name].push_back(
        "incomplete, newer than the newest complete backup (may still be running)");
  }

  RetentionDecision decision;
  for (const BackupAge& backup : backups) {
    auto it = reasons.find(backup.name);
    if (it == reasons.end()) {
      decision.remove.push_back(backup.name);
      continue;
    }
    decision.keep.push_back(backup.name);
    std::string joined;
    for (const std::string& reason : it->second) {
      if (!joined.empty()) joined += ", ";
      joined += reason;
    }
    decision.reasons[backup.name] = std::move(joined);
  }
  return decision;
}

}  // namespace ark::dr
