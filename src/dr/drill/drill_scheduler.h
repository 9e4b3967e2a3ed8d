// DrillScheduler: `drills.schedules:` of `ark serve` (docs/drills.md,
// "Scheduled drills").
//
// Each schedule fires at its cron times (UTC) and runs a restore-check
// (dr/drill/restore_check.h) of its repository: the newest backup (or, with
// to_latest, the end of the WAL archive) is restored into
// <report_dir>/<id>.scratch, served by a child `ark serve`
// (options.ark_binary), verified, measured and judged against the tiers, and
// torn down; the report goes to <report_dir>/<id>/ (DrillReport::Write),
// where the dashboard, dr/status and `ark dr check` read it. Only
// restore-check can be scheduled (ValidateDrillSchedule says why).
//
// Runs are serial: the timer's thread runs the drills itself, one at a time,
// so a schedule never has two runs at once and two schedules never restore
// side by side on a production host. A schedule that comes due while
// another's drill runs starts when that one ends; its cron times that passed
// meanwhile beyond the first are counted as missed. Two runs never start in
// the same wall-clock second (a report's id is its start second and
// scenario): the later one waits for the next second.
//
// A run that fails — a key file that cannot be read, a repository that cannot
// be opened, no backup, a failed check, a report that cannot be written — is
// a failed drill: counted, logged, its report written when possible. It is
// never an error of the server. No catch-up at start: a cron time that passed
// while the server was down is not run late (the next one runs).
//
// /metrics, per schedule, labels {schedule, scenario}:
//   ark_drill_runs_total, ark_drill_failures_total, ark_drill_missed_runs_total,
//   ark_drill_running (1 while its drill runs), ark_drill_next_run_timestamp_seconds,
//   ark_drill_last_run_timestamp_seconds (when its last finished run started; 0 = never),
// and once a run has finished:
//   ark_drill_last_passed (1/0), ark_drill_last_rto_seconds,
//   ark_drill_last_rpo_seconds (NaN when the last run did not measure it).
// And, schedules or not, the newest report per scenario in the report
// directory (dr/drill/drill_report_metrics.h): ark_drill_latest_passed,
// ark_drill_latest_timestamp_seconds.
//
// Time: cron times are judged by the injected Env's wall clock, and the
// drill measures with the same Env, so a test with a FakeClockEnv puts the
// scheduler at any instant and drives it by hand with RunDue(), the step the
// timer thread (dr/schedule/schedule_timer.h) repeats.
//
// Shutdown: Stop() waits for a drill in progress to end. A restore-check has
// no point at which it can be cancelled, and leaving it would orphan its
// child server and scratch directory.
//
// Thread-safety: Start and Stop from one thread; RunDue, Poke and GetStats
// from any (steps are serialised).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "dr/drill/drill_report_metrics.h"
#include "dr/drill/drill_schedule_config.h"
#include "dr/schedule/cron.h"
#include "dr/schedule/schedule_timer.h"
#include "storage/env.h"

namespace ark::dr {

struct DrillSchedulerOptions {
  std::string report_dir;  // reports and scratch directories (drills.report_dir)
  std::string ark_binary;  // the `ark` executable the scratch server runs
  uint64_t ready_timeout_ms = 30 * 60 * 1000;  // for the scratch server's /readyz
};

class DrillScheduler {
 public:
  // `env` (the clock, the files, the repositories' Env) and `metrics` (may be
  // null) must outlive the scheduler.
  DrillScheduler(Env* env, MetricsRegistry* metrics, DrillSchedulerOptions options,
                 std::vector<DrillScheduleConfig> schedules);
  ~DrillScheduler();
  DrillScheduler(const DrillScheduler&) = delete;
  DrillScheduler& operator=(const DrillScheduler&) = delete;

  // Checks every schedule (ValidateDrillSchedule; its key options are read
  // now so a bad key file is found at start, not at the first run; the
  // repository is opened only by each run, so one that is down does not stop
  // the server), computes the next runs, registers the metrics and starts the
  // timer thread (tests that drive RunDue by hand pass timer=false).
  // InvalidArgument naming the schedule.
  Status Start(bool timer = true);
  void Stop();
  // Wakes the timer thread to re-read the clock now (tests move the clock).
  void Poke();
  // One step of the timer: runs, one after another, the drill of every
  // schedule due by the Env's clock (on the calling thread, so it returns
  // once they have finished) and computes their next runs. Returns the
  // earliest next run (unix seconds; 0 if none).
  int64_t RunDue();

  struct Stats {
    uint64_t runs = 0;      // started
    uint64_t failures = 0;  // finished without passing
    uint64_t missed = 0;    // cron times passed over while the timer was busy
    bool running = false;
    int64_t next_run = 0;  // unix seconds; 0 = none
    // The last finished run (finished == false: none yet).
    bool finished = false;
    int64_t last_run = 0;  // when it started, unix seconds
    bool last_passed = false;
    std::optional<double> last_rto_seconds;  // when measured
    std::optional<double> last_rpo_seconds;
    std::string last_report_dir;  // "" if its report could not be written
    std::string last_error;       // why it did not pass ("" if it did)
  };
  Stats GetStats(const std::string& name) const;

 private:
  struct Schedule {
    DrillScheduleConfig config;
    std::optional<CronSchedule> cron;
    Stats stats;
  };
  // Takes the first schedule due at `now` (marking it running), unless `now`
  // is the previous run's start second; nullopt if none.
  std::optional<DrillScheduleConfig> TakeDue(int64_t now);
  void RunOne(const DrillScheduleConfig& config);  // no lock held
  void Collect(MetricsRegistry& m) const;

  Env* const env_;
  MetricsRegistry* const metrics_;
  const DrillSchedulerOptions options_;
  DrillReportMetrics reports_;
  std::mutex step_mu_;       // serialises RunDue
  int64_t last_start_ = -1;  // GUARDED_BY(step_mu_): second of the last run's start
  mutable std::mutex mu_;
  std::map<std::string, Schedule>
      schedules_;  // GUARDED_BY(mu_) (the map's shape is fixed at construction)
  // Declared last: destroyed (stopped) first, before what its steps use.
  ScheduleTimer timer_{env_, [this] { return RunDue(); }};
};

}  // namespace ark::dr
