// ScheduleTimer: the thread behind a scheduler of cron schedules (the backup
// scheduler, dr/schedule/backup_scheduler.h, and the drill scheduler,
// dr/drill/drill_scheduler.h). It repeats one step — the scheduler's
// RunDue(), which fires what is due by the Env's wall clock and returns its
// next fire time — and sleeps in real time until that time, a Poke() or
// Stop(). A sleep lasts at most a minute and the step re-reads the clock, so
// a clock step (NTP, an operator, a test's FakeClockEnv) costs at most a
// minute, or nothing after a Poke().
//
// The timer owns no schedule: tests skip it and call the step by hand.
//
// Thread-safety: Start and Stop from one thread (the owner's); Poke from any.
// The step runs on the timer's thread only, never two at once; Stop waits for
// a step in progress.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "dr/schedule/cron.h"
#include "storage/env.h"

namespace ark::dr {

class ScheduleTimer {
 public:
  // Fires what is due; returns the earliest next fire time (unix seconds;
  // 0: nothing scheduled).
  using Step = std::function<int64_t()>;

  // `env` (the wall clock) must outlive the timer.
  ScheduleTimer(Env* env, Step step) : env_(env), step_(std::move(step)) {}
  ~ScheduleTimer() { Stop(); }
  ScheduleTimer(const ScheduleTimer&) = delete;
  ScheduleTimer& operator=(const ScheduleTimer&) = delete;

  // Starts the thread; its first step runs at once. Once only.
  void Start();
  // Ends the thread after the step in progress, if any. Idempotent.
  void Stop();
  // Wakes the thread to run a step now (a test moved the clock).
  void Poke();

 private:
  void Run();

  Env* const env_;
  const Step step_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // GUARDED_BY(mu_)
  bool poked_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

// The Env's wall clock in whole unix seconds (cron times are wall-clock times).
int64_t WallSeconds(Env* env);

// The due check every cron scheduler makes at each step. `*next_run` is the
// schedule's next fire time (unix seconds; 0: it never fires again). If it is
// due at `now` (next_run <= now), returns how many of the schedule's fire
// times have passed, at least 1 (more when the step came late: the timer was
// busy or the clock jumped), and moves *next_run to the first fire time after
// now. Otherwise returns 0 and leaves *next_run alone.
int TakeDueRuns(const CronSchedule& cron, int64_t now, int64_t* next_run);

}  // namespace ark::dr
