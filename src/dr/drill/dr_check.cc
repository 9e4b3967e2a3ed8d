#include "dr/drill/dr_check.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ark::dr {

using nlohmann::json;

namespace drjson {

const json* Find(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string Str(const json& j, const char* key, std::string fallback) {
  const json* v = Find(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : fallback;
}

bool Bool(const json& j, const char* key, bool fallback) {
  const json* v = Find(j, key);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

// A non-negative number (integer or not), rounded up: a duration or a count.
std::optional<uint64_t> Count(const json& j, const char* key, double scale) {
  const json* v = Find(j, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  const double d = v->get<double>() * scale;
  if (!(d >= 0) || d > 1e18) return std::nullopt;
  return static_cast<uint64_t>(std::ceil(d));
}

const json& Array(const json& j, const char* key) {
  static const json kEmpty = json::array();
  const json* v = Find(j, key);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

}  // namespace drjson

using namespace drjson;

namespace {

std::vector<BackupScheduleFact> ScheduleFacts(const json& status) {
  std::vector<BackupScheduleFact> out;
  for (const auto& s : Array(status, "schedules")) {
    BackupScheduleFact f;
    f.name = Str(s, "name", "?");
    f.interval_seconds = Count(s, "maxGapSeconds").value_or(0);
    f.retention = Str(s, "retention");
    f.last_success_micros = Count(s, "lastSuccessMicros");
    out.push_back(std::move(f));
  }
  return out;
}

WalArchiveFact ArchiveFact(const json& status) {
  WalArchiveFact f;
  static const json kNone = json::object();
  const json* a = Find(status, "archive");
  f.enabled = Bool(a ? *a : kNone, "enabled", false);
  if (f.enabled)
    f.interval_seconds = std::max<uint64_t>(1, Count(*a, "intervalSeconds").value_or(1));
  return f;
}

ReplicationFact ReplicationFactOf(const json& status) {
  ReplicationFact f;
  static const json kNone = json::object();
  const json* r = Find(status, "replication");
  const json& rep = r ? *r : kNone;
  const json& standbys = Array(rep, "standbys");
  // The mode is configured on every server (async by default); it replicates
  // only once a standby has a slot here.
  f.mode = standbys.empty() ? "none" : Str(rep, "mode", "none");
  f.sync_policy = Str(rep, "syncPolicy", f.sync_policy);
  f.period_seconds = std::max<uint64_t>(1, Count(rep, "periodSeconds").value_or(f.period_seconds));
  f.standbys = static_cast<uint32_t>(standbys.size());
  for (const auto& s : standbys) {
    if (!Bool(s, "connected", false)) continue;
    ++f.connected_standbys;
    if (auto lag = Count(s, "lagSeconds", 1000.0)) f.lag_ms = std::max(f.lag_ms.value_or(0), *lag);
  }
  return f;
}

// A drill report's summary; nullopt (with the reason) when it cannot count.
std::optional<DrillFact> DrillFactOf(const json& d, std::string* why) {
  if (const json* u = Find(d, "unreadable")) {
    *why = u->is_string() ? u->get<std::string>() : "unreadable";
    return std::nullopt;
  }
  const std::optional<uint64_t> finished = Count(d, "finishedMicros");
  if (Str(d, "scenario").empty() || !finished) {
    *why = "it names no scenario or finish time";
    return std::nullopt;
  }
  DrillFact f;
  f.scenario = Str(d, "scenario");
  f.finished_micros = *finished;
  f.passed = Bool(d, "passed", false);
  static const json kNone = json::object();
  const json* m = Find(d, "measured");
  f.rto_ms = Count(m ? *m : kNone, "rtoMs");
  f.rpo_ms = Count(m ? *m : kNone, "rpoMs");
  return f;
}

// The drills that count; a report that cannot is named in `notes`.
std::vector<DrillFact> DrillFacts(const json& status, std::vector<std::string>* notes) {
  std::vector<DrillFact> out;
  static const json kNone = json::object();
  const json* drills = Find(status, "drills");
  const json& d = drills ? *drills : kNone;
  if (const json* e = Find(d, "error"); e && e->is_string()) {
    notes->push_back(fmt::format("{} (drills not counted)", e->get<std::string>()));
  }
  for (const auto& r : Array(d, "recent")) {
    std::string why;
    if (auto f = DrillFactOf(r, &why)) {
      out.push_back(std::move(*f));
    } else {
      notes->push_back(fmt::format("drill report {} is not counted: {}", Str(r, "reportDir", Str(r, "id", "?")), why));
    }
  }
  return out;
}

std::optional<uint64_t> U64OrNull(const json& j, const char* key) {
  const json* v = Find(j, key);
  return v != nullptr && v->is_number_unsigned() ? std::optional<uint64_t>(v->get<uint64_t>())
                                                 : std::nullopt;
}

// DrTargets from its ToJson() form (docs/formats/dr-tiers.md).
DrTargets TargetsOf(const json& t) {
  DrTargets out;
  out.rto_tier = Str(t, "rtoTier");
  out.rpo_tier = Str(t, "rpoTier");
  out.rto_target_ms = U64OrNull(t, "rtoTargetMs");
  out.rpo_target_ms = U64OrNull(t, "rpoTargetMs");
  out.rto_target_custom = Bool(t, "rtoTargetCustom", false);
  out.rpo_target_custom = Bool(t, "rpoTargetCustom", false);
  out.source = Str(t, "source");
  return out;
}

}  // namespace

DrFacts FactsFromStatus(const json& status, std::vector<std::string>* notes) {
  std::vector<std::string> ignored;
  if (notes == nullptr) notes = &ignored;
  DrFacts facts;
  facts.backup_schedules = ScheduleFacts(status);
  facts.archive = ArchiveFact(status);
  facts.replication = ReplicationFactOf(status);
  if (const json* f = Find(status, "failover")) {
    facts.failover.lease_ttl_ms = Count(*f, "leaseTtlMs").value_or(facts.failover.lease_ttl_ms);
  }
  facts.drills = DrillFacts(status, notes);
  facts.now_micros = Count(status, "nowMicros").value_or(0);
  return facts;
}

Result<FailoverFact> FailoverFactFromMonitor(const json& m, const json& status, const std::string& monitor) {
  const json* failover = Find(status, "failover");
  if (failover == nullptr) {
    return Status::InvalidArgument(
        fmt::format("--monitor {}: the server {} has no failover: section (no witness, no leader "
                    "lease), so no monitor can fail "
                    "it over; configure failover: or drop --monitor",
                    monitor, Str(Find(status, "server") ? *Find(status, "server") : json::object(), "url", "the server")));
  }
  const std::optional<uint64_t> interval = Count(m, "checkIntervalMs");
  const std::optional<uint64_t> failures = Count(m, "failuresToFailOver");
  if (!interval || !failures || !Find(m, "autoFailover")) {
    return Status::InvalidArgument(
        fmt::format("--monitor {}: monitor/status lacks checkIntervalMs, failuresToFailOver or "
                    "autoFailover: is it an ark monitor?",
                    monitor));
  }
  const std::string name = Str(*failover, "name");
  std::string names;
  bool watched = false;
  for (const auto& n : Array(m, "nodes")) {
    names += fmt::format("{}{}", names.empty() ? "" : ", ", Str(n, "name", "?"));
    watched = watched || Str(n, "name") == name;
  }
  if (!watched) {
    return Status::InvalidArgument(
        fmt::format("--monitor {} watches {}, not this server ('{}', failover.name of {})",
                    monitor, names.empty() ? "no node" : names, name, Str(Find(status, "server") ? *Find(status, "server") : json::object(), "url", "the server")));
  }
  FailoverFact f;
  f.monitor = true;
  f.auto_failover = Bool(m, "autoFailover", true);
  f.check_interval_ms = *interval;
  f.failures = static_cast<uint32_t>(*failures);
  f.lease_ttl_ms = Count(*failover, "leaseTtlMs").value_or(f.lease_ttl_ms);
  return f;
}

namespace {

// The findings of one tiers[] or collectionTiers[] entry named `name`;
// `route` is where its properties are fixed.
void JudgeTier(const json& t, const std::string& name, const std::string& source, const char* route,
               const DrFacts& facts, std::vector<Finding>* findings) {
  if (const std::string error = Str(t, "error"); !error.empty()) {
    findings->push_back({"fail", "tier", name,
                         fmt::format("its ark.dr.* properties cannot be read ({}); fix them with {}.", error, route)});
    return;
  }
  const json* targets = Find(t, "targets");
  DrTargets parsed = targets ? TargetsOf(*targets) : DrTargets{};
  if (parsed.source.empty()) parsed.source = source;
  for (auto& f : CheckTargets({{name, parsed}}, facts)) findings->push_back(std::move(f));
}

}  // namespace

std::vector<Finding> JudgeStatus(const json& status, const DrFacts& facts) {
  std::vector<Finding> findings;
  for (const auto& t : Array(status, "tiers")) {
    const std::string database = Str(t, "database", "?");
    JudgeTier(t, database, "database " + database, "databases/alter", facts, &findings);
  }
  // Collections with tiers of their own (already merged over their database's).
  for (const auto& t : Array(status, "collectionTiers")) {
    const std::string name = fmt::format("{}.{}", Str(t, "database", "?"), Str(t, "name", "?"));
    JudgeTier(t, name, "collection " + name, "collections/alter_properties", facts, &findings);
  }
  return findings;
}

}  // namespace ark::dr
