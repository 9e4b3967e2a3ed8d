// The drill scheduler (dr/drill/drill_scheduler.h) driven by a FakeClockEnv:
// what is due and what is not, a run that restores a real backup into a real
// scratch `ark serve` (the binary under test) and writes its report, a run
// that fails (an empty repository, a missing one) counted as a failure and
// still reported, two runs that would share a report id, the refused
// scenarios, and /metrics — per schedule and the newest report per scenario,
// manual drills included (dr/drill/drill_report_metrics.h).
#include "dr/drill/drill_scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <functional>

#include "dr/backup/backup.h"
#include "dr/drill/drill_report.h"
#include "dr/repository/repository_open.h"
#include "engine/engine_test_util.h"
#include "storage/fake_clock_env.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

using ark::testing::TempDir;

constexpr uint64_t kSecond = 1000000;

// $ARK_TEST_BINARY_DIR (set by CTest), else the directory of this test binary.
std::string ArkBinary() {
  std::string path = ::ark::testing::BinaryDir() + "/ark";
  if (Env::Default()->FileExists(path)) return path;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return path;
  return DirName(std::string(self, static_cast<size_t>(n))) + "/ark";
}

MetricLabels Labels(const std::string& schedule) {
  return {{"schedule", schedule}, {"scenario", "restore-check"}};
}

DrillScheduleConfig Schedule(const std::string& name, const std::string& cron,
                             const std::string& repo) {
  DrillScheduleConfig c;
  c.name = name;
  c.scenario = "restore-check";
  c.cron = cron;
  c.repo = repo;
  c.samples = 3;
  return c;
}

class DrillSchedulerTest : public ::testing::Test {
 protected:
  // Near real time (backups are stamped by the real clock), on no minute.
  DrillSchedulerTest()
      : clock_(Env::Default(), (Env::Default()->WallMicros() / kSecond / 60 * 60 + 17) * kSecond) {}

  int64_t Now() { return static_cast<int64_t>(clock_.WallMicros() / kSecond); }
  std::string Reports() const { return dir_.Sub("reports"); }
  DrillSchedulerOptions Options() const { return {Reports(), ArkBinary(), 120 * 1000}; }

  // A repository holding one backup of 30 rows; returns the backup.
  BackupManifest RepoWithBackup(const std::string& repo_dir) {
    DatabaseOptions o;
    o.auto_seal = false;
    o.index_build_threads = 0;
    auto db = Database::Open(Env::Default(), dir_.Sub("source"), o);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    CollectionSchema s = ::ark::testing::TestSchema(4);
    EXPECT_OK((*db)->CreateCollection("", "docs", s).status());
    EXPECT_OK((*db)->Insert("", "docs", ::ark::testing::TestRows(s, 0, 30)).status());
    auto repo = OpenRepositoryUrl(Env::Default(), repo_dir, {}, /*create=*/true);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    BackupOptions b;
    b.name = "base";
    auto m = CreateBackup(db->get(), repo->repo.get(), b);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return *m;
  }

  FakeClockEnv clock_;
  TempDir dir_;
};

