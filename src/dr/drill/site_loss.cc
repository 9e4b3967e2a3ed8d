#include "dr/drill/site_loss.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "dr/archive/pitr.h"
#include "dr/backup/backup.h"
#include "dr/drill/data_check.h"
#include "dr/drill/drill_api.h"
#include "dr/drill/probe.h"
#include "dr/drill/scratch_server.h"

namespace ark::dr {

Status RunSiteLoss(Env* env, Repository* repo, const SiteLossOptions& o, DrillReport* report) {
  Probe probe(env, ProbeOptions{o.endpoints, o.token, "default", o.interval_ms, 100, 2000});
  ScratchServer server(env);
  RestoreCheckOptions ro = o.restore;
  ro.to_latest = true;
  const std::string data_dir = JoinPath(ro.work_dir, "data");
  // A work directory with content is refused before anything happens (and
  // so never removed).
  if (Status busy = CheckRestoreTarget(env, ro.work_dir); !busy.ok()) {
    report->Fail(busy);
    return busy;
  }
  auto run = [&]() -> Status {
    if (o.kill_command.empty()) {
      return Status::InvalidArgument("site-loss needs --kill-cmd: the command that kills the primary (and may destroy its data)");
    }
    ARK_ASSIGN_OR_RETURN(std::string primary, FindPrimary(o.endpoints, o.admin_token));
    report->SetSource({{"primary", primary}, {"repo", ro.repo_description}, {"killCommand", o.kill_command}});
    DataFingerprint before;
    if (o.verify_content) {
      ARK_ASSIGN_OR_RETURN(before, TakeFingerprint(primary, o.token, o.admin_token, {kProbeCollection}));
      report->Event("fingerprinted", "verification",
                    fmt::format("{} collection(s) checksummed and sample searches run on {}", before.collections.size(),
                                primary));
    }
    ARK_RETURN_IF_ERROR(probe.Prepare(primary));
    // The probe collection must be in the archive, or the recovered
    // instance could not take the probe's writes at all.
    ARK_ASSIGN_OR_RETURN(nlohmann::json st, AdminApi(primary, "replication/status", nlohmann::json::object(), o.admin_token));
    auto created_at = Position::Parse(st.value("lastPosition", ""));
    if (!created_at.ok()) return Status::FailedPrecondition(fmt::format("{} reports no position: {}", primary, st.dump()));
    std::string seen = "nothing archived";
    if (!WaitFor(env, 60000, [&] {
          auto a = GetArchiveStatus(repo);
          if (!a.ok()) {
            seen = a.status().message();
            return false;
          }
          seen = "archived to " + a->last.ToString();
          return a->epoch == created_at->epoch && !(a->last < *created_at);
        })) {
      return Status::FailedPrecondition(fmt::format(
          "the WAL archive of {} did not reach the probe collection's creation ({}) in 60 s ({}): is archive: "
          "configured on {} with this repository?", ro.repo_description, created_at->ToString(), seen, primary));
    }
    probe.Start();
    report->Event("probe-started", "verification",
                  fmt::format("writing a marker every {} ms to default.{} on {} (its creation is archived)", o.interval_ms,
                              kProbeCollection, primary));
    if (!WaitFor(env, 60000, [&] { return probe.AckCount() >= o.warmup_markers; })) {
      return Status::TimedOut(fmt::format("the probe got {} of {} acknowledgements from {} in 60 s",
                                          probe.AckCount(), o.warmup_markers, primary));
    }

    // The disaster.
    const uint64_t disaster = env->WallMicros();
    probe.MarkDisaster(disaster, primary);
    report->EventAt(disaster, "site-lost", "disaster", fmt::format("{} lost: {}", primary, o.kill_command));
    ARK_RETURN_IF_ERROR(RunShell(env, o.kill_command, primary, 60000));

    // Recovery on a fresh instance: newest backup + the archive to its end.
    ARK_ASSIGN_OR_RETURN(Recovery recovery, RecoverInto(env, repo, ro, data_dir, report));
    ARK_RETURN_IF_ERROR(StartScratchServer(ro, data_dir, &server, report));
    probe.AddEndpoint(server.url());
    if (!WaitFor(env, o.timeout_ms, [&] {
          return probe.FirstWriteAfterDisasterMicros().has_value() && probe.FirstSearchAfterDisasterMicros().has_value();
        })) {
      return Status::TimedOut(fmt::format("the recovered instance {} took no write found by a search within {} ms",
                                          server.url(), o.timeout_ms));
    }
    const uint64_t first_write = *probe.FirstWriteAfterDisasterMicros();
    const uint64_t first_search = *probe.FirstSearchAfterDisasterMicros();
    report->EventAt(first_write, "first-write", "recovery", fmt::format("{} accepted a marker", probe.FirstWriteEndpoint()));
    report->EventAt(first_search, "first-correct-search", "verification", "a search found the newest acknowledged marker");
    const uint64_t acked_at_recovery = probe.AckCount();
    if (!WaitFor(env, 30000, [&] { return probe.AckCount() >= acked_at_recovery + o.after_markers; })) {
      report->Check("writes", false, fmt::format("only {} more markers in 30 s after the recovery", probe.AckCount() - acked_at_recovery));
    }
    probe.Stop();

    ARK_ASSIGN_OR_RETURN(ProbeOutcome outcome,
                         RecordProbeOutcome(probe, server.url(), disaster, first_write, first_search, report));
    const auto& acks = outcome.acks;
    const auto& lost = outcome.lost;
    const auto& have = outcome.present;
    // Only markers acknowledged after the archive's end may be lost: a lost
    // marker older than a present one means the restore skipped records.
    uint64_t newest_recovered = 0;  // of the markers acknowledged before the disaster
    for (const auto& a : acks) {
      if (a.at_micros < disaster && have.count(a.id)) newest_recovered = std::max(newest_recovered, a.id);
    }
    bool suffix = true;
    for (const auto& l : lost) {
      if (l.id < newest_recovered) suffix = false;
    }
    report->Check("markers", suffix,
                  lost.empty() ? fmt::format("all {} acknowledged markers were recovered", acks.size())
                               : fmt::format("{} of {} acknowledged markers were not yet archived and are lost{}",
                                             lost.size(), acks.size(),
                                             suffix ? "" : " — and some older than recovered ones: the archive has a hole"));
    std::set<std::string> recovered;
    for (const auto& c : recovery.expected) recovered.insert(c.database + "." + c.name);
    report->Event("verified", "verification",
                  fmt::format("{} markers checked on {}; {} collection(s) recovered", acks.size(), server.url(), recovered.size()));
    CollectionFindings findings;
    if (o.verify_content) findings = CompareFingerprint(server.url(), before, o.token, "", report);
    return JudgeCollections(server.url(), outcome.rto_ms, outcome.rpo_ms, report, o.token, &findings);
  };
  Status s = run();
  probe.Stop();
  if (!s.ok()) report->Fail(s);
  if (Status st = server.Stop(); !st.ok()) report->Check("teardown", false, st.message());
  if (!ro.keep && env->FileExists(ro.work_dir)) {
    if (Status rm = env->RemoveAll(ro.work_dir); !rm.ok()) report->Check("teardown", false, rm.message());
  }
  report->Event("torn-down", "teardown",
                ro.keep ? fmt::format("the recovered instance stopped; its data kept in {}", data_dir)
                        : "the recovered instance stopped and its directory removed");
  if (!s.ok()) return s;
  if (!report->passed()) return Status::FailedPrecondition(report->FailureSummary());
  return Status::OK();
}

}  // namespace ark::dr
