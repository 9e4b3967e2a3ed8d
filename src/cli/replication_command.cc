// `ark replication status --server URL` (docs/replication.md): a server's
// replication role, positions and lag, from /ark/v1/replication/status.
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/admin_client.h"
#include "cli/command_registry.h"

namespace ark::cli {
namespace {

struct ReplicationArgs {
  std::string server = "http://127.0.0.1:19530";
  std::string token;
  bool json = false;
};

Status ShowStatus(const ReplicationArgs& a) {
  ARK_ASSIGN_OR_RETURN(nlohmann::json s, CallAdmin(a.server, a.token, "replication/status", nlohmann::json::object()));
  if (a.json) {
    std::printf("%s\n", s.dump(2).c_str());
    return Status::OK();
  }
  const std::string role = s.value("role", "?");
  std::printf("role           %s (mode %s, epoch %s, last record %s)\n", role.c_str(), s.value("mode", "?").c_str(),
              s.contains("epoch") ? s["epoch"].dump().c_str() : "?", s.value("lastPosition", "?").c_str());
  if (role == "standby") {
    std::printf("primary        %s (as standby '%s')\n", s.value("primary", "?").c_str(), s.value("name", "?").c_str());
    std::printf("state          %s%s\n", s.value("state", "?").c_str(),
                s.contains("reason") ? (" — " + s["reason"].get<std::string>()).c_str() : "");
    std::printf("applied        %s (primary durable %s)\n", s.value("applied", "?").c_str(),
                s.value("primaryDurable", "?").c_str());
    std::printf("lag            %s records, %.3f s\n", s["lagRecords"].dump().c_str(), s.value("lagSeconds", 0.0));
  }
  const auto& standbys = s["standbys"];
  if (standbys.is_array() && !standbys.empty()) {
    std::printf("\n%-20s %-10s %-14s %-14s %10s %12s %9s\n", "STANDBY", "CONNECTED", "SENT", "DURABLE", "LAG RECS",
                "LAG BYTES", "LAG S");
    for (const auto& b : standbys) {
      std::printf("%-20s %-10s %-14s %-14s %10s %12s %9.3f\n", b.value("name", "?").c_str(),
                  b.value("connected", false) ? "yes" : "no", b.value("sent", "?").c_str(),
                  b.value("durable", "?").c_str(), b["lagRecords"].dump().c_str(), b["lagBytes"].dump().c_str(),
                  b.value("lagSeconds", 0.0));
      if (b.contains("slot") && b["slot"].value("invalidated", false)) {
        std::printf("  slot invalidated: %s\n", b["slot"].value("invalidatedReason", "").c_str());
      }
    }
  } else if (role == "primary") {
    std::printf("no standby has bootstrapped from this server\n");
  }
  if (s.contains("sync") && s.value("mode", "") == "sync") {
    std::printf("\nsync           %s (timeouts %s)\n", s["sync"].value("degraded", false) ? "DEGRADED to async" : "on",
                s["sync"]["timeouts"].dump().c_str());
  }
  return Status::OK();
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_COMMAND(replication) {
  using namespace ark::cli;
  auto* cmd = app.add_subcommand("replication", "Replication: a server's role, standbys and lag");
  cmd->require_subcommand(1);
  auto a = std::make_shared<ReplicationArgs>();
  auto* status = cmd->add_subcommand("status", "Role, positions and lag of a running server (primary or standby)");
  status->add_option("--server", a->server, "The server (default http://127.0.0.1:19530)");
  status->add_option("--token", a->token, "Admin credential (or set ARK_ADMIN_TOKEN)");
  status->add_flag("--json", a->json, "JSON output");
  status->callback([a] {
    if (auto s = ShowStatus(*a); !s.ok()) Fail(s);
  });
}
