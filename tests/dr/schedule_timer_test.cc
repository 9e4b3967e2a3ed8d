// The timer behind the backup and drill schedulers (dr/schedule/schedule_timer.h):
// the due check every scheduler makes, and the thread that repeats a step —
// a Poke runs one now, Stop waits for the one in progress.
#include "dr/schedule/schedule_timer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "storage/fake_clock_env.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

constexpr int64_t kHour = 1'790'002'800;  // 2026-09-21 15:00:00 UTC, on the hour

TEST(TakeDueRunsTest, DueAtItsTimeThenAtTheNextOne) {
  ASSERT_OK_AND_ASSIGN(CronSchedule hourly, CronSchedule::Parse("@hourly"));
  int64_t next = kHour;
  EXPECT_EQ(TakeDueRuns(hourly, kHour - 1, &next), 0) << "one second early";
  EXPECT_EQ(next, kHour);
  EXPECT_EQ(TakeDueRuns(hourly, kHour, &next), 1);
  EXPECT_EQ(next, kHour + 3600);
  EXPECT_EQ(TakeDueRuns(hourly, kHour + 10, &next), 0);
}

TEST(TakeDueRunsTest, ALateStepCountsEveryFireTimeThatPassed) {
  ASSERT_OK_AND_ASSIGN(CronSchedule hourly, CronSchedule::Parse("@hourly"));
  int64_t next = kHour;
  // Three hours and a bit late: 15:00, 16:00, 17:00 and 18:00 passed.
  EXPECT_EQ(TakeDueRuns(hourly, kHour + 3 * 3600 + 5, &next), 4);
  EXPECT_EQ(next, kHour + 4 * 3600);
  int64_t never = 0;
  EXPECT_EQ(TakeDueRuns(hourly, kHour, &never), 0) << "0: no next run";
  EXPECT_EQ(never, 0);
}

// Waits (bounded) for `done`, which another thread sets.
bool WaitFor(const std::atomic<bool>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  return done.load();
}

TEST(ScheduleTimerTest, StepsAtStartAndOnEveryPokeAndStopWaitsForAStep) {
  FakeClockEnv clock(Env::Default(), static_cast<uint64_t>(kHour) * 1000000);
  std::atomic<int> steps{0};
  std::atomic<bool> in_step{false}, release{true}, stepped{false};
  ScheduleTimer timer(&clock, [&] {
    in_step = true;
    while (!release.load()) std::this_thread::yield();
    ++steps;
    stepped = true;
    in_step = false;
    return kHour + 3600;  // an hour away: only a Poke brings the next step
  });
  timer.Start();
  ASSERT_TRUE(WaitFor(stepped)) << "the first step runs at once";
  EXPECT_EQ(steps.load(), 1);

  stepped = false;
  release = false;
  timer.Poke();
  ASSERT_TRUE(WaitFor(in_step)) << "a Poke runs a step now";
  // Stop while the step runs: it returns only after the step ended.
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    timer.Stop();
    stopped = true;
  });
  std::this_thread::sleep_for(
      std::chrono::milliseconds(50));  // a window for a wrong Stop to return early
  EXPECT_FALSE(stopped.load());
  release = true;
  stopper.join();
  EXPECT_EQ(steps.load(), 2);
  EXPECT_FALSE(in_step.load());
}

}  // namespace
}  // namespace ark::dr
