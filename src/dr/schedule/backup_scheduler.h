// BackupScheduler: the `schedules:` of `ark serve` (docs/schedules.md).
//
// Each schedule fires at its cron times (UTC): it starts a backup job
// ("<schedule>-YYYYMMDD-HHMMSS") through the JobManager — visible and
// cancellable in /ark/v1/jobs like any other — and, after a successful
// backup, applies the schedule's retention (prune). A fire that finds the
// previous run of the same schedule still going is skipped and counted as
// missed. At start the scheduler looks at the newest backup of each schedule
// in its repository: if cron times passed since then (the server was down),
// it reports them as missed and runs one catch-up backup at once.
//
// /metrics, per schedule: ark_backup_last_success_timestamp_seconds,
// ark_backup_last_duration_seconds, ark_backup_last_new_bytes,
// ark_backup_last_total_bytes, ark_backup_runs_total, ark_backup_failures_total,
// ark_backup_missed_runs_total, ark_backup_next_run_timestamp_seconds.
//
// Time: "what time is it" always comes from the injected Env's wall clock
// (UTC; cron times are wall-clock times), so a test with a FakeClockEnv puts
// the scheduler at any instant. The timer thread (dr/schedule/schedule_timer.h)
// sleeps in real time until the next fire time or a Poke(); tests can instead
// drive it by hand with RunDue(), the step the thread repeats.
//
// Thread-safety: Start/Stop from one thread; the rest may be called from any.
#pragma once

#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "dr/jobs/job_manager.h"
#include "dr/schedule/cron.h"
#include "dr/schedule/schedule_config.h"
#include "dr/schedule/schedule_timer.h"
#include "engine/database.h"
#include "storage/env.h"

namespace ark::dr {

class BackupScheduler {
 public:
  // `env` gives the clock and is the Env of the repositories the schedules
  // open; it, `db`, `jobs` and `metrics` (may be null) must outlive the
  // scheduler.
  BackupScheduler(Env* env, Database* db, JobManager* jobs, MetricsRegistry* metrics,
                  std::vector<BackupScheduleConfig> schedules);
  ~BackupScheduler();

  // Parses the schedules, checks each repository for missed runs (starting
  // catch-up runs), and starts the timer thread (tests that fire by hand pass
  // timer=false). A repository that cannot be opened is an error naming the
  // schedule.
  Status Start(bool timer = true);
  void Stop();
  // Wakes the timer thread to re-read the clock now (tests move the clock).
  void Poke();
  // One step of the timer: fires every schedule whose next run is due by the
  // Env's clock and computes its next run from that clock. Returns the
  // earliest next run (unix seconds; 0 if none).
  int64_t RunDue();

  // Fires `name` now as its timer would; the job id ("" if skipped because
  // the previous run is still going).
  Result<std::string> Fire(const std::string& name);

  struct Stats {
    uint64_t runs = 0;
    uint64_t failures = 0;
    uint64_t missed = 0;
    int64_t last_success = 0;     // unix seconds, 0 = never
    double last_duration = 0;     // seconds
    uint64_t last_new_bytes = 0;
    uint64_t last_total_bytes = 0;
    int64_t next_run = 0;         // unix seconds
    std::string last_error;
    std::string running_job;      // "" when idle
  };
  Stats GetStats(const std::string& name) const;

 private:
  struct Schedule {
    BackupScheduleConfig config;
    std::optional<CronSchedule> cron;
    Stats stats;
  };
  int64_t RunDueLocked();                       // mu_ held
  int64_t NowSeconds() const;                   // the Env's wall clock
  Result<std::string> FireLocked(Schedule& s);  // mu_ held
  void Collect(MetricsRegistry& m) const;

  Env* const env_;
  Database* db_;
  JobManager* jobs_;
  MetricsRegistry* metrics_;
  mutable std::mutex mu_;
  std::map<std::string, Schedule> schedules_;
  // Declared last: destroyed (stopped) first, before what its steps use.
  ScheduleTimer timer_{env_, [this] { return RunDue(); }};
};

}  // namespace ark::dr
