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
#include "dr/drill/dr_check.h"
#include "dr/drill/tiers.h"

namespace ark::cli {
namespace {

using nlohmann::json;
using namespace dr::drjson;

// The dr/status format version this reader understands.
constexpr int64_t kDrStatusVersion = 1;

struct DrCheckArgs {
  std::string server;
  std::string token;
  std::string monitor;
  std::string monitor_token;
  bool json = false;
};

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
  if (Find(status, "failover") == nullptr) {
    return dr::FailoverFactFromMonitor(json::object(), status, a.monitor);  // names the missing section
  }
  auto got = CallAdmin(a.monitor, a.monitor_token.empty() ? a.token : a.monitor_token,
                       "monitor/status", json::object());
  if (!got.ok()) return got.status().WithContext("reading the monitor status of " + a.monitor);
  return dr::FailoverFactFromMonitor(*got, status, a.monitor);
}

// ---- printing ------------------------------------------------------------------

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
  std::vector<std::string> notes;
  dr::DrFacts facts = dr::FactsFromStatus(status, &notes);
  for (const auto& n : notes) std::fprintf(stderr, "warning: %s\n", n.c_str());
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
  const std::vector<dr::Finding> findings = dr::JudgeStatus(status, facts);
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