TEST_F(DrillSchedulerTest, NextRunAndFiresComeFromTheInjectedClock) {
  // No repository there: each run fails at once, without a scratch server.
  MetricsRegistry metrics;
  DrillScheduler scheduler(&clock_, &metrics, Options(),
                           {Schedule("hourly", "@hourly", dir_.Sub("missing"))});
  ASSERT_OK(scheduler.Start(/*timer=*/false));
  const int64_t first = (Now() / 3600 + 1) * 3600;
  EXPECT_EQ(scheduler.GetStats("hourly").next_run, first);

  clock_.SetWallSeconds(static_cast<uint64_t>(first - 1));
  EXPECT_EQ(scheduler.RunDue(), first) << "one second early: nothing runs";
  EXPECT_EQ(scheduler.GetStats("hourly").runs, 0u);
  EXPECT_FALSE(Env::Default()->FileExists(Reports()));

  clock_.SetWallSeconds(static_cast<uint64_t>(first));
  EXPECT_EQ(scheduler.RunDue(), first + 3600);
  DrillScheduler::Stats st = scheduler.GetStats("hourly");
  EXPECT_EQ(st.runs, 1u);
  EXPECT_EQ(st.failures, 1u);
  EXPECT_TRUE(st.finished);
  EXPECT_FALSE(st.running);
  EXPECT_FALSE(st.last_passed);
  EXPECT_EQ(st.last_run, first);
  EXPECT_EQ(st.next_run, first + 3600);
  EXPECT_NE(st.last_error.find("missing"), std::string::npos) << st.last_error;
  // Still reported: the report names the repository it could not open.
  ASSERT_OK_AND_ASSIGN(auto reports, ListDrillReports(Env::Default(), Reports()));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["id"],
            DrillStamp(static_cast<uint64_t>(first) * kSecond) + "-restore-check");
  EXPECT_EQ(reports[0]["passed"], false);
  EXPECT_NE(reports[0]["error"].get<std::string>().find("missing"), std::string::npos)
      << reports[0].dump();
  EXPECT_EQ(st.last_report_dir, reports[0]["reportDir"]);

  // Not due again within the hour.
  clock_.SetWallSeconds(static_cast<uint64_t>(first + 3599));
  EXPECT_EQ(scheduler.RunDue(), first + 3600);
  EXPECT_EQ(scheduler.GetStats("hourly").runs, 1u);
  // Three hours late (the timer was busy): one run, two missed.
  clock_.SetWallSeconds(static_cast<uint64_t>(first + 3 * 3600 + 5));
  EXPECT_EQ(scheduler.RunDue(), first + 4 * 3600);
  st = scheduler.GetStats("hourly");
  EXPECT_EQ(st.runs, 2u);
  EXPECT_EQ(st.missed, 2u);

  metrics.Render();
  EXPECT_EQ(metrics.Value("ark_drill_runs_total", Labels("hourly")), 2);
  EXPECT_EQ(metrics.Value("ark_drill_failures_total", Labels("hourly")), 2);
  EXPECT_EQ(metrics.Value("ark_drill_missed_runs_total", Labels("hourly")), 2);
  EXPECT_EQ(metrics.Value("ark_drill_last_passed", Labels("hourly")), 0);
  EXPECT_EQ(metrics.Value("ark_drill_next_run_timestamp_seconds", Labels("hourly")),
            first + 4 * 3600);
  EXPECT_TRUE(std::isnan(metrics.Value("ark_drill_last_rto_seconds", Labels("hourly"))))
      << "not measured";
}

