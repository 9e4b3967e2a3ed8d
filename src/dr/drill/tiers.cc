#include "dr/drill/tiers.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <string_view>

namespace ark::dr {
namespace {

constexpr uint64_t kSecondMs = 1000;
constexpr uint64_t kMinuteMs = 60 * kSecondMs;
constexpr uint64_t kHourMs = 60 * kMinuteMs;
constexpr uint64_t kDayMs = 24 * kHourMs;

struct Tier {
  std::string_view name;
  std::optional<uint64_t> target_ms;  // nullopt: the tier promises no number
  bool strict;                        // met below the target ("< 1 h"), not at it
};

constexpr Tier kRtoTiers[] = {
    {"critical", kHourMs, true},
    {"important", 4 * kHourMs, false},
    {"general", 24 * kHourMs, false},
    {"non-critical", std::nullopt, false},
};
constexpr Tier kRpoTiers[] = {
    {"zero", 0, false},
    {"very-low", kHourMs, true},
    {"low", 24 * kHourMs, false},
    {"tolerable", std::nullopt, false},
};

template <size_t N>
const Tier* FindTier(const Tier (&tiers)[N], std::string_view name) {
  for (const Tier& t : tiers) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

template <size_t N>
std::string TierNames(const Tier (&tiers)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) out += fmt::format("{}{}", i == 0 ? "" : ", ", tiers[i].name);
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Result<uint64_t> ParseTargetSeconds(const std::string& key, const std::string& value) {
  auto bad = [&] {
    return Status::InvalidArgument(
        fmt::format("{} = '{}': not a target in seconds; use a whole number from 0 to {}", key,
                    value, kMaxTargetSeconds));
  };
  if (value.empty() || value.size() > 10 ||
      value.find_first_not_of("0123456789") != std::string::npos)
    return bad();
  uint64_t seconds = 0;
  for (char c : value) seconds = seconds * 10 + static_cast<uint64_t>(c - '0');
  if (seconds > kMaxTargetSeconds) return bad();
  return seconds;
}

// One scale (RTO or RPO) of a DrTargets, so that both are judged by one code path.
struct Scale {
  std::string name;  // "RTO" | "RPO"
  std::string tier;
  std::optional<uint64_t> target_ms;
  bool custom = false;

  bool set() const { return !tier.empty() || target_ms.has_value(); }
  bool strict() const {
    if (custom) return false;
    const Tier* t = name == "RTO" ? FindTier(kRtoTiers, tier) : FindTier(kRpoTiers, tier);
    return t != nullptr && t->strict;
  }
  bool Met(uint64_t measured_ms) const {
    return strict() ? measured_ms < *target_ms : measured_ms <= *target_ms;
  }
  // "the critical tier's 1 h", "the custom target of 10 min", "the zero tier's 0".
  std::string TargetPhrase() const {
    if (custom || tier.empty())
      return fmt::format("the custom target of {}", FormatDuration(*target_ms));
    return fmt::format("the {} tier's {}", tier,
                       *target_ms == 0 ? "0" : FormatDuration(*target_ms));
  }
  // "critical RTO tier", "custom RPO target of 30 min".
  std::string RequirementName() const {
    if (custom || tier.empty())
      return fmt::format("the custom {} target of {}", name, FormatDuration(*target_ms));
    return fmt::format("the {} {} tier", tier, name);
  }
  // "under 3600 s" / "at most 86400 s": the bound a setting must respect.
  std::string BoundSeconds() const {
    return fmt::format("{} {} s", strict() ? "under" : "at most", *target_ms / kSecondMs);
  }
  std::string FailReason(uint64_t measured_ms) const {
    const uint64_t target = *target_ms;
    std::string measured = FormatDuration(measured_ms);
    if (target == 0) {
      return fmt::format("{} {} exceeds {}{}", name, measured, TargetPhrase(),
                         name == "RPO" ? ": no acknowledged write may be lost" : "");
    }
    if (measured_ms == target)
      return fmt::format("{} {} is not under {}", name, measured, TargetPhrase());
    return fmt::format("{} {} exceeds {} by {}", name, measured, TargetPhrase(),
                       FormatDuration(measured_ms - target));
  }
};

Scale RtoScale(const DrTargets& t) {
  return {"RTO", t.rto_tier, t.rto_target_ms, t.rto_target_custom};
}
Scale RpoScale(const DrTargets& t) {
  return {"RPO", t.rpo_tier, t.rpo_target_ms, t.rpo_target_custom};
}

void JudgeScale(const Scale& scale, std::optional<uint64_t> measured_ms, std::string* verdict,
                std::vector<std::string>* reasons) {
  if (!scale.target_ms) {
    *verdict = "no-target";
  } else if (!measured_ms) {
    *verdict = "not-measured";
    reasons->push_back(
        fmt::format("{} was not measured; the target is {}", scale.name, scale.TargetPhrase()));
  } else if (scale.Met(*measured_ms)) {
    *verdict = "pass";
  } else {
    *verdict = "fail";
    reasons->push_back(scale.FailReason(*measured_ms));
  }
}

nlohmann::json NullIfEmpty(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}
nlohmann::json NullIfAbsent(std::optional<uint64_t> v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

// ---- targets ----------------------------------------------------------------

bool DrTargets::empty() const {
  return rto_tier.empty() && rpo_tier.empty() && !rto_target_ms && !rpo_target_ms;
}

nlohmann::json DrTargets::ToJson() const {
  return {{"rtoTier", NullIfEmpty(rto_tier)},
          {"rpoTier", NullIfEmpty(rpo_tier)},
          {"rtoTargetMs", NullIfAbsent(rto_target_ms)},
          {"rpoTargetMs", NullIfAbsent(rpo_target_ms)},
          {"rtoTargetCustom", rto_target_custom},
          {"rpoTargetCustom", rpo_target_custom},
          {"source", source}};
}

Status ValidateDrProperty(const std::string& key, const std::string& value) {
  if (!StartsWith(key, kDrPropertyPrefix)) return Status::OK();
  if (key == kRtoTierKey || key == kRpoTierKey) {
    const bool rto = key == kRtoTierKey;
    const Tier* tier = rto ? FindTier(kRtoTiers, value) : FindTier(kRpoTiers, value);
    if (tier != nullptr) return Status::OK();
    return Status::InvalidArgument(fmt::format("{} = '{}': not an {} tier; use one of {}", key,
                                               value, rto ? "RTO" : "RPO",
                                               rto ? TierNames(kRtoTiers) : TierNames(kRpoTiers)));
  }
  if (key == kRtoTargetSecondsKey || key == kRpoTargetSecondsKey)
    return ParseTargetSeconds(key, value).status();
  return Status::InvalidArgument(fmt::format(
      "unknown DR property {} = '{}': the {}* keys are {}, {}, {} and {}", key, value,
      kDrPropertyPrefix, kRtoTierKey, kRpoTierKey, kRtoTargetSecondsKey, kRpoTargetSecondsKey));
}

Result<DrTargets> TargetsFromProperties(const std::map<std::string, std::string>& props) {
  for (const auto& [key, value] : props) ARK_RETURN_IF_ERROR(ValidateDrProperty(key, value));
  auto get = [&props](const char* key) -> const std::string* {
    auto it = props.find(key);
    return it == props.end() ? nullptr : &it->second;
  };
  DrTargets t;
  if (const std::string* v = get(kRtoTierKey)) {
    t.rto_tier = *v;
    t.rto_target_ms = FindTier(kRtoTiers, *v)->target_ms;
  }
  if (const std::string* v = get(kRpoTierKey)) {
    t.rpo_tier = *v;
    t.rpo_target_ms = FindTier(kRpoTiers, *v)->target_ms;
  }
  // Validated above, so the parses cannot fail.
  if (const std::string* v = get(kRtoTargetSecondsKey)) {
    t.rto_target_ms = *ParseTargetSeconds(kRtoTargetSecondsKey, *v) * kSecondMs;
    t.rto_target_custom = true;
  }
  if (const std::string* v = get(kRpoTargetSecondsKey)) {
    t.rpo_target_ms = *ParseTargetSeconds(kRpoTargetSecondsKey, *v) * kSecondMs;
    t.rpo_target_custom = true;
  }
  return t;
}

DrTargets MergeTargets(const DrTargets& database, const DrTargets& collection) {
  const bool collection_rto = RtoScale(collection).set();
  const bool collection_rpo = RpoScale(collection).set();
  const DrTargets& rto = collection_rto ? collection : database;
  const DrTargets& rpo = collection_rpo ? collection : database;
  DrTargets out;
  out.rto_tier = rto.rto_tier;
  out.rto_target_ms = rto.rto_target_ms;
  out.rto_target_custom = rto.rto_target_custom;
  out.rpo_tier = rpo.rpo_tier;
  out.rpo_target_ms = rpo.rpo_target_ms;
  out.rpo_target_custom = rpo.rpo_target_custom;
  // Name where each scale came from; one name when both came from one place.
  const bool rto_set = RtoScale(out).set(), rpo_set = RpoScale(out).set();
  if (rto_set && rpo_set && rto.source != rpo.source) {
    out.source = fmt::format("{} (RTO), {} (RPO)", rto.source, rpo.source);
  } else if (rto_set) {
    out.source = rto.source;
  } else if (rpo_set) {
    out.source = rpo.source;
  } else {
    out.source = database.source;
  }
  return out;
}

// ---- verdicts ---------------------------------------------------------------

bool Verdict::passed() const { return rto != "fail" && rpo != "fail"; }

nlohmann::json Verdict::ToJson() const {
  return {{"rto", rto}, {"rpo", rpo}, {"reasons", reasons}};
}

Verdict Judge(const DrTargets& targets, std::optional<uint64_t> measured_rto_ms,
              std::optional<uint64_t> measured_rpo_ms) {
  Verdict v;
  JudgeScale(RtoScale(targets), measured_rto_ms, &v.rto, &v.reasons);
  JudgeScale(RpoScale(targets), measured_rpo_ms, &v.rpo, &v.reasons);
  return v;
}

std::string FormatDuration(uint64_t ms) {
  if (ms < kSecondMs) return fmt::format("{} ms", ms);
  if (ms < kMinuteMs) {
    const uint64_t tenths = ms / 100;
    return tenths % 10 == 0 ? fmt::format("{} s", tenths / 10)
                            : fmt::format("{}.{} s", tenths / 10, tenths % 10);
  }
  auto two = [](uint64_t big, const char* big_unit, uint64_t small, const char* small_unit) {
    return small == 0 ? fmt::format("{} {}", big, big_unit)
                      : fmt::format("{} {} {} {}", big, big_unit, small, small_unit);
  };
  if (ms < kHourMs) return two(ms / kMinuteMs, "min", ms % kMinuteMs / kSecondMs, "s");
  // Hours up to two days, so that a daily schedule reads "24 h", not "1 d".
  if (ms < 2 * kDayMs) return two(ms / kHourMs, "h", ms % kHourMs / kMinuteMs, "min");
  return two(ms / kDayMs, "d", ms % kDayMs / kHourMs, "h");
}

// ---- ark dr check -----------------------------------------------------------

namespace {

// Drills by the recovery path they exercise. A scenario not listed here is
// taken as evidence for every path.
bool IsRestoreScenario(const std::string& s) { return s == "restore-check" || s == "site-loss"; }
bool IsFailoverScenario(const std::string& s) {
  return s == "primary-crash" || s == "network-partition";
}
// A planned switchover breaks nothing: it is no disaster drill.
bool IsPlannedScenario(const std::string& s) { return s == "switchover"; }

enum class Path { kReplication, kRestore };

bool Exercises(const std::string& scenario, Path path) {
  if (IsPlannedScenario(scenario)) return false;
  if (IsRestoreScenario(scenario)) return path == Path::kRestore;
  if (IsFailoverScenario(scenario)) return path == Path::kReplication;
  return true;
}

enum class Source { kReplication, kArchive, kBackup, kFailingBackup };

// One way the deployment can get data back, with the most it can lose.
struct RecoveryPoint {
  Source source;
  uint64_t worst_ms;
  std::string via;  // names the mechanism and its setting

  Path path() const { return source == Source::kReplication ? Path::kReplication : Path::kRestore; }
};

// What the deployment can achieve, computed once from the facts.
struct Deployment {
  std::vector<RecoveryPoint> points;
  std::vector<std::string> not_counted;  // configured but giving nothing now, and why
  bool has_backups = false;              // a schedule: something to restore from
  bool standby = false;                  // a connected standby to promote
  bool standby_configured = false;
  bool automatic_failover = false;
  uint64_t failover_estimate_ms = 0;
  std::string failover_estimate_text;

  bool recoverable() const { return has_backups || standby_configured; }
  const RecoveryPoint* Best() const {
    const RecoveryPoint* best = nullptr;
    for (const auto& p : points) {
      if (best == nullptr || p.worst_ms < best->worst_ms) best = &p;
    }
    return best;
  }
};

std::string Plural(uint64_t n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string NormalizedMode(const std::string& mode) {
  return mode == "async" || mode == "sync" || mode == "periodic" ? mode : "none";
}

void AddReplicationPoint(const ReplicationFact& r, Deployment* d) {
  const std::string mode = NormalizedMode(r.mode);
  if (mode == "none") return;
  d->standby_configured = r.standbys > 0 || r.connected_standbys > 0;
  if (r.connected_standbys == 0) {
    d->not_counted.push_back(
        fmt::format("{} replication ({} configured) has no connected standby, so it protects "
                    "nothing written since it disconnected",
                    mode, Plural(r.standbys, "standby")));
    return;
  }
  d->standby = true;
  const uint64_t lag = r.lag_ms.value_or(0);
  const std::string lag_text = r.lag_ms ? fmt::format(", lag {}", FormatDuration(*r.lag_ms)) : "";
  const std::string to = Plural(r.connected_standbys, "connected standby");
  if (mode == "sync") {
    d->points.push_back({Source::kReplication, 0, fmt::format("sync replication to {}", to)});
  } else if (mode == "async") {
    // Acknowledged before it is shipped: about a second of writes plus the lag.
    d->points.push_back({Source::kReplication, kSecondMs + lag,
                         fmt::format("async replication to {}{}", to, lag_text)});
  } else {
    d->points.push_back({Source::kReplication, r.period_seconds * kSecondMs + lag,
                         fmt::format("periodic replication to {} every {}{}", to,
                                     FormatDuration(r.period_seconds * kSecondMs), lag_text)});
  }
}

void AddBackupPoints(const DrFacts& facts, Deployment* d) {
  d->has_backups = !facts.backup_schedules.empty();
  if (facts.archive.enabled) {
    if (!d->has_backups) {
      d->not_counted.push_back(
          "WAL archiving is on but no backup schedule makes the base backup a restore starts from");
    } else {
      d->points.push_back(
          {Source::kArchive, facts.archive.interval_seconds * kSecondMs,
           fmt::format("the WAL archive (uploads at least every {})",
                       FormatDuration(facts.archive.interval_seconds * kSecondMs))});
    }
  }
  for (const auto& s : facts.backup_schedules) {
    const std::string retention = s.retention.empty() ? "" : fmt::format(", {}", s.retention);
    if (s.interval_seconds == 0) {
      d->not_counted.push_back(fmt::format("backup schedule '{}' has no known interval", s.name));
      continue;
    }
    const uint64_t interval = s.interval_seconds * kSecondMs;
    const uint64_t since_ms = s.last_success_micros && facts.now_micros > *s.last_success_micros
                                  ? (facts.now_micros - *s.last_success_micros) / 1000
                                  : 0;
    if (since_ms > interval) {
      // Backups are failing: the newest restorable copy is that old, and growing.
      d->points.push_back(
          {Source::kFailingBackup, since_ms,
           fmt::format("backup schedule '{}' (every {}{}; its last success was {} ago)", s.name,
                       FormatDuration(interval), retention, FormatDuration(since_ms))});
    } else {
      d->points.push_back({Source::kBackup, interval,
                           fmt::format("backup schedule '{}' (every {}{})", s.name,
                                       FormatDuration(interval), retention)});
    }
  }
}

Deployment Analyze(const DrFacts& facts) {
  Deployment d;
  AddReplicationPoint(facts.replication, &d);
  AddBackupPoints(facts, &d);
  const FailoverFact& f = facts.failover;
  d.automatic_failover = d.standby && f.monitor && f.auto_failover;
  // Conservative: detection and the lease wait are added, though the monitor
  // overlaps them (docs/failover.md).
  d.failover_estimate_ms = f.check_interval_ms * f.failures + f.lease_ttl_ms + kFailoverActionMs;
  d.failover_estimate_text =
      fmt::format("{} failed checks × {} + lease ttl {} + {} to promote and switch traffic",
                  f.failures, FormatDuration(f.check_interval_ms), FormatDuration(f.lease_ttl_ms),
                  FormatDuration(kFailoverActionMs));
  return d;
}

std::string NotCountedText(const Deployment& d) {
  std::string out;
  for (const auto& n : d.not_counted) out += fmt::format(" Not counted: {}.", n);
  return out;
}

std::string IsoDate(uint64_t micros) {
  const std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

std::string DrillName(const DrillFact& drill) {
  return fmt::format("{} drill of {}", drill.scenario, IsoDate(drill.finished_micros));
}

// The newest drill for `path` that measured the value `measured` picks.
const DrillFact* LatestMeasured(const DrFacts& facts, Path path,
                                std::optional<uint64_t> DrillFact::*measured) {
  const DrillFact* latest = nullptr;
  for (const auto& drill : facts.drills) {
    if (!Exercises(drill.scenario, path) || !(drill.*measured)) continue;
    if (latest == nullptr || drill.finished_micros > latest->finished_micros) latest = &drill;
  }
  return latest;
}

// How to tighten `best` to meet `scale`.
std::string Suggest(const RecoveryPoint& best, const Scale& scale, const ReplicationFact& r) {
  const std::string bound = scale.BoundSeconds();
  switch (best.source) {
    case Source::kReplication:
      if (NormalizedMode(r.mode) == "periodic") {
        return fmt::format("set replication.period_seconds {}, or replication.mode: async", bound);
      }
      return "find why the standby lags (ark replication status) or use replication.mode: sync";
    case Source::kArchive:
      return fmt::format(
          "set archive.interval_seconds {}, or add a standby (replication.mode: async)", bound);
    case Source::kFailingBackup:
      return fmt::format(
          "make the failing backups succeed, or enable WAL archiving (archive.interval_seconds {})",
          bound);
    case Source::kBackup:
      break;
  }
  return fmt::format(
      "schedule backups {} apart, enable WAL archiving (archive.enabled: true, "
      "archive.interval_seconds {}), or add a standby (replication.mode: async)",
      bound, bound);
}

void Add(std::vector<Finding>* out, const char* severity, const char* target, const std::string& db,
         std::string message) {
  out->push_back({severity, target, db, std::move(message)});
}

// Zero loss needs a write to be on a standby before it is acknowledged, always.
Finding CheckZeroRpo(const std::string& db, const Scale& scale, const DrFacts& facts,
                     const Deployment& d) {
  const ReplicationFact& r = facts.replication;
  const std::string mode = NormalizedMode(r.mode);
  const std::string head = fmt::format("RPO target is {}", scale.TargetPhrase());
  const char* how =
      "set replication.mode: sync with sync_policy: block and keep a standby connected";
  if (mode == "sync" && r.connected_standbys > 0) {
    if (r.sync_policy == "block") {
      return {
          "ok", "rpo", db,
          fmt::format(
              "{}: met by sync replication (sync_policy: block) to {}: no write is acknowledged "
              "before a standby has it.",
              head, Plural(r.connected_standbys, "connected standby"))};
    }
    return {
        "fail", "rpo", db,
        fmt::format(
            "{}: sync_policy '{}' acknowledges writes without a standby once it is slower than "
            "sync_timeout_ms, so a partition followed by the loss of the primary loses them; set "
            "replication.sync_policy: block.",
            head, r.sync_policy)};
  }
  if (mode == "sync") {
    return {"fail", "rpo", db,
            fmt::format("{}: sync replication has no connected standby ({} configured); {}.", head,
                        Plural(r.standbys, "standby"), how)};
  }
  if (mode == "async") {
    return {
        "fail", "rpo", db,
        fmt::format("{}: async replication can lose the last acknowledged writes; {}.", head, how)};
  }
  const RecoveryPoint* best = d.Best();
  const std::string from = best ? fmt::format("the best recovery point is {} from {}",
                                              FormatDuration(best->worst_ms), best->via)
                                : "no mechanism gives a bounded recovery point";
  return {"fail", "rpo", db, fmt::format("{}: {}; {}.{}", head, from, how, NotCountedText(d))};
}

void CheckRpo(const std::string& db, const DrTargets& t, const DrFacts& facts, const Deployment& d,
              std::vector<Finding>* out) {
  const Scale scale = RpoScale(t);
  if (!scale.set()) {
    Add(out, "warn", "rpo", db,
        fmt::format("no RPO tier set: set {} ({}) so the check can judge it.", kRpoTierKey,
                    TierNames(kRpoTiers)));
    return;
  }
  if (!d.recoverable()) {
    Add(out, "fail", "rpo", db,
        "nothing to recover from: no backup schedule and no standby; add a schedule (schedules: in "
        "the server "
        "config) or a standby." +
            NotCountedText(d));
    return;
  }
  const RecoveryPoint* best = d.Best();
  if (!scale.target_ms) {
    Add(out, "ok", "rpo", db,
        fmt::format("{} RPO tier: no target; the best recovery point is {}.", scale.tier,
                    best ? fmt::format("{} from {}", FormatDuration(best->worst_ms), best->via)
                         : "unbounded") +
            NotCountedText(d));
    return;
  }
  Finding estimate;
  if (*scale.target_ms == 0) {
    estimate = CheckZeroRpo(db, scale, facts, d);
  } else if (best == nullptr) {
    estimate = {
        "fail", "rpo", db,
        fmt::format("RPO target is {}, but no mechanism gives a bounded recovery point; schedule "
                    "backups {} apart.{}",
                    scale.TargetPhrase(), scale.BoundSeconds(), NotCountedText(d))};
  } else if (scale.Met(best->worst_ms)) {
    estimate = {"ok", "rpo", db,
                fmt::format("RPO at worst {} from {} meets {}.{}", FormatDuration(best->worst_ms),
                            best->via, scale.TargetPhrase(), NotCountedText(d))};
  } else {
    estimate = {"fail", "rpo", db,
                fmt::format("{}: the best recovery point comes from {}; {}.{}",
                            scale.FailReason(best->worst_ms), best->via,
                            Suggest(*best, scale, facts.replication), NotCountedText(d))};
  }
  // The drill that exercised the path this RPO rests on (zero rests on replication).
  const Path path = *scale.target_ms == 0 || (best && best->path() == Path::kReplication)
                        ? Path::kReplication
                        : Path::kRestore;
  const DrillFact* drill = LatestMeasured(facts, path, &DrillFact::rpo_ms);
  std::optional<Finding> measured;
  if (drill != nullptr) {
    if (scale.Met(*drill->rpo_ms)) {
      if (estimate.severity == "ok") {
        estimate.message +=
            fmt::format(" The {} measured {}.", DrillName(*drill), FormatDuration(*drill->rpo_ms));
      }
    } else {
      measured = Finding{
          "fail", "rpo", db,
          fmt::format("the {} measured: {}.", DrillName(*drill), scale.FailReason(*drill->rpo_ms))};
    }
  }
  out->push_back(std::move(estimate));
  if (measured) out->push_back(std::move(*measured));
}

// What the newest failover drill says about a standby path's RTO.
struct DrillEvidence {
  std::string sentence;         // appended to the path's finding
  std::optional<Finding> fail;  // the drill measured more than the target
};

DrillEvidence FailoverDrillEvidence(const std::string& db, const Scale& scale,
                                    const DrFacts& facts) {
  const DrillFact* drill = LatestMeasured(facts, Path::kReplication, &DrillFact::rto_ms);
  if (drill == nullptr) return {" No failover drill has measured it.", std::nullopt};
  if (!scale.Met(*drill->rto_ms)) {
    return {"", Finding{"fail", "rto", db,
                        fmt::format("the {} measured: {}.", DrillName(*drill),
                                    scale.FailReason(*drill->rto_ms))}};
  }
  return {fmt::format(" The {} measured {}.", DrillName(*drill), FormatDuration(*drill->rto_ms)),
          std::nullopt};
}

void CheckRestoreRto(const std::string& db, const Scale& scale, const DrFacts& facts,
                     const Deployment& d, std::vector<Finding>* out) {
  const std::string why = d.standby_configured
                              ? "the standby is not connected, so recovery is a restore"
                              : "no standby to promote, so recovery is a restore";
  const DrillFact* drill = LatestMeasured(facts, Path::kRestore, &DrillFact::rto_ms);
  if (drill == nullptr) {
    Add(out, "warn", "rto", db,
        fmt::format("RTO not measured: {}, and no restore drill has measured how long one takes "
                    "against {}; run "
                    "`ark drill run restore-check`.",
                    why, scale.TargetPhrase()));
  } else if (scale.Met(*drill->rto_ms)) {
    Add(out, "ok", "rto", db,
        fmt::format("{}: the {} took {}, which meets {}.", why, DrillName(*drill),
                    FormatDuration(*drill->rto_ms), scale.TargetPhrase()));
  } else {
    Add(out, "fail", "rto", db,
        fmt::format("{}: the {} measured: {}; add a standby with automatic failover (replication + "
                    "ark monitor).",
                    why, DrillName(*drill), scale.FailReason(*drill->rto_ms)));
  }
}

void CheckRto(const std::string& db, const DrTargets& t, const DrFacts& facts, const Deployment& d,
              std::vector<Finding>* out) {
  const Scale scale = RtoScale(t);
  if (!scale.set()) {
    Add(out, "warn", "rto", db,
        fmt::format("no RTO tier set: set {} ({}) so the check can judge it.", kRtoTierKey,
                    TierNames(kRtoTiers)));
    return;
  }
  if (!d.recoverable()) {
    Add(out, "fail", "rto", db, "nothing to recover from: no backup schedule and no standby.");
    return;
  }
  if (!scale.target_ms) {
    Add(out, "ok", "rto", db,
        fmt::format("{} RTO tier: no target; recovery is {}.", scale.tier,
                    d.standby ? "by promoting the standby" : "a restore"));
    return;
  }
  if (!d.standby) return CheckRestoreRto(db, scale, facts, d, out);
  DrillEvidence evidence = FailoverDrillEvidence(db, scale, facts);
  if (d.automatic_failover) {
    const uint64_t est = d.failover_estimate_ms;
    if (scale.Met(est)) {
      Add(out, "ok", "rto", db,
          fmt::format(
              "automatic failover to a connected standby takes about {} ({}), which meets {}.{}",
              FormatDuration(est), d.failover_estimate_text, scale.TargetPhrase(),
              evidence.sentence));
    } else {
      Add(out, "fail", "rto", db,
          fmt::format("automatic failover estimate: {} ({}); lower ark monitor's "
                      "--check-interval-ms or --failures, "
                      "or failover.lease_ttl_ms.",
                      scale.FailReason(est), d.failover_estimate_text));
    }
  } else {
    const char* why = facts.failover.monitor ? "ark monitor runs with --no-auto-failover"
                                             : "no ark monitor watches the primary";
    if (*scale.target_ms <= kHourMs) {
      Add(out, "fail", "rto", db,
          fmt::format("failover is manual ({}): being paged, deciding and promoting does not "
                      "reliably fit in {}; "
                      "run ark monitor with automatic failover.{}",
                      why, scale.TargetPhrase(), evidence.sentence));
    } else {
      Add(out, "warn", "rto", db,
          fmt::format("failover is manual ({}): meeting {} depends on an operator being reached "
                      "and acting.{}",
                      why, scale.TargetPhrase(), evidence.sentence));
    }
  }
  if (evidence.fail) out->push_back(std::move(*evidence.fail));
}

// Days between passing drills a target needs (the seed: critical quarterly,
// important twice a year, general yearly), by the target's size so that
// custom targets and both scales follow one rule.
std::optional<uint64_t> CadenceDays(const Scale& s) {
  if (!s.target_ms) return std::nullopt;
  if (*s.target_ms <= kHourMs) return 92;
  if (*s.target_ms <= 4 * kHourMs) return 183;
  if (*s.target_ms <= 24 * kHourMs) return 366;
  return std::nullopt;
}

const char* CadenceWord(uint64_t days) {
  return days <= 92 ? "quarterly" : days <= 183 ? "twice a year" : "yearly";
}

void CheckDrills(const std::string& db, const DrTargets& t, const DrFacts& facts,
                 std::vector<Finding>* out) {
  const Scale rto = RtoScale(t), rpo = RpoScale(t);
  const std::optional<uint64_t> rto_days = CadenceDays(rto), rpo_days = CadenceDays(rpo);
  if (!rto_days && !rpo_days) {
    if (!t.empty())
      Add(out, "ok", "drill", db, "no drill cadence required: neither target is 24 h or less.");
    return;
  }
  const bool by_rto = rto_days && (!rpo_days || *rto_days <= *rpo_days);
  const uint64_t days = by_rto ? *rto_days : *rpo_days;
  const std::string requirement =
      fmt::format("{} needs a passing drill every {} d ({})",
                  (by_rto ? rto : rpo).RequirementName(), days, CadenceWord(days));
  const DrillFact* passing = nullptr;
  const DrillFact* latest = nullptr;
  for (const auto& drill : facts.drills) {
    if (IsPlannedScenario(drill.scenario)) continue;
    if (latest == nullptr || drill.finished_micros > latest->finished_micros) latest = &drill;
    if (drill.passed && (passing == nullptr || drill.finished_micros > passing->finished_micros))
      passing = &drill;
  }
  auto age_ms = [&](const DrillFact& drill) {
    return facts.now_micros > drill.finished_micros
               ? (facts.now_micros - drill.finished_micros) / 1000
               : 0;
  };
  if (passing != nullptr && age_ms(*passing) <= days * kDayMs) {
    Add(out, "ok", "drill", db,
        fmt::format("the last passing drill is the {} ({} ago); {}.", DrillName(*passing),
                    FormatDuration(age_ms(*passing)), requirement));
    return;
  }
  std::string message = passing == nullptr
                            ? "no passing drill on record"
                            : fmt::format("the last passing drill, the {}, is {} old",
                                          DrillName(*passing), FormatDuration(age_ms(*passing)));
  if (latest != nullptr && !latest->passed)
    message += fmt::format("; the latest, the {}, failed", DrillName(*latest));
  message += fmt::format(
      "; {}: run `ark drill run restore-check` (it disrupts nothing) or another scenario.",
      requirement);
  Add(out, days <= 183 ? "fail" : "warn", "drill", db, std::move(message));
}

}  // namespace

std::vector<Finding> CheckTargets(const std::vector<std::pair<std::string, DrTargets>>& targets,
                                  const DrFacts& facts) {
  const Deployment deployment = Analyze(facts);
  std::vector<Finding> out;
  for (const auto& [db, t] : targets) {
    CheckRpo(db, t, facts, deployment, &out);
    CheckRto(db, t, facts, deployment, &out);
    CheckDrills(db, t, facts, &out);
  }
  return out;
}

int ExitCode(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == "fail"; })
             ? 1
             : 0;
}

nlohmann::json FindingsToJson(const std::vector<Finding>& findings) {
  nlohmann::json list = nlohmann::json::array();
  int fail = 0, warn = 0, ok = 0;
  for (const auto& f : findings) {
    list.push_back({{"severity", f.severity},
                    {"target", f.target},
                    {"database", f.database},
                    {"message", f.message}});
    (f.severity == "fail" ? fail : f.severity == "warn" ? warn : ok) += 1;
  }
  return {{"format", "ark-dr-check"},
          {"version", kDrTiersFormatVersion},
          {"passed", fail == 0},
          {"counts", {{"fail", fail}, {"warn", warn}, {"ok", ok}}},
          {"findings", std::move(list)}};
}

}  // namespace ark::dr
