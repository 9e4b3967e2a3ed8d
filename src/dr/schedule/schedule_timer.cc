#include "dr/schedule/schedule_timer.h"

#include <algorithm>
#include <chrono>

namespace ark::dr {

int64_t WallSeconds(Env* env) { return static_cast<int64_t>(env->WallMicros() / 1000000); }

int TakeDueRuns(const CronSchedule& cron, int64_t now, int64_t* next_run) {
  if (*next_run == 0 || *next_run > now) return 0;
  // The fire time at *next_run, and any that came after it up to now.
  const int passed = 1 + cron.CountFiresBetween(*next_run, now, 100000);
  *next_run = cron.NextAfter(now).value_or(0);
  return passed;
}

void ScheduleTimer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ScheduleTimer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ScheduleTimer::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

void ScheduleTimer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    poked_ = false;
    lock.unlock();  // a step may take long (a drill): Poke and Stop stay quick
    const int64_t next = step_();
    const int64_t now = WallSeconds(env_);
    lock.lock();
    // Wake at the next fire time (re-checked against the clock, so a clock
    // step or a spurious wake-up only costs a loop).
    const auto wait = std::chrono::seconds(next == 0 ? 3600 : std::max<int64_t>(1, next - now));
    cv_.wait_for(lock, std::min<std::chrono::seconds>(wait, std::chrono::seconds(60)),
                 [this] { return stop_ || poked_; });
  }
}

}  // namespace ark::dr
