// `ark drill run SCENARIO`: disaster-recovery drills that measure RTO and RPO
// (docs/drills.md). The report goes to <report-dir>/<id>/report.{json,md,html}
// (docs/formats/drill-report.md); the exit code is 0 only if the drill passed.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/command_registry.h"
#include "dr/drill/drill_report.h"
#include "dr/drill/failover_drill.h"
#include "dr/drill/restore_check.h"
#include "dr/drill/site_loss.h"
#include "dr/drill/tiers.h"
#include "dr/repository/repository_open.h"
#include "storage/env.h"

namespace ark::cli {
namespace {

constexpr const char* kScenarios = "restore-check, site-loss, primary-crash, network-partition, switchover";

struct DrillArgs {
  std::string scenario;
  std::string repo, key_file, passphrase_file;
  std::string backup;
  bool to_latest = false;
  std::string work_dir;
  bool keep = false;
  std::string report_dir = "./ark-drills";
  int samples = 5;
  int parallel = 4;
  bool json = false;
  // primary-crash, switchover
  std::vector<std::string> endpoints;
  std::string monitor, kill_cmd, fault_cmd, heal_cmd, to, token, admin_token;
  uint32_t warmup_markers = 50;
  bool quiesce = false;
  uint64_t timeout_ms = 120000;
  bool keep_probe = false;
  bool no_verify_content = false;
};

Result<std::string> SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return Status::IOError("cannot find the ark executable (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

void PrintSummary(const nlohmann::json& j, const std::string& dir) {
  auto ms = [&](const char* k) {
    const auto& v = j["measured"][k];
    return v.is_number() ? dr::FormatDuration(v.get<uint64_t>()) : std::string("not measured");
  };
  std::printf("drill %s: %s\n", j["id"].get<std::string>().c_str(), j["passed"].get<bool>() ? "PASSED" : "FAILED");
  if (!j["error"].get<std::string>().empty()) std::printf("  error: %s\n", j["error"].get<std::string>().c_str());
  std::printf("  RTO %s (restore %s), RPO %s\n", ms("rtoMs").c_str(), ms("restoreMs").c_str(), ms("rpoMs").c_str());
  for (const auto& c : j["collections"]) {
    std::string verdict = "no tier";
    if (c.contains("verdict")) {
      verdict = fmt::format("RTO {}, RPO {}", c["verdict"]["rto"].get<std::string>(), c["verdict"]["rpo"].get<std::string>());
    }
    std::printf("  %-32s %8s rows  samples %s/%s  %s\n",
                (c["database"].get<std::string>() + "." + c["name"].get<std::string>()).c_str(),
                c.contains("rows") ? c["rows"].dump().c_str() : "?",
                c.contains("samplesFound") ? c["samplesFound"].dump().c_str() : "?",
                c.contains("samples") ? c["samples"].dump().c_str() : "?", verdict.c_str());
    if (c.contains("verdict") && c["verdict"]["reasons"].is_array()) {
      for (const auto& r : c["verdict"]["reasons"]) {
        if (r.is_string()) std::printf("    %s\n", r.get<std::string>().c_str());
      }
    }
  }
  for (const auto& c : j["checks"]) {
    if (!c["passed"].get<bool>()) std::printf("  FAILED %s: %s\n", c["name"].get<std::string>().c_str(), c["detail"].get<std::string>().c_str());
  }
  std::printf("  report: %s/report.html (also report.md, report.json)\n", dir.c_str());
}

Status Finish(const DrillArgs& a, const dr::DrillReport& report, const Status& outcome);

std::string AdminToken(const DrillArgs& a) {
  const char* env = std::getenv("ARK_ADMIN_TOKEN");
  return a.admin_token.empty() && env != nullptr ? env : a.admin_token;
}

Status RunFailoverScenario(const DrillArgs& a) {
  if (a.endpoints.size() < 2) {
    return Status::InvalidArgument(fmt::format("{} needs the cluster's servers: --endpoint URL at least twice", a.scenario));
  }
  if (a.scenario == "primary-crash" && a.kill_cmd.empty()) {
    return Status::InvalidArgument("primary-crash needs --kill-cmd: the command that kills the primary (e.g. 'kill -9 PID'; "
                                   "$ARK_DRILL_PRIMARY holds its URL)");
  }
  if (a.scenario == "switchover" && !a.kill_cmd.empty()) return Status::InvalidArgument("switchover takes no --kill-cmd");
  if (a.scenario == "network-partition" && (a.fault_cmd.empty() || a.heal_cmd.empty())) {
    return Status::InvalidArgument("network-partition needs --fault-cmd (cuts the primary from the witness and the "
                                   "monitor, not from clients) and --heal-cmd (undoes it)");
  }
  if (a.scenario != "network-partition" && (!a.fault_cmd.empty() || !a.heal_cmd.empty())) {
    return Status::InvalidArgument("--fault-cmd and --heal-cmd are for network-partition");
  }
  Env* env = Env::Default();
  dr::DrillReport report(env, a.scenario);
  dr::FailoverDrillOptions o;
  o.scenario = a.scenario;
  o.endpoints = a.endpoints;
  o.monitor = a.monitor;
  o.kill_command = a.scenario == "network-partition" ? a.fault_cmd : a.kill_cmd;
  o.heal_command = a.heal_cmd;
  o.to = a.to;
  ARK_ASSIGN_OR_RETURN(o.ark_binary, SelfPath());
  o.token = a.token;
  o.admin_token = AdminToken(a);
  o.warmup_markers = a.warmup_markers;
  o.quiesce = a.quiesce;
  o.timeout_ms = a.timeout_ms;
  o.keep_probe = a.keep_probe;
  o.verify_content = !a.no_verify_content;
  Status outcome = dr::RunFailoverDrill(env, o, &report);
  return Finish(a, report, outcome);
}

Status Run(const DrillArgs& a) {
  if (a.scenario != "restore-check" && a.scenario != "site-loss" && a.scenario != "primary-crash" &&
      a.scenario != "network-partition" && a.scenario != "switchover") {
    return Status::InvalidArgument(fmt::format("unknown drill scenario '{}': one of {}", a.scenario, kScenarios));
  }
  if (a.samples < 1 || a.samples > 1000) return Status::InvalidArgument(fmt::format("--samples {} must be 1..1000", a.samples));
  spdlog::set_level(a.json ? spdlog::level::err : spdlog::level::warn);
  if (a.scenario == "primary-crash" || a.scenario == "network-partition" || a.scenario == "switchover") {
    return RunFailoverScenario(a);
  }
  if (a.repo.empty()) {
    return Status::InvalidArgument(fmt::format("{} needs --repo: the backup repository to recover from", a.scenario));
  }
  if (a.scenario == "site-loss") {
    if (a.endpoints.empty()) return Status::InvalidArgument("site-loss needs --endpoint: the primary's URL");
    if (a.kill_cmd.empty()) {
      return Status::InvalidArgument("site-loss needs --kill-cmd: the command that kills the primary (and may destroy "
                                     "its data directory); $ARK_DRILL_PRIMARY holds its URL");
    }
    if (a.to_latest || !a.backup.empty()) {
      return Status::InvalidArgument("site-loss always recovers to the end of the archive: no --to-latest or --backup");
    }
  }
  Env* env = Env::Default();
  ARK_ASSIGN_OR_RETURN(dr::EncryptionKey key, dr::KeyFromOptions(env, a.key_file, a.passphrase_file));
  ARK_ASSIGN_OR_RETURN(auto opened, dr::OpenRepositoryUrl(env, a.repo, key, /*create=*/false));
  dr::DrillReport report(env, a.scenario);
  dr::RestoreCheckOptions o;
  o.repo_description = a.repo;
  o.backup = a.backup;
  o.to_latest = a.to_latest;
  o.work_dir = a.work_dir.empty() ? JoinPath(a.report_dir, report.id() + ".scratch") : a.work_dir;
  o.keep = a.keep;
  ARK_ASSIGN_OR_RETURN(o.ark_binary, SelfPath());
  o.samples = a.samples;
  o.parallelism = a.parallel;
  if (a.scenario == "site-loss") {
    dr::SiteLossOptions so;
    so.endpoints = a.endpoints;
    so.kill_command = a.kill_cmd;
    so.restore = o;
    so.token = a.token;
    so.admin_token = AdminToken(a);
    so.warmup_markers = a.warmup_markers;
    so.timeout_ms = std::max<uint64_t>(a.timeout_ms, 1000);
    so.verify_content = !a.no_verify_content;
    return Finish(a, report, dr::RunSiteLoss(env, opened.repo.get(), so, &report));
  }
  Status outcome = dr::RunRestoreCheck(env, opened.repo.get(), o, &report);
  return Finish(a, report, outcome);
}

Status Finish(const DrillArgs& a, const dr::DrillReport& report, const Status& outcome) {
  ARK_ASSIGN_OR_RETURN(std::string dir, report.Write(a.report_dir));
  const nlohmann::json j = report.ToJson();
  if (a.json) {
    nlohmann::json out = j;
    out["reportDir"] = dir;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    PrintSummary(j, dir);
  }
  if (!outcome.ok()) return Status::FailedPrecondition(fmt::format("drill {} failed: {}", report.id(), outcome.message()));
  return Status::OK();
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_COMMAND(drill) {
  using namespace ark::cli;
  auto* cmd = app.add_subcommand("drill", "Disaster-recovery drills that measure RTO and RPO (docs/drills.md)");
  cmd->require_subcommand(1);
  auto a = std::make_shared<DrillArgs>();
  auto* run = cmd->add_subcommand("run", "Run a drill: restore-check, site-loss, primary-crash, network-partition or switchover (docs/drills.md)");
  run->add_option("scenario", a->scenario, kScenarios)->required();
  run->add_option("--repo", a->repo, "Backup repository: a directory, file:///path or s3://bucket/prefix?endpoint=...");
  run->add_option("--key-file", a->key_file, "Encryption key: 32 raw bytes or 64 hex characters");
  run->add_option("--passphrase-file", a->passphrase_file, "Encryption passphrase (first line; or set ARK_BACKUP_PASSPHRASE)");
  run->add_option("--backup", a->backup, "Restore this backup (default: the newest)");
  run->add_flag("--to-latest", a->to_latest, "Restore to the end of the WAL archive (point in time), not just the backup");
  run->add_option("--work-dir", a->work_dir, "Scratch directory (default: <report-dir>/<id>.scratch); removed afterwards");
  run->add_flag("--keep", a->keep, "Keep the scratch directory");
  run->add_option("--report-dir", a->report_dir, "Where the report directory goes (default ./ark-drills)");
  run->add_option("--samples", a->samples, "Sample searches per collection (default 5)");
  run->add_option("--parallel", a->parallel, "Concurrent downloads")->check(CLI::Range(1, 64));
  run->add_flag("--json", a->json, "Print the report as JSON");
  run->add_option("--endpoint", a->endpoints, "primary-crash, switchover, site-loss: a server of the cluster (repeat for each)");
  run->add_option("--monitor", a->monitor, "primary-crash: the ark monitor's URL (its timeline gives detection and promotion)");
  run->add_option("--kill-cmd", a->kill_cmd,
                  "primary-crash, site-loss: shell command that kills the primary ($ARK_DRILL_PRIMARY = its URL)");
  run->add_option("--fault-cmd", a->fault_cmd,
                  "network-partition: shell command that cuts the primary from the witness ($ARK_DRILL_PRIMARY = its URL)");
  run->add_option("--heal-cmd", a->heal_cmd, "network-partition: shell command that undoes the cut");
  run->add_option("--to", a->to, "switchover: the standby to promote (default: the other endpoint)");
  run->add_option("--token", a->token, "Milvus API credential of the servers");
  run->add_option("--admin-token", a->admin_token, "Admin credential of the servers and monitor (or set ARK_ADMIN_TOKEN)");
  run->add_option("--warmup-markers", a->warmup_markers, "Markers acknowledged before the disaster (default 50)")
      ->check(CLI::Range(1, 100000));
  run->add_flag("--quiesce", a->quiesce, "Pause writes and let every standby catch up before the disaster: RPO must be 0");
  run->add_option("--timeout-ms", a->timeout_ms, "How long recovery may take before the drill fails (default 120000)");
  run->add_flag("--keep-probe", a->keep_probe, "Keep the probe collection (ark_drill_probe) afterwards");
  run->add_flag("--no-verify-content", a->no_verify_content,
                "Failover and site-loss drills: skip comparing each collection's content checksum and sample searches before and "
                "after (for a drill while other clients write)");
  run->callback([a] {
    if (auto s = Run(*a); !s.ok()) Fail(s);
  });
}
