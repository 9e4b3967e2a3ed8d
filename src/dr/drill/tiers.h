// DR tiers (docs/formats/dr-tiers.md): the RTO and RPO a database or a
// collection promises, read from its Milvus properties (`ark.dr.*`), the
// verdict on a measured RTO/RPO, and the rules of `ark dr check`, which
// compares what the deployment can achieve (schedules, archiving,
// replication, failover, past drills) with every database's targets.
//
// Everything here is pure: no I/O, no clock (the caller passes `now`), no
// HTTP. The facts are gathered elsewhere (the CLI) and handed in. All
// functions are thread-safe (they touch no shared state).
//
// Two independent scales, named after the seed's business classes:
//   RTO: critical (< 1 h), important (1–4 h), general (4–24 h), non-critical (> 24 h, no target)
//   RPO: zero (0), very-low (< 1 h), low (1–24 h), tolerable (> 24 h, no target)
// A tier's target is met when the measured value is under it for the "< X"
// tiers (critical, very-low) and at most it for the others; `zero` needs
// exactly 0. A custom target (`ark.dr.*_target_seconds`) replaces the tier's
// and is met at most at it.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ark::dr {

// Bumped by any change that removes or re-types a key of the JSON below or
// changes a rule's meaning (docs/formats/dr-tiers.md).
inline constexpr int kDrTiersFormatVersion = 1;

inline constexpr char kDrPropertyPrefix[] = "ark.dr.";
inline constexpr char kRtoTierKey[] = "ark.dr.rto_tier";
inline constexpr char kRpoTierKey[] = "ark.dr.rpo_tier";
inline constexpr char kRtoTargetSecondsKey[] = "ark.dr.rto_target_seconds";
inline constexpr char kRpoTargetSecondsKey[] = "ark.dr.rpo_target_seconds";
// Custom targets above this (10 years) are refused: surely a typo, and the
// value must fit in milliseconds.
inline constexpr uint64_t kMaxTargetSeconds = 315'360'000;

// The targets one database (or collection) carries. A scale with neither a
// tier nor a custom target is unset; a tier without a target (non-critical,
// tolerable) is set but promises no number.
struct DrTargets {
  std::string rto_tier;                   // "" = not set
  std::string rpo_tier;                   // "" = not set
  std::optional<uint64_t> rto_target_ms;  // nullopt: no target
  std::optional<uint64_t> rpo_target_ms;
  std::string source;  // where they came from, e.g. "database default"; set by the caller
  // True when the target is a custom `ark.dr.*_target_seconds` (met at ≤)
  // rather than the tier's own (met at < for critical and very-low).
  bool rto_target_custom = false;
  bool rpo_target_custom = false;

  // No tier and no target on either scale.
  bool empty() const;
  // {"rtoTier", "rpoTier", "rtoTargetMs", "rpoTargetMs", "rtoTargetCustom",
  //  "rpoTargetCustom", "source"}; unset tiers and absent targets are null.
  nlohmann::json ToJson() const;
};

// Reads the `ark.dr.*` keys of `props` and ignores all others. An unknown
// `ark.dr.*` key or a bad value is InvalidArgument naming the key, the value
// and what is allowed. `source` is left empty for the caller to fill.
Result<DrTargets> TargetsFromProperties(const std::map<std::string, std::string>& props);

// For the server to call before storing a property: OK for any key outside
// `ark.dr.*`; otherwise the same checks (and messages) as
// TargetsFromProperties.
Status ValidateDrProperty(const std::string& key, const std::string& value);

// A collection's targets over its database's: per scale, a collection that
// sets anything on that scale (a tier or a custom target) replaces the
// database's whole scale; otherwise the database's applies. `source` names
// where each scale came from.
DrTargets MergeTargets(const DrTargets& database, const DrTargets& collection);

// The verdict on measured figures. Each scale is one of "pass", "fail",
// "no-target" (the scale promises no number) or "not-measured".
struct Verdict {
  std::string rto;
  std::string rpo;
  // One sentence per scale that failed or was not measured, naming the
  // measured value and the target in human units:
  // "RTO 1 h 12 min exceeds the critical tier's 1 h by 12 min".
  std::vector<std::string> reasons;

