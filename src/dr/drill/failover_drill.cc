#include "dr/drill/failover_drill.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "dr/drill/data_check.h"
#include "dr/drill/drill_api.h"
#include "dr/drill/probe.h"
#include "dr/drill/tiers.h"

extern char** environ;

namespace ark::dr {
namespace {

// Waits until every other endpoint has applied the primary's last record.
Status Quiesce(Env* env, const FailoverDrillOptions& o, const std::string& primary) {
  std::string last;
  bool ok = WaitFor(env, 30000, [&] {
    auto p = AdminApi(primary, "replication/status", nlohmann::json::object(), o.admin_token, 3000);
    if (!p.ok() || !(*p)["lastPosition"].is_string()) return false;
    const std::string target = (*p)["lastPosition"];
    for (const auto& e : o.endpoints) {
      if (e == primary) continue;
      auto s = AdminApi(e, "replication/status", nlohmann::json::object(), o.admin_token, 3000);
      if (!s.ok() || (*s).value("applied", "") != target) {
        last = fmt::format("{} applied {}, the primary is at {}", e, s.ok() ? (*s).value("applied", "?") : s.status().message(), target);
        return false;
      }
    }
    return true;
  });
  if (!ok) return Status::TimedOut("the standbys did not catch up within 30 s: " + last);
  return Status::OK();
}

// The monitor's events since the disaster, as timeline steps and figures.
void ReadMonitorTimeline(const FailoverDrillOptions& o, uint64_t disaster, DrillReport* report) {
  auto t = AdminApi(o.monitor, "monitor/timeline", nlohmann::json::object(), o.admin_token, 5000);
  if (!t.ok()) {
    report->Check("monitor", false, fmt::format("cannot read the monitor's timeline at {}: {}", o.monitor, t.status().message()));
    return;
  }
  const nlohmann::json& events = t->is_object() && (*t)["events"].is_array() ? (*t)["events"] : *t;
  if (!events.is_array()) return;
  bool detected = false, promoted = false;
  for (const auto& e : events) {
    if (!e.is_object() || !e["atMicros"].is_number_unsigned() || !e["event"].is_string()) continue;
    const uint64_t at = e["atMicros"].get<uint64_t>();
    if (at < disaster) continue;
    const std::string kind = e["event"];
    const uint64_t ms = (at - disaster) / 1000;
    if (kind == "check-failed" && e.value("failure", 0) == e.value("of", -1) && !detected) {
      detected = true;
      report->Measure("detectionMs", ms);
      report->EventAt(at, "failure-detected", "detection",
                      fmt::format("the monitor's check failed {} times in a row: {}", e.value("of", 0),
                                  e.value("reason", "")));
    } else if (kind == "lease-expired") {
      report->EventAt(at, "lease-expired", "promotion", "the old primary's lease has run out: it acknowledges nothing more");
    } else if (kind == "promoted" && !promoted) {
      promoted = true;
      report->Measure("promotionMs", ms);
      report->EventAt(at, "promoted", "promotion", fmt::format("{} promoted in epoch {}", e.value("name", "?"), e.value("epoch", 0)));
    } else if (kind == "dns-updated" || kind == "hook-ran") {
      report->EventAt(at, kind, "traffic", kind == "dns-updated" ? "DNS points at the new primary" : "the failover hook ran");
    } else if (kind == "new-primary-ready") {
      report->EventAt(at, "new-primary-ready", "recovery", "the new primary's /primary answers 200");
    }
  }
  if (!promoted) report->Check("monitor", false, "the monitor's timeline has no promotion after the disaster");
}

}  // namespace

Status RunFailoverDrill(Env* env, const FailoverDrillOptions& o, DrillReport* report) {
  Probe probe(env, ProbeOptions{o.endpoints, o.token, "default", o.interval_ms, 100, 2000});
  std::string new_primary;
  auto run = [&]() -> Status {
    if (o.endpoints.size() < 2) return Status::InvalidArgument("a failover drill needs at least two --endpoint servers");
    if (o.scenario == "primary-crash" && o.kill_command.empty()) {
      return Status::InvalidArgument("primary-crash needs --kill-cmd: the command that kills the primary (e.g. 'kill -9 PID')");
    }
    if (o.scenario == "network-partition" && (o.kill_command.empty() || o.heal_command.empty())) {
      return Status::InvalidArgument("network-partition needs --fault-cmd (cuts the primary from the witness) and --heal-cmd");
    }
    ARK_ASSIGN_OR_RETURN(std::string primary, FindPrimary(o.endpoints, o.admin_token));
    std::string to = o.to;
    if (o.scenario == "switchover" && to.empty()) {
      for (const auto& e : o.endpoints) {
        if (e != primary) {
          to = e;
          break;
        }
      }
    }
    DataFingerprint before;
    if (o.verify_content) {
      ARK_ASSIGN_OR_RETURN(before, TakeFingerprint(primary, o.token, o.admin_token, {kProbeCollection}));
      size_t samples = 0;
      for (const auto& c : before.collections) samples += c.samples.size();
      report->Event("fingerprinted", "verification",
                    fmt::format("{} collection(s) checksummed and {} sample search(es) run on {}",
                                before.collections.size(), samples, primary));
    }
    report->SetSource({{"primary", primary}, {"endpoints", o.endpoints}, {"monitor", o.monitor},
                       {"killCommand", o.kill_command}, {"switchoverTo", to}, {"quiesced", o.quiesce}});
    ARK_RETURN_IF_ERROR(probe.Prepare(primary));
    probe.Start();
    report->Event("probe-started", "verification",
                  fmt::format("writing a marker every {} ms to {}.{} on {}", o.interval_ms, "default", kProbeCollection, primary));
    if (!WaitFor(env, 60000, [&] { return probe.AckCount() >= o.warmup_markers; })) {
      return Status::TimedOut(fmt::format("the probe got {} of {} acknowledgements from {} in 60 s (refusals: {})",
                                          probe.AckCount(), o.warmup_markers, primary, probe.Refusals()));
    }
    if (o.quiesce) {
      probe.Pause();
      ARK_RETURN_IF_ERROR(Quiesce(env, o, primary));
      report->Event("quiesced", "verification", "writes paused; every standby has applied the primary's last record");
    }

    // The disaster.
    const uint64_t disaster = env->WallMicros();
    probe.MarkDisaster(disaster, primary);
    if (o.scenario == "primary-crash") {
      report->EventAt(disaster, "primary-killed", "disaster", fmt::format("{} killed: {}", primary, o.kill_command));
      ARK_RETURN_IF_ERROR(RunShell(env, o.kill_command, primary, 60000));
    } else if (o.scenario == "network-partition") {
      report->EventAt(disaster, "partitioned", "disaster",
                      fmt::format("{} cut from the witness: {}", primary, o.kill_command));
      ARK_RETURN_IF_ERROR(RunShell(env, o.kill_command, primary, 60000).WithContext("the fault command"));
    } else {
      report->EventAt(disaster, "switchover-started", "disaster", fmt::format("planned switchover from {} to {}", primary, to));
      std::string cmd = fmt::format("'{}' failover switchover --server '{}' --to '{}' --json >/dev/null", o.ark_binary,
                                    primary, to);
      if (!o.admin_token.empty()) cmd = "ARK_ADMIN_TOKEN='" + o.admin_token + "' " + cmd;
      if (o.quiesce) probe.Resume();
      ARK_RETURN_IF_ERROR(RunShell(env, cmd, primary, o.timeout_ms).WithContext("ark failover switchover"));
      report->Event("switchover-done", "promotion", fmt::format("{} is the primary", to));
    }
    if (o.quiesce) probe.Resume();

    // Recovery, as the probe sees it.
    if (!WaitFor(env, o.timeout_ms, [&] {
          return probe.FirstWriteAfterDisasterMicros().has_value() && probe.FirstSearchAfterDisasterMicros().has_value();
        })) {
      return Status::TimedOut(fmt::format("no write was accepted and found by a search within {} ms of the disaster "
                                          "(refusals so far: {})", o.timeout_ms, probe.Refusals()));
    }
    const uint64_t first_write = *probe.FirstWriteAfterDisasterMicros();
    const uint64_t first_search = *probe.FirstSearchAfterDisasterMicros();
    new_primary = probe.FirstWriteEndpoint();
    report->EventAt(first_write, "first-write", "recovery", fmt::format("{} accepted a marker", new_primary));
    report->EventAt(first_search, "first-correct-search", "verification",
                    "a search found the newest acknowledged marker");
    if (!o.monitor.empty()) ReadMonitorTimeline(o, disaster, report);
    if (o.scenario == "network-partition") {
      // No write may be acknowledged on two histories: the cut-off primary's
      // last acknowledgement must come before the new primary's first.
      uint64_t last_old = 0;
      for (const auto& a : probe.Acks()) {
        if (a.endpoint == primary && a.at_micros >= disaster) last_old = std::max(last_old, a.at_micros);
      }
      report->Check("split-brain", last_old < first_write,
                    last_old == 0 ? fmt::format("{} acknowledged nothing after the cut", primary)
                    : last_old < first_write
                        ? fmt::format("{}'s last acknowledgement came {} before the new primary's first", primary,
                                      FormatDuration((first_write - last_old) / 1000))
                        : fmt::format("{} acknowledged a write {} after the new primary's first: two histories",
                                      primary, FormatDuration((last_old - first_write) / 1000)));
      ARK_RETURN_IF_ERROR(RunShell(env, o.heal_command, primary, 60000).WithContext("the heal command"));
      report->Event("healed", "recovery", fmt::format("{}: {}", primary, o.heal_command));
      // Healed, the old primary learns of the new epoch and stays fenced.
      std::string answer;
      const bool fenced = WaitFor(env, 30000, [&] {
        auto st = AdminApi(primary, "replication/status", nlohmann::json::object(), o.admin_token, 3000);
        if (!st.ok()) {
          answer = st.status().message();
          return false;
        }
        answer = st->dump().substr(0, 300);
        return (*st)["lease"].is_object() && (*st)["lease"].value("state", "") == "fenced";
      });
      auto w = MilvusApi(primary, "entities/upsert",
                         {{"collectionName", kProbeCollection}, {"data", {{{"id", 0}, {"vector", Probe::MarkerVector(0)}}}}},
                         o.token);
      report->Check("fenced", fenced && !w.ok(),
                    fenced && !w.ok() ? fmt::format("after the heal {} is fenced and refuses writes: {}", primary,
                                                    w.status().message())
                                      : fmt::format("after the heal {} is not fenced (status: {}; a write: {})", primary,
                                                    answer, w.ok() ? "acknowledged" : w.status().message()));
    }
    const uint64_t acked_at_recovery = probe.AckCount();
    if (!WaitFor(env, 30000, [&] { return probe.AckCount() >= acked_at_recovery + o.after_markers; })) {
      report->Check("writes", false, fmt::format("only {} more markers in 30 s after the recovery", probe.AckCount() - acked_at_recovery));
    }
    probe.Stop();

    // What was lost: acknowledged markers missing on the new primary.
    ARK_ASSIGN_OR_RETURN(ProbeOutcome outcome,
                         RecordProbeOutcome(probe, new_primary, disaster, first_write, first_search, report));
    const auto& acks = outcome.acks;
    const auto& lost = outcome.lost;
    report->Check("markers", o.scenario == "switchover" || o.quiesce ? lost.empty() : true,
                  lost.empty() ? fmt::format("all {} acknowledged markers are on the new primary {}", acks.size(), new_primary)
                               : fmt::format("{} of {} acknowledged markers are missing on {} (the RPO: list in probe.lostIds)",
                                             lost.size(), acks.size(), new_primary));
    report->Event("verified", "verification", fmt::format("{} markers checked on {}", acks.size(), new_primary));
    CollectionFindings findings;
    if (o.verify_content) findings = CompareFingerprint(new_primary, before, o.token, o.admin_token, report);
    return JudgeCollections(new_primary, outcome.rto_ms, outcome.rpo_ms, report, o.token, &findings);
  };
  Status s = run();
  probe.Stop();
  if (!s.ok()) report->Fail(s);
  if (!o.keep_probe && !new_primary.empty()) {
    (void)MilvusApi(new_primary, "collections/drop", {{"collectionName", kProbeCollection}}, o.token);
  }
  if (o.scenario == "primary-crash" && s.ok()) {
    report->Event("done", "teardown",
                  fmt::format("the killed primary stays down: bring it back as a standby with `ark failover rejoin "
                              "--data-dir DIR --primary {}` (docs/failover.md)", new_primary));
  } else {
    report->Event("done", "teardown", o.keep_probe ? "probe collection kept" : "probe collection dropped");
  }
  if (!s.ok()) return s;
  if (!report->passed()) return Status::FailedPrecondition(report->FailureSummary());
  return Status::OK();
}

}  // namespace ark::dr