TEST_F(DrillSchedulerTest, ARunRestoresTheNewestBackupWritesItsReportAndUpdatesTheMetrics) {
  const std::string repo = dir_.Sub("repo");
  const BackupManifest backup = RepoWithBackup(repo);
  MetricsRegistry metrics;
  DrillScheduler scheduler(&clock_, &metrics, Options(), {Schedule("weekly", "0 3 * * 0", repo)});
  ASSERT_OK(scheduler.Start(/*timer=*/false));
  metrics.Render();
  EXPECT_EQ(metrics.Value("ark_drill_last_run_timestamp_seconds", Labels("weekly")), 0)
      << "never ran";
  EXPECT_EQ(metrics.Render().find("ark_drill_last_passed{"), std::string::npos)
      << "no verdict before a run";

  const int64_t due = scheduler.GetStats("weekly").next_run;
  ASSERT_GT(due, Now());
  clock_.SetWallSeconds(static_cast<uint64_t>(due));
  scheduler.RunDue();

  const DrillScheduler::Stats st = scheduler.GetStats("weekly");
  EXPECT_EQ(st.runs, 1u);
  EXPECT_EQ(st.failures, 0u) << st.last_error;
  ASSERT_TRUE(st.last_passed) << st.last_error;
  EXPECT_EQ(st.last_run, due);
  // RPO: the drill's start (the fake clock) minus the backup's cut.
  ASSERT_TRUE(st.last_rpo_seconds.has_value());
  EXPECT_NEAR(*st.last_rpo_seconds, static_cast<double>(due) - backup.position_micros / 1e6, 0.002);
  // RTO: measured on the Env's monotonic clock, which the test holds still.
  ASSERT_TRUE(st.last_rto_seconds.has_value());
  EXPECT_EQ(*st.last_rto_seconds, 0);

  ASSERT_OK_AND_ASSIGN(auto reports, ListDrillReports(Env::Default(), Reports()));
  ASSERT_EQ(reports.size(), 1u);
  const nlohmann::json& r = reports[0];
  EXPECT_EQ(r["passed"], true) << r.dump();
  EXPECT_EQ(r["source"]["backup"], "base");
  EXPECT_EQ(r["startedMicros"], static_cast<uint64_t>(due) * kSecond);
  ASSERT_EQ(r["collections"].size(), 1u);
  EXPECT_EQ(r["collections"][0]["rows"], 30);
  EXPECT_EQ(r["collections"][0]["samplesFound"], 3);
  EXPECT_EQ(st.last_report_dir, r["reportDir"]);
  ASSERT_OK_AND_ASSIGN(auto left, Env::Default()->ListDir(Reports()));
  EXPECT_EQ(left, std::vector<std::string>{r["id"].get<std::string>()})
      << "the scratch directory is removed";

  metrics.Render();
  EXPECT_EQ(metrics.Value("ark_drill_runs_total", Labels("weekly")), 1);
  EXPECT_EQ(metrics.Value("ark_drill_failures_total", Labels("weekly")), 0);
  EXPECT_EQ(metrics.Value("ark_drill_last_passed", Labels("weekly")), 1);
  EXPECT_EQ(metrics.Value("ark_drill_running", Labels("weekly")), 0);
  EXPECT_EQ(metrics.Value("ark_drill_last_run_timestamp_seconds", Labels("weekly")), due);
  EXPECT_EQ(metrics.Value("ark_drill_last_rpo_seconds", Labels("weekly")), *st.last_rpo_seconds);
  EXPECT_EQ(metrics.Value("ark_drill_latest_passed", {{"scenario", "restore-check"}}), 1);
  EXPECT_EQ(metrics.Value("ark_drill_latest_timestamp_seconds", {{"scenario", "restore-check"}}),
            due);
}

TEST_F(DrillSchedulerTest, AnEmptyRepositoryFailsTheRunWhichIsCountedAndReported) {
  const std::string repo = dir_.Sub("empty");
  ASSERT_OK(OpenRepositoryUrl(Env::Default(), repo, {}, /*create=*/true).status());
  MetricsRegistry metrics;
  DrillScheduler scheduler(&clock_, &metrics, Options(), {Schedule("nightly", "0 2 * * *", repo)});
  ASSERT_OK(scheduler.Start(/*timer=*/false));
  const int64_t due = scheduler.GetStats("nightly").next_run;
  clock_.SetWallSeconds(static_cast<uint64_t>(due));
  scheduler.RunDue();

  const DrillScheduler::Stats st = scheduler.GetStats("nightly");
  EXPECT_EQ(st.runs, 1u);
  EXPECT_EQ(st.failures, 1u);
  EXPECT_FALSE(st.last_passed);
  EXPECT_NE(st.last_error.find("no backup in"), std::string::npos) << st.last_error;
  EXPECT_FALSE(st.last_rto_seconds.has_value());
  ASSERT_OK_AND_ASSIGN(auto reports, ListDrillReports(Env::Default(), Reports()));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["passed"], false);
  EXPECT_NE(reports[0]["error"].get<std::string>().find("no backup in"), std::string::npos);
  EXPECT_EQ(reports[0]["timeline"].back()["event"], "torn-down");

  const std::string text = metrics.Render();
  EXPECT_EQ(metrics.Value("ark_drill_last_passed", Labels("nightly")), 0);
  EXPECT_EQ(metrics.Value("ark_drill_failures_total", Labels("nightly")), 1);
  EXPECT_NE(
      text.find(
          "ark_drill_last_rto_seconds{scenario=\"restore-check\",schedule=\"nightly\"} NaN\n"),
      std::string::npos)
      << text;
  EXPECT_EQ(metrics.Value("ark_drill_latest_passed", {{"scenario", "restore-check"}}), 0);
}

