// `ark dr check --server URL [--monitor URL] [--json]` (docs/drills.md): reads
// a server's DR status (POST /ark/v1/dr/status, docs/formats/dr-status.md)
// and, with --monitor, the failover monitor's status, turns them into the
// facts of dr/drill/tiers.h, and judges every database's ark.dr.* targets
// against them (the rules of docs/formats/dr-tiers.md). Exit code: 0 when no
// finding fails (warnings do not), 1 when a target is not met or the check
// could not run, 2 for bad arguments.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/admin_client.h"
#include "cli/command_registry.h"
#include "dr/drill/tiers.h"

namespace ark::cli {
namespace {

using nlohmann::json;

// The dr/status format version this reader understands.
constexpr int64_t kDrStatusVersion = 1;

struct DrCheckArgs {
  std::string server;
  std::string token;
  std::string monitor;
  std::string monitor_token;
  bool json = false;
};

// ---- reading the documents (typed, never throwing) --------------------------

const json* Find(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string Str(const json& j, const char* key, std::string fallback = "") {
  const json* v = Find(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : fallback;
}

bool Bool(const json& j, const char* key, bool fallback) {
  const json* v = Find(j, key);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

// A non-negative number (integer or not), rounded up: a duration or a count.
std::optional<uint64_t> Count(const json& j, const char* key, double scale = 1) {
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

// ---- the facts ----------------------------------------------------------------

std::vector<dr::BackupScheduleFact> ScheduleFacts(const json& status) {
  std::vector<dr::BackupScheduleFact> out;
  for (const auto& s : Array(status, "schedules")) {
    dr::BackupScheduleFact f;
    f.name = Str(s, "name", "?");
    f.interval_seconds = Count(s, "maxGapSeconds").value_or(0);
    f.retention = Str(s, "retention");
    f.last_success_micros = Count(s, "lastSuccessMicros");
    out.push_back(std::move(f));
  }
  return out;
}

dr::WalArchiveFact ArchiveFact(const json& status) {
  dr::WalArchiveFact f;
  static const json kNone = json::object();
  const json* a = Find(status, "archive");
  f.enabled = Bool(a ? *a : kNone, "enabled", false);
  if (f.enabled)
    f.interval_seconds = std::max<uint64_t>(1, Count(*a, "intervalSeconds").value_or(1));
  return f;
}

dr::ReplicationFact ReplicationFactOf(const json& status) {
  dr::ReplicationFact f;
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
std::optional<dr::DrillFact> DrillFactOf(const json& d, std::string* why) {
  if (const json* u = Find(d, "unreadable")) {
    *why = u->is_string() ? u->get<std::string>() : "unreadable";
    return std::nullopt;
  }
  const std::optional<uint64_t> finished = Count(d, "finishedMicros");
  if (Str(d, "scenario").empty() || !finished) {
    *why = "it names no scenario or finish time";
    return std::nullopt;
  }
  dr::DrillFact f;
  f.scenario = Str(d, "scenario");
  f.finished_micros = *finished;
  f.passed = Bool(d, "passed", false);
  static const json kNone = json::object();
  const json* m = Find(d, "measured");
  f.rto_ms = Count(m ? *m : kNone, "rtoMs");
  f.rpo_ms = Count(m ? *m : kNone, "rpoMs");
  return f;
}

// The drills that count; a report that cannot is named on stderr.
std::vector<dr::DrillFact> DrillFacts(const json& status) {
  std::vector<dr::DrillFact> out;
  static const json kNone = json::object();
  const json* drills = Find(status, "drills");
  const json& d = drills ? *drills : kNone;
  if (const json* e = Find(d, "error"); e && e->is_string()) {
    std::fprintf(stderr, "warning: %s (drills not counted)\n", e->get<std::string>().c_str());
  }
  for (const auto& r : Array(d, "recent")) {
    std::string why;
    if (auto f = DrillFactOf(r, &why)) {
      out.push_back(std::move(*f));
    } else {
      std::fprintf(stderr, "warning: drill report %s is not counted: %s\n",
                   Str(r, "reportDir", Str(r, "id", "?")).c_str(), why.c_str());
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
dr::DrTargets TargetsOf(const json& t) {
  dr::DrTargets out;
  out.rto_tier = Str(t, "rtoTier");
  out.rpo_tier = Str(t, "rpoTier");
  out.rto_target_ms = U64OrNull(t, "rtoTargetMs");
  out.rpo_target_ms = U64OrNull(t, "rpoTargetMs");
  out.rto_target_custom = Bool(t, "rtoTargetCustom", false);
  out.rpo_target_custom = Bool(t, "rpoTargetCustom", false);
  out.source = Str(t, "source");
  return out;
}

// ---- fetching ----------------------------------------------------------------

Result<json> FetchStatus(const DrCheckArgs& a) {
  auto got = CallAdmin(a.server, a.token, "dr/status", json::object());
  if (!got.ok()) return got.status().WithContext("reading the DR status of " + a.server);
  const json& s = *got;
  if (!s.is_object() || Str(s, "format") != "ark-dr-status") {
    return Status::InvalidArgument(fmt::format(
        "--server {}: dr/status did not answer a DR status document (format 'ark-dr-status'): {}",
        a.server, s.dump().substr(0, 200)));
  }
  const json* v = Find(s, "version");
  if (v == nullptr || !v->is_number_integer() || v->get<int64_t>() != kDrStatusVersion) {
    return Status::InvalidArgument(
        fmt::format("--server {}: its DR status is version {}, this ark reads version {}: use the "
                    "ark of the same release",
                    a.server, v ? v->dump() : "(none)", kDrStatusVersion));
  }
  const std::string role = Str(s, "role", "?");
  static const json kNone = json::object();
  const json* rep = Find(s, "replication");
  if (role == "standby") {
    return Status::InvalidArgument(
        fmt::format("--server {} is a standby (of {}): ark dr check judges the primary's setup; "
                    "point --server at the primary",
                    a.server, Str(rep ? *rep : kNone, "primary", "?")));
  }
  if (role != "primary") {
    return Status::InvalidArgument(
        fmt::format("--server {} is {}, not a primary taking writes (a fenced former primary: see "
                    "`ark failover status`); "
                    "point --server at the current primary",
                    a.server, role));
  }
  return s;
}

// The monitor's settings, after checking it watches this server.
Result<dr::FailoverFact> FetchMonitor(const DrCheckArgs& a, const json& status) {
  const json* failover = Find(status, "failover");
  if (failover == nullptr) {
    return Status::InvalidArgument(
        fmt::format("--monitor {}: the server {} has no failover: section (no witness, no leader "
                    "lease), so no monitor can fail "
                    "it over; configure failover: or drop --monitor",
                    a.monitor, a.server));
  }
  auto got = CallAdmin(a.monitor, a.monitor_token.empty() ? a.token : a.monitor_token,
                       "monitor/status", json::object());
  if (!got.ok()) return got.status().WithContext("reading the monitor status of " + a.monitor);
  const json& m = *got;
  const std::optional<uint64_t> interval = Count(m, "checkIntervalMs");
  const std::optional<uint64_t> failures = Count(m, "failuresToFailOver");
  if (!interval || !failures || !Find(m, "autoFailover")) {
    return Status::InvalidArgument(
        fmt::format("--monitor {}: monitor/status lacks checkIntervalMs, failuresToFailOver or "
                    "autoFailover: is it an ark monitor?",
                    a.monitor));
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
                    a.monitor, names.empty() ? "no node" : names, name, a.server));
  }
  dr::FailoverFact f;
  f.monitor = true;
  f.auto_failover = Bool(m, "autoFailover", true);
  f.check_interval_ms = *interval;
  f.failures = static_cast<uint32_t>(*failures);
  f.lease_ttl_ms = Count(*failover, "leaseTtlMs").value_or(f.lease_ttl_ms);
  return f;
}

// ---- judging and printing ------------------------------------------------------

std::vector<dr::Finding> JudgeDatabases(const json& status, const dr::DrFacts& facts) {
  std::vector<dr::Finding> findings;
  for (const auto& t : Array(status, "tiers")) {
    const std::string database = Str(t, "database", "?");
    if (const std::string error = Str(t, "error"); !error.empty()) {
      findings.push_back(
          {"fail", "tier", database,
           fmt::format(
               "its ark.dr.* properties cannot be read ({}); fix them with databases/alter.",
               error)});
      continue;
    }
    const json* targets = Find(t, "targets");
    dr::DrTargets parsed = targets ? TargetsOf(*targets) : dr::DrTargets{};
    if (parsed.source.empty()) parsed.source = "database " + database;
    for (auto& f : dr::CheckTargets({{database, parsed}}, facts)) findings.push_back(std::move(f));
  }
  return findings;
}

std::string Upper(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

void PrintHuman(const std::string& server, const json& status, const dr::DrFacts& facts,
                const std::vector<dr::Finding>& findings) {
  std::printf(
      "DR check of %s (%s, epoch %s): %zu database(s), %zu backup schedule(s), archive %s, "
      "replication %s "
      "(%u connected), %s, %zu drill report(s)\n",
      server.c_str(), Str(status, "role", "?").c_str(),
      Find(status, "epoch") ? Find(status, "epoch")->dump().c_str() : "?",
      Array(status, "tiers").size(), facts.backup_schedules.size(),
      facts.archive.enabled ? "on" : "off", facts.replication.mode.c_str(),
      facts.replication.connected_standbys,
      facts.failover.monitor ? (facts.failover.auto_failover ? "monitor with automatic failover"
                                                             : "monitor without automatic failover")
                             : "no monitor",
      facts.drills.size());
  size_t width = 8;
  for (const auto& f : findings) width = std::max(width, f.database.size());
  int fail = 0, warn = 0, ok = 0;
  for (const auto& f : findings) {
    (f.severity == "fail" ? fail : f.severity == "warn" ? warn : ok) += 1;
    std::printf("%-4s  %-5s  %-*s  %s\n", Upper(f.severity).c_str(), f.target.c_str(),
                static_cast<int>(width), f.database.c_str(), f.message.c_str());
  }
  std::printf("%s: %d fail, %d warn, %d ok\n", fail > 0 ? "NOT MET" : "MET", fail, warn, ok);
}

Status Check(const DrCheckArgs& a) {
  // Logs go to stdout: keep it for the findings (pure JSON with --json).
  spdlog::set_level(a.json ? spdlog::level::err : spdlog::level::warn);
  if (a.server.empty())
    return Status::InvalidArgument("--server: the server to check (http://HOST:PORT) is required");
  ARK_ASSIGN_OR_RETURN(json status, FetchStatus(a));
  dr::DrFacts facts;
  facts.backup_schedules = ScheduleFacts(status);
  facts.archive = ArchiveFact(status);
  facts.replication = ReplicationFactOf(status);
  if (const json* f = Find(status, "failover")) {
    facts.failover.lease_ttl_ms = Count(*f, "leaseTtlMs").value_or(facts.failover.lease_ttl_ms);
  }
  if (!a.monitor.empty()) {
    ARK_ASSIGN_OR_RETURN(facts.failover, FetchMonitor(a, status));
  } else if (const json* f = Find(status, "failover"); f != nullptr &&
                                                       facts.replication.connected_standbys > 0 &&
                                                       Str(*f, "witness").rfind("http", 0) == 0) {
    std::fprintf(stderr,
                 "note: the server's witness is %s; if that is an ark monitor, pass --monitor %s "
                 "so that its "
                 "automatic failover counts\n",
                 Str(*f, "witness").c_str(), Str(*f, "witness").c_str());
  }
  facts.drills = DrillFacts(status);
  facts.now_micros = Count(status, "nowMicros").value_or(0);
  const std::vector<dr::Finding> findings = JudgeDatabases(status, facts);
  if (a.json) {
    std::printf("%s\n", dr::FindingsToJson(findings).dump(2).c_str());
  } else {
    PrintHuman(a.server, status, facts, findings);
  }
  if (dr::ExitCode(findings) != 0) {
    size_t fails = 0;
    for (const auto& f : findings) fails += f.severity == "fail" ? 1 : 0;
    return Status::FailedPrecondition(
        fmt::format("{} finding(s) fail: the DR targets of {} are not met (the findings say which)",
                    fails, a.server));
  }
  return Status::OK();
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_COMMAND(dr) {
  using namespace ark::cli;
  auto* cmd = app.add_subcommand(
      "dr", "Disaster recovery: check the setup against each database's RTO/RPO tier");
  cmd->require_subcommand(1);
  auto a = std::make_shared<DrCheckArgs>();
  auto* check = cmd->add_subcommand("check",
                                    "Judge a server's backups, archive, replication, failover and "
                                    "drills against the ark.dr.* tiers of its "
                                    "databases (docs/drills.md); exit 1 when a target is not met");
  // Checked in Check(), not by CLI11, so that a missing --server exits 2 as
  // every other bad argument does.
  check->add_option("--server", a->server, "The primary to check (http://HOST:PORT; required)");
  check->add_option("--token", a->token, "Admin credential (or set ARK_ADMIN_TOKEN)");
  check->add_option("--monitor", a->monitor,
                    "The ark monitor watching it (http://HOST:PORT): counts its automatic failover "
                    "and thresholds");
  check->add_option("--monitor-token", a->monitor_token,
                    "The monitor's admin credential (default: --token)");
  check->add_flag("--json", a->json, "Print the findings as JSON (docs/formats/dr-tiers.md)");
  check->callback([a] {
    if (auto s = Check(*a); !s.ok()) Fail(s);
  });
}