  // Neither scale is "fail" (not-measured and no-target do not fail).
  bool passed() const;
  // {"rto", "rpo", "reasons"}
  nlohmann::json ToJson() const;
};

Verdict Judge(const DrTargets& targets, std::optional<uint64_t> measured_rto_ms,
              std::optional<uint64_t> measured_rpo_ms);

// A duration as people read it, truncated (never rounded up) to its two
// largest units: "850 ms", "4.2 s", "12 min 5 s", "1 h 12 min", "3 d 4 h".
std::string FormatDuration(uint64_t ms);

// ---------------------------------------------------------------------------
// `ark dr check`: what the deployment can achieve against what each database
// promises. The facts are as read elsewhere (config, status routes, drill
// reports); nothing here checks that they are current.

struct BackupScheduleFact {
  std::string name;
  // The longest gap between two consecutive runs of its cron (a weekday-only
  // schedule has a 3-day gap), in seconds. 0: unknown (the schedule is
  // then not counted towards the RPO).
  uint64_t interval_seconds = 0;
  std::string retention;  // as configured, e.g. "keep_last=7": shown in messages only
  // When its newest backup succeeded (UTC µs); nullopt: unknown. When that
  // is longer ago than the interval, backups are failing and the real
  // recovery point is that old.
  std::optional<uint64_t> last_success_micros;
};

struct WalArchiveFact {
  bool enabled = false;
  uint64_t interval_seconds = 1;  // archive.interval_seconds: the longest wait between uploads
};

struct ReplicationFact {
  std::string mode = "none";     // none | async | sync | periodic (anything else counts as none)
  uint64_t period_seconds = 60;  // periodic: ships every this many seconds
  std::string sync_policy = "degrade";  // sync: degrade | block (replication.sync_policy)
  uint32_t standbys = 0;                // standbys the primary knows of (slots)
  uint32_t connected_standbys = 0;      // of those, connected now
  std::optional<uint64_t> lag_ms;       // the worst connected standby's lag, if known
};

struct FailoverFact {
  bool monitor = false;       // an `ark monitor` watches this primary
  bool auto_failover = true;  // ...and promotes by itself (not --no-auto-failover)
  uint64_t check_interval_ms = 1000;
  uint32_t failures = 3;  // consecutive failed checks before failing over
  uint64_t lease_ttl_ms = 5000;
};

struct DrillFact {
  std::string
      scenario;  // restore-check, site-loss, primary-crash, network-partition, switchover, ...
  uint64_t finished_micros = 0;  // UTC µs
  bool passed = false;
  std::optional<uint64_t> rto_ms;  // measured.rtoMs
  std::optional<uint64_t> rpo_ms;  // measured.rpoMs
};

struct DrFacts {
  std::vector<BackupScheduleFact> backup_schedules;
  WalArchiveFact archive;
  ReplicationFact replication;
  FailoverFact failover;
  std::vector<DrillFact> drills;  // any order
  uint64_t now_micros = 0;        // UTC µs
};

// Seconds the estimate of an automatic failover adds to detection and the
// lease wait: choosing, promoting, switching traffic (measured ≤ 10 s in
// all, docs/benchmarks/failover.md).
inline constexpr uint64_t kFailoverActionMs = 5000;

struct Finding {
  std::string severity;  // "fail" | "warn" | "ok"
  std::string target;    // "rpo" | "rto" | "drill"
  std::string database;  // as passed in: "db" or "db.collection"
  std::string message;   // one or two sentences; a fail says which setting to change
};

// Applies the rules of docs/formats/dr-tiers.md to every (name, targets)
// pair, in order; for each: the RPO findings, then RTO, then drill.
std::vector<Finding> CheckTargets(const std::vector<std::pair<std::string, DrTargets>>& targets,
                                  const DrFacts& facts);

// 1 if any finding is "fail", else 0 (warnings do not fail the check).
int ExitCode(const std::vector<Finding>& findings);

// {"format": "ark-dr-check", "version": 1, "passed", "counts": {"fail", "warn", "ok"},
//  "findings": [{"severity", "target", "database", "message"}]}
nlohmann::json FindingsToJson(const std::vector<Finding>& findings);

}  // namespace ark::dr
