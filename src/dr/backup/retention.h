// Retention: which backups a prune keeps (docs/schedules.md, "Retention").
//
// A pure function over (policy, backups, now): no I/O, no clock. The rules
// follow restic's and borg's `forget --keep-*`:
//
//   keep_last N     the N newest backups
//   keep_days D     backups created at or after now - D*24h (and any created
//                   after now: clocks drift, and a prune must not delete what
//                   it cannot place)
//   keep_daily N    for each of the N most recent UTC calendar days that have
//                   backups, the newest backup of that day
//   keep_weekly N   likewise per ISO week (Monday to Sunday, UTC)
//   keep_monthly N  likewise per calendar month (UTC)
//
// A backup is kept if ANY rule keeps it; the rest are removed. Whatever the
// policy, the newest complete backup is always kept, so a prune can never
// leave a repository with nothing to restore.
//
// Order: newest first by created time; backups created in the same second are
// ordered by name, the greater name counting as newer. That makes every
// decision deterministic.
//
// Incomplete backups (complete == false: an interrupted or still running
// backup) never count toward a rule, since they cannot be restored. Those
// newer than the newest complete backup are kept (one may still be running;
// the reason says so); older ones are removed. A caller that knows a backup
// is still running (it holds a lock) should leave it out of the list.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace ark::dr {

struct RetentionPolicy {
  int keep_last = 0;
  int keep_days = 0;
  int keep_daily = 0;
  int keep_weekly = 0;
  int keep_monthly = 0;

  // True if no rule is set (all zero): such a policy keeps nothing and is
  // refused by DecideRetention.
  bool empty() const;
};

struct BackupAge {
  std::string name;
  int64_t created_unix_seconds = 0;
  bool complete = true;
};

struct RetentionDecision {
  std::vector<std::string> keep;    // newest first
  std::vector<std::string> remove;  // newest first
  // For every kept backup, why: the rules that keep it joined by ", ", e.g.
  // "last 3, daily 2026-11-25, weekly 2026-W48, monthly 2026-11, within 30 days",
  // or "newest backup (always kept)".
  std::map<std::string, std::string> reasons;
};

// Decides which of `backups` to keep under `policy` at `now_unix_seconds`.
// InvalidArgument if the policy is empty or has a negative value (naming the
// flag, e.g. --keep-daily), or if two backups share a name. An empty list is
// fine (nothing to keep, nothing to remove).
Result<RetentionDecision> DecideRetention(const RetentionPolicy& policy,
                                          std::vector<BackupAge> backups, int64_t now_unix_seconds);

}  // namespace ark::dr
