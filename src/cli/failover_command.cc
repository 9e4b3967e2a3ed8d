// `ark failover status|promote --server URL` (docs/failover.md): a server's
// role and epoch history, and the manual promotion of a standby.
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/admin_client.h"
#include "cli/command_registry.h"

namespace ark::cli {
namespace {

struct FailoverArgs {
  std::string server = "http://127.0.0.1:19530";
  std::string token;
  bool json = false;
  bool force = false;
  uint64_t epoch = 0;
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
}