TEST_F(DrillSchedulerTest, TwoSchedulesDueTogetherNeverShareAReportId) {
  // Both fail within the same second: the second waits for the next one.
  MetricsRegistry metrics;
  DrillScheduler scheduler(&clock_, &metrics, Options(),
                           {Schedule("a", "@hourly", dir_.Sub("missing-a")),
                            Schedule("b", "@hourly", dir_.Sub("missing-b"))});
  ASSERT_OK(scheduler.Start(/*timer=*/false));
  const int64_t due = scheduler.GetStats("a").next_run;
  clock_.SetWallSeconds(static_cast<uint64_t>(due));
  EXPECT_EQ(scheduler.RunDue(), due + 1) << "b is deferred by a second";
  EXPECT_EQ(scheduler.GetStats("a").runs, 1u);
  EXPECT_EQ(scheduler.GetStats("b").runs, 0u);
  clock_.SetWallSeconds(static_cast<uint64_t>(due + 1));
  EXPECT_EQ(scheduler.RunDue(), due + 3600);
  EXPECT_EQ(scheduler.GetStats("b").runs, 1u);
  EXPECT_EQ(scheduler.GetStats("b").missed, 0u);
  ASSERT_OK_AND_ASSIGN(auto reports, ListDrillReports(Env::Default(), Reports()));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_NE(reports[0]["id"], reports[1]["id"]);
}

TEST_F(DrillSchedulerTest, TheNewestReportOfEachScenarioIsOnMetricsWithoutSchedules) {
  // Reports written by hand (`ark drill run --report-dir`): no schedule needed.
  MetricsRegistry metrics;
  DrillScheduler scheduler(&clock_, &metrics, {Reports(), "", 0}, {});
  ASSERT_OK(scheduler.Start(/*timer=*/false));
  EXPECT_EQ(metrics.Render().find("ark_drill_latest_passed{"), std::string::npos)
      << "no report yet";

  const int64_t t0 = Now();
  DrillReport old_pass(&clock_, "restore-check");
  ASSERT_OK(old_pass.Write(Reports()).status());
  clock_.AdvanceSeconds(60);
  DrillReport site(&clock_, "site-loss");
  site.Fail(Status::Unavailable("the primary did not die"));
  ASSERT_OK(site.Write(Reports()).status());
  metrics.Render();
  EXPECT_EQ(metrics.Value("ark_drill_latest_passed", {{"scenario", "restore-check"}}), 1);
  EXPECT_EQ(metrics.Value("ark_drill_latest_timestamp_seconds", {{"scenario", "restore-check"}}),
            t0);
  EXPECT_EQ(metrics.Value("ark_drill_latest_passed", {{"scenario", "site-loss"}}), 0);
  EXPECT_EQ(metrics.Value("ark_drill_latest_timestamp_seconds", {{"scenario", "site-loss"}}),
            t0 + 60);

  // A newer restore-check that failed replaces the older one's figures; an
  // unreadable report and a drill still running (no report.json) are skipped.
  clock_.AdvanceSeconds(60);
  DrillReport newer(&clock_, "restore-check");
  newer.Check("rows", false, "docs: 3 rows served, the source recorded 4");
  ASSERT_OK(newer.Write(Reports()).status());
  ASSERT_OK(Env::Default()->CreateDirs(Reports() + "/29991231T000000Z-restore-check"));
  ASSERT_OK(Env::Default()->CreateDirs(Reports() + "/29991230T000000Z-restore-check"));
  ASSERT_OK(Env::Default()->WriteFileAtomic(
      Reports() + "/29991230T000000Z-restore-check/report.json", "{"));
  metrics.Render();
  EXPECT_EQ(metrics.Value("ark_drill_latest_passed", {{"scenario", "restore-check"}}), 0);
  EXPECT_EQ(metrics.Value("ark_drill_latest_timestamp_seconds", {{"scenario", "restore-check"}}),
            t0 + 120);
  EXPECT_EQ(metrics.Value("ark_drill_latest_passed", {{"scenario", "site-loss"}}), 0);
}

