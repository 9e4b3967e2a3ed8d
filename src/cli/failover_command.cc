// `ark failover status|promote --server URL` (docs/failover.md): a server's
// role and epoch history, and the manual promotion of a standby.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "cli/admin_client.h"
#include "cli/command_registry.h"
#include "dr/failover/rejoin.h"
#include "storage/env.h"

namespace ark::cli {
namespace {

struct FailoverArgs {
  std::string server = "http://127.0.0.1:19530";
  std::string token;
  bool json = false;
  bool force = false;
  uint64_t epoch = 0;
  std::string data_dir;
  std::string primary;
  bool dry_run = false;
  std::string to;
  double max_lag = 30;
  uint64_t timeout_ms = 10000;
};

Status ShowStatus(const FailoverArgs& a) {
  ARK_ASSIGN_OR_RETURN(nlohmann::json s, CallAdmin(a.server, a.token, "replication/status", nlohmann::json::object()));
  if (a.json) {
    std::printf("%s\n", s.dump(2).c_str());
    return Status::OK();
  }
  const std::string role = s.value("role", "?");
  std::printf("role           %s\n", role.c_str());
  std::printf("epoch          %s (last record %s)\n", s.contains("epoch") ? s["epoch"].dump().c_str() : "?",
              s.value("lastPosition", "?").c_str());
  if (s.contains("epochs") && s["epochs"].is_array()) {
    std::string h;
    for (const auto& e : s["epochs"]) {
      if (!h.empty()) h += " -> ";
      h += fmt::format("{} from {}", e.value("epoch", uint64_t{0}), e.value("start", "?"));
    }
    std::printf("history        %s\n", h.c_str());
  }
  if (s.contains("lease") && s["lease"].is_object()) {
    const auto& l = s["lease"];
    std::string leader = l.contains("leader") && l["leader"].is_object()
                             ? fmt::format("; the witness names {} (epoch {})", l["leader"].value("holder", "?"),
                                           l["leader"].contains("epoch") ? l["leader"]["epoch"].dump() : "?")
                             : "";
    std::printf("lease          %s at %s, writes allowed for %s ms%s\n", l.value("state", "?").c_str(),
                l.value("witness", "?").c_str(),
                l.contains("writesAllowedForMs") ? l["writesAllowedForMs"].dump().c_str() : "?", leader.c_str());
  }
  if (role == "standby") {
    std::printf("primary        %s (state %s, %s records / %.3f s behind)\n", s.value("primary", "?").c_str(),
                s.value("state", "?").c_str(), s.contains("lagRecords") ? s["lagRecords"].dump().c_str() : "?",
                s.value("lagSeconds", 0.0));
  }
  if (s.contains("promotion")) {
    const auto& p = s["promotion"];
    std::printf("promoted       epoch %s at %s from %s (fork at %s; %s records the former primary had are missing%s)\n",
                p.contains("epoch") ? p["epoch"].dump().c_str() : "?", p.value("firstPosition", "?").c_str(),
                p.value("formerPrimary", "?").c_str(), p.value("forkPosition", "?").c_str(),
                p.contains("recordsKnownMissing") ? p["recordsKnownMissing"].dump().c_str() : "?",
                p.value("forced", false) ? ", forced" : "");
  }
  return Status::OK();
}

Status Promote(const FailoverArgs& a) {
  nlohmann::json body = {{"force", a.force}};
  if (a.epoch != 0) body["epoch"] = a.epoch;
  ARK_ASSIGN_OR_RETURN(nlohmann::json r, CallAdmin(a.server, a.token, "failover/promote", body));
  if (a.json) {
    std::printf("%s\n", r.dump(2).c_str());
    return Status::OK();
  }
  std::printf("promoted %s: epoch %s begins at %s; it takes writes now\n", a.server.c_str(),
              r.contains("epoch") ? r["epoch"].dump().c_str() : "?", r.value("firstPosition", "?").c_str());
  std::printf("fork at %s; the former primary %s had %s durable when last heard: %s records it had are not here\n",
              r.value("forkPosition", "?").c_str(), r.value("formerPrimary", "?").c_str(),
              r.value("formerPrimaryDurable", "?").c_str(),
              r.contains("recordsKnownMissing") ? r["recordsKnownMissing"].dump().c_str() : "?");
  std::printf("the former primary must not take writes any more: stop it, and keep its data directory for failback\n");
  return Status::OK();
}

// Planned switchover (docs/failover.md): the primary pauses writes until the
// standby has every record, gives its lease up; the standby is promoted; the
// old primary comes back as its standby. The write pause is measured here.
Status Switchover(const FailoverArgs& a) {
  if (a.to.empty()) return Status::InvalidArgument("--to: the standby to promote (http://HOST:PORT) is required");
  ARK_ASSIGN_OR_RETURN(nlohmann::json target, CallAdmin(a.to, a.token, "replication/status", nlohmann::json::object()));
  if (target.value("role", "") != "standby") {
    return Status::InvalidArgument(fmt::format("--to {}: it is not a standby (role {})", a.to, target.value("role", "?")));
  }
  const std::string name = target.value("name", "");
  if (name.empty()) return Status::InvalidArgument(fmt::format("--to {}: its status does not name it", a.to));
  const auto started = std::chrono::steady_clock::now();
  ARK_ASSIGN_OR_RETURN(nlohmann::json handed,
                       CallAdmin(a.server, a.token, "failover/handover",
                                 {{"standby", name}, {"maxLagSeconds", a.max_lag}, {"timeoutMs", a.timeout_ms}}));
  auto promoted = CallAdmin(a.to, a.token, "failover/promote", nlohmann::json::object());
  if (!promoted.ok()) {
    auto aborted = CallAdmin(a.server, a.token, "failover/handover/abort", nlohmann::json::object());
    return promoted.status().WithContext(
        aborted.ok() ? "switchover aborted (the old primary takes writes again): promoting " + a.to
                     : "switchover failed and the abort failed too (" + aborted.status().message() +
                           "): the old primary refuses writes; promote " + a.to + " by hand");
  }
  const double pause_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  ARK_RETURN_IF_ERROR(
      CallAdmin(a.server, a.token, "failover/handover/finish", {{"primary", a.to}}).status().WithContext(
          "the new primary is " + a.to + ", but telling the old one to follow it failed"));
  nlohmann::json out = {{"newPrimary", a.to},
                        {"epoch", (*promoted).value("epoch", uint64_t{0})},
                        {"position", handed.value("position", "")},
                        {"catchUpMs", handed.value("waitedMs", 0.0)},
                        {"writePauseMs", pause_ms},
                        {"oldPrimary", a.server}};
  if (a.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return Status::OK();
  }
  std::printf("switched over: %s is the primary (epoch %s); writes paused %.0f ms (catch-up %.0f ms)\n", a.to.c_str(),
              out["epoch"].dump().c_str(), pause_ms, out["catchUpMs"].get<double>());
  std::printf("%s restarts as a standby of %s\n", a.server.c_str(), a.to.c_str());
  return Status::OK();
}

Status Rejoin(const FailoverArgs& a) {
  if (a.data_dir.empty()) return Status::InvalidArgument("--data-dir: the former primary's data directory is required");
  if (a.primary.empty()) return Status::InvalidArgument("--primary: the new primary's URL is required");
  dr::RejoinOptions o;
  o.data_dir = a.data_dir;
  o.primary_url = a.primary;
  o.http.token = a.token;
  if (o.http.token.empty()) {
    if (const char* t = std::getenv("ARK_ADMIN_TOKEN")) o.http.token = t;
  }
  o.http.timeout_ms = 30000;
  o.dry_run = a.dry_run;
  spdlog::set_level(spdlog::level::err);  // the command prints the report itself (stdout stays JSON with --json)
  ARK_ASSIGN_OR_RETURN(nlohmann::json r, dr::RejoinAsStandby(Env::Default(), o));
  if (a.json) {
    std::printf("%s\n", r.dump(2).c_str());
    return Status::OK();
  }
  std::printf("fork at lsn %s: %s record(s), %s row(s) of this history are not on %s%s\n", r["forkLsn"].dump().c_str(),
              r["discardedRecords"].dump().c_str(), r["discardedRows"].dump().c_str(), a.primary.c_str(),
              a.dry_run ? " (dry run: nothing changed)" : "");
  for (const auto& d : r["discarded"]) {
    std::printf("  %-10s %-18s %s%s\n", d.value("position", "?").c_str(), d.value("op", "?").c_str(),
                d.value("collection", "").c_str(),
                d.contains("keys") ? (" keys " + d["keys"].dump()).substr(0, 200).c_str() : "");
  }
  if (a.dry_run) return Status::OK();
  std::printf("set aside: %s (kept whole)\n", r.value("setAside", "?").c_str());
  std::printf("report:    %s\n", r.value("reportFile", "?").c_str());
  std::printf("now start it as a standby: ark serve --data-dir %s --standby-of %s --standby-name NAME "
              "(it fetches only the files it lacks; %s are in place)\n",
              a.data_dir.c_str(), a.primary.c_str(), r["filesLinked"].dump().c_str());
  return Status::OK();
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_COMMAND(failover) {
  using namespace ark::cli;
  auto* cmd = app.add_subcommand("failover", "Failover: a server's role and epochs; promote a standby");
  cmd->require_subcommand(1);
  auto a = std::make_shared<FailoverArgs>();
  auto* status = cmd->add_subcommand("status", "Role, epoch history, primary and lag of a running server");
  status->add_option("--server", a->server, "The server (default http://127.0.0.1:19530)");
  status->add_option("--token", a->token, "Admin credential (or set ARK_ADMIN_TOKEN)");
  status->add_flag("--json", a->json, "JSON output");
  status->callback([a] {
    if (auto s = ShowStatus(*a); !s.ok()) Fail(s);
  });
  auto* promote = cmd->add_subcommand(
      "promote",
      "Promote a standby to primary in a new epoch (manual failover). Refused while its primary is alive and "
      "streaming to it, unless --force");
  promote->add_option("--server", a->server, "The standby (default http://127.0.0.1:19530)");
  promote->add_option("--token", a->token, "Admin credential (or set ARK_ADMIN_TOKEN)");
  promote->add_flag("--force", a->force,
                    "Promote even though the primary is alive: both then take writes until the old one is stopped "
                    "(its writes after the fork are lost to this history)");
  promote->add_option("--epoch", a->epoch, "The new epoch (default: the current one + 1)");
  promote->add_flag("--json", a->json, "JSON output");
  promote->callback([a] {
    if (auto s = Promote(*a); !s.ok()) Fail(s);
  });
  auto* switchover = cmd->add_subcommand(
      "switchover",
      "Planned: the primary pauses writes until the standby has every record, the standby is promoted, the old "
      "primary becomes its standby (RPO 0; refused if the standby lags more than --max-lag)");
  switchover->add_option("--server", a->server, "The primary (default http://127.0.0.1:19530)");
  switchover->add_option("--to", a->to, "The standby to promote (http://HOST:PORT)")->required();
  switchover->add_option("--max-lag", a->max_lag, "Refuse if the standby is more than this many seconds behind (30)");
  switchover->add_option("--timeout-ms", a->timeout_ms, "How long writes may pause for the catch-up (10000)");
  switchover->add_option("--token", a->token, "Admin credential of both servers (or set ARK_ADMIN_TOKEN)");
  switchover->add_flag("--json", a->json, "JSON output");
  switchover->callback([a] {
    if (auto s = Switchover(*a); !s.ok()) Fail(s);
  });
  auto* rejoin = cmd->add_subcommand(
      "rejoin",
      "Failback: a stopped former primary lists the records the new primary lacks (the report), sets its "
      "directory aside and prepares it to follow the new primary, keeping its files");
  rejoin->add_option("--data-dir", a->data_dir, "The former primary's data directory (the server must be stopped)")
      ->required();
  rejoin->add_option("--primary", a->primary, "The new primary's URL (http://HOST:PORT)")->required();
  rejoin->add_option("--token", a->token, "Admin credential of the new primary (or set ARK_ADMIN_TOKEN)");
  rejoin->add_flag("--dry-run", a->dry_run, "Only report what would be discarded");
  rejoin->add_flag("--json", a->json, "JSON output (the report)");
  rejoin->callback([a] {
    if (auto s = Rejoin(*a); !s.ok()) Fail(s);
  });
}
