// The backup scheduler and the job runner driven by a FakeClockEnv: next run
// times, fire times, backup names and job timestamps all come from the
// injected clock, and the timer's step (RunDue) is driven by hand.
#include "dr/schedule/backup_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dr/backup/backup.h"
#include "dr/jobs/job_manager.h"
#include "dr/repository/repository_open.h"
#include "engine/engine_test_util.h"
#include "storage/fake_clock_env.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

using ark::testing::TempDir;

constexpr uint64_t kSecond = 1000000;
constexpr int64_t kStart = 1'790'000'000;  // not on an hour

std::unique_ptr<Database> OpenDb(Env* env, const std::string& dir) {
  DatabaseOptions o;
  o.auto_seal = false;
  o.index_build_threads = 0;
  auto db = Database::Open(env, dir, o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return nullptr;
  CollectionSchema s = testing::TestSchema(4);
  EXPECT_TRUE((*db)->CreateCollection("", "docs", s).ok());
  EXPECT_TRUE((*db)->Insert("", "docs", testing::TestRows(s, 0, 20)).ok());
  return std::move(db).value();
}

TEST(BackupSchedulerTest, NextRunAndFiresComeFromTheInjectedClock) {
  TempDir dir;
  FakeClockEnv clock(Env::Default(), static_cast<uint64_t>(kStart) * kSecond);
  auto db = OpenDb(Env::Default(), dir.Sub("data"));  // the engine keeps real time
  ASSERT_NE(db, nullptr);
  JobManager jobs(&clock);
  BackupScheduleConfig sc;
  sc.name = "hourly";
  sc.cron = "@hourly";
  sc.repo = dir.Sub("repo");
  BackupScheduler scheduler(&clock, db.get(), &jobs, nullptr, {sc});
  ASSERT_OK(scheduler.Start(/*timer=*/false));

  const int64_t first = (kStart / 3600 + 1) * 3600;
  EXPECT_EQ(scheduler.GetStats("hourly").next_run, first);
  clock.SetWallSeconds(static_cast<uint64_t>(first - 1));
  EXPECT_EQ(scheduler.RunDue(), first) << "one second early: nothing fires";
  EXPECT_TRUE(scheduler.GetStats("hourly").running_job.empty());

  clock.SetWallSeconds(static_cast<uint64_t>(first));
  EXPECT_EQ(scheduler.RunDue(), first + 3600);
  auto stats = scheduler.GetStats("hourly");
  ASSERT_FALSE(stats.running_job.empty()) << "the cron time arrived by the fake clock";
  EXPECT_EQ(stats.next_run, first + 3600);
  ASSERT_OK_AND_ASSIGN(auto job, jobs.Wait(stats.running_job, std::chrono::seconds(120)));
  ASSERT_EQ(job["state"], "succeeded") << job.dump();
  EXPECT_EQ(job["startedMicros"], static_cast<uint64_t>(first) * kSecond);

  ASSERT_OK_AND_ASSIGN(auto repo, OpenRepositoryUrl(&clock, sc.repo, {}, false));
  ASSERT_OK_AND_ASSIGN(auto backups, ListBackups(repo.repo.get()));
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_EQ(backups[0].name, "hourly-" + DefaultBackupName(static_cast<uint64_t>(first) * kSecond).substr(4));
  EXPECT_EQ(backups[0].started_micros, static_cast<uint64_t>(first) * kSecond);
  EXPECT_EQ(scheduler.GetStats("hourly").last_success, first);
  scheduler.Stop();
}

// The job runner outlives the scheduler in `ark serve`: a scheduled backup
// still running when the scheduler goes must be cancelled and waited for
// (under ASan, a job finishing after it would be a use after free).
TEST(BackupSchedulerTest, StoppingWaitsForItsRunningBackup) {
  TempDir dir;
  FakeClockEnv clock(Env::Default(), static_cast<uint64_t>(kStart) * kSecond);
  auto db = OpenDb(Env::Default(), dir.Sub("data"));
  ASSERT_NE(db, nullptr);
  JobManager jobs(&clock);
  BackupScheduleConfig sc;
  sc.name = "hourly";
  sc.cron = "@hourly";
  sc.repo = dir.Sub("repo");
  std::string id;
  {
    BackupScheduler scheduler(&clock, db.get(), &jobs, nullptr, {sc});
    ASSERT_OK(scheduler.Start(/*timer=*/false));
    ASSERT_OK_AND_ASSIGN(id, scheduler.Fire("hourly"));
    ASSERT_FALSE(id.empty());
  }  // destroyed at once, the job possibly still running
  ASSERT_OK_AND_ASSIGN(auto job, jobs.Get(id));
  EXPECT_NE(job["state"], "running") << "the scheduler returned before its job ended: " << job.dump();
}

TEST(JobManagerTest, TimesAndWaitDeadlinesComeFromTheInjectedClock) {
  FakeClockEnv clock(Env::Default(), static_cast<uint64_t>(kStart) * kSecond);
  JobManager jobs(&clock);
  std::atomic<bool> release{false};
  JobManager::JobFn blocks = [&](Progress*, const std::atomic<bool>*) -> Result<nlohmann::json> {
    while (!release.load()) std::this_thread::yield();
    return nlohmann::json::object();
  };
  ASSERT_OK_AND_ASSIGN(std::string id, jobs.Start("test", "blocks until released", blocks));
  ASSERT_OK_AND_ASSIGN(auto running, jobs.Get(id));
  EXPECT_EQ(running["startedMicros"], static_cast<uint64_t>(kStart) * kSecond);

  // A wait of an hour ends when the fake clock passes the hour, not later.
  std::atomic<bool> waited{false};
  Status wait_status;
  std::thread waiter([&] {
    wait_status = jobs.Wait(id, std::chrono::hours(1)).status();
    waited = true;
  });
  // (The waiter may start its wait after any of these steps; each hour moved
  // ends a wait begun before it. Real time is bounded by the test's timeout.)
  while (!waited.load()) {
    clock.AdvanceSeconds(3600);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  waiter.join();
  EXPECT_EQ(wait_status.code(), StatusCode::kTimedOut) << wait_status.ToString();

  const uint64_t finished = clock.WallMicros();
  release = true;
  ASSERT_OK_AND_ASSIGN(auto done, jobs.Wait(id, std::chrono::hours(1)));
  EXPECT_EQ(done["state"], "succeeded");
  EXPECT_EQ(done["finishedMicros"], finished);
}

}  // namespace
}  // namespace ark::dr