TEST_F(DrillSchedulerTest, AnUnreadableKeyOrPassphraseFileStopsTheStartNamingTheSchedule) {
  DrillScheduleConfig key = Schedule("weekly", "@weekly", dir_.Sub("repo"));
  key.key_file = dir_.Sub("no-such-key");
  DrillScheduler with_key(&clock_, nullptr, Options(), {key});
  Status s = with_key.Start(/*timer=*/false);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("drills.schedules[name=weekly].key_file: cannot read " + key.key_file),
            std::string::npos)
      << s.message();
  DrillScheduleConfig pass = Schedule("weekly", "@weekly", dir_.Sub("repo"));
  pass.passphrase_file = dir_.Sub("no-such-passphrase");
  DrillScheduler with_passphrase(&clock_, nullptr, Options(), {pass});
  s = with_passphrase.Start(/*timer=*/false);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("drills.schedules[name=weekly]: cannot read the passphrase file"),
            std::string::npos)
      << s.message();
}

TEST(DrillScheduleConfigTest, OnlyRestoreCheckCanBeScheduled) {
  DrillScheduleConfig ok = Schedule("weekly", "0 3 * * 0", "/backups");
  EXPECT_OK(ValidateDrillSchedule(ok, "drills.schedules[0]"));
  struct Case {
    std::function<void(DrillScheduleConfig&)> edit;
    const char* expect;
  } cases[] = {
      {[](auto& c) { c.scenario = "site-loss"; },
       "drills.schedules[0].scenario 'site-loss' cannot be scheduled"},
      {[](auto& c) { c.scenario = "primary-crash"; }, "kill-cmd kills the primary"},
      {[](auto& c) { c.scenario = "switchover"; },
       "'switchover' cannot be scheduled: it is disruptive"},
      {[](auto& c) { c.scenario = "volcano"; }, "'volcano' is not a drill scenario"},
      {[](auto& c) { c.scenario = ""; }, "drills.schedules[0].scenario is required"},
      {[](auto& c) { c.name = "../x"; }, "drills.schedules[0].name '../x' must be"},
      {[](auto& c) { c.cron = "0 3 * * 8"; }, "drills.schedules[0].cron: "},
      {[](auto& c) { c.cron = ""; }, "drills.schedules[0].cron is required"},
      {[](auto& c) { c.repo = ""; }, "drills.schedules[0].repo is required"},
      {[](auto& c) { c.samples = 0; }, "drills.schedules[0].samples must be 1..1000, got 0"},
      {[](auto& c) {
         c.key_file = "k";
         c.passphrase_file = "p";
       },
       "exclusive"},
  };
  for (const auto& c : cases) {
    DrillScheduleConfig bad = ok;
    c.edit(bad);
    Status s = ValidateDrillSchedule(bad, "drills.schedules[0]");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.expect;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
  // The scheduler refuses them too (a config built without the loader).
  DrillScheduleConfig site = ok;
  site.scenario = "site-loss";
  FakeClockEnv clock(Env::Default(), 1'790'000'000ull * kSecond);
  DrillScheduler scheduler(&clock, nullptr, {"/tmp/reports", "/bin/ark", 0}, {site});
  Status s = scheduler.Start(/*timer=*/false);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(
      s.message().find("drills.schedules[name=weekly].scenario 'site-loss' cannot be scheduled"),
      std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace ark::dr
