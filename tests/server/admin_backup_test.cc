// The backup admin API and schedules against a real server on loopback: a
// backup taken through /ark/v1 while the server serves, its job polled and
// cancelled, restore jobs, and a schedule's runs, retention and metrics.
#include <gtest/gtest.h>
#include <httplib.h>

#include "dr/backup/backup.h"
#include "dr/repository/repository_open.h"
#include "engine/engine_test_util.h"
#include "dr/schedule/backup_scheduler.h"
#include "server/admin_backup.h"
#include "server/milvus_fixture.h"
#include "storage/fake_clock_env.h"

namespace ark::server {
namespace {

using nlohmann::json;

class AdminBackupTest : public MilvusFixture {
 protected:
  void RegisterMore(HttpServer& http) override {
    jobs_ = std::make_unique<dr::JobManager>(Env::Default());
    RegisterBackupRoutes(http, Env::Default(), db_.get(), jobs_.get());
  }
  void TearDown() override {
    jobs_.reset();  // cancels and joins running jobs before the database goes
    Stop();
  }
  json Admin(const std::string& route, const json& body) {
    httplib::Client c("127.0.0.1", http_->port());
    auto r = c.Post(("/ark/v1/" + route).c_str(), body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return json();
    return json::parse(r->body, nullptr, false);
  }
  // Polls jobs/get until the job is no longer running (the job's own state
  // is the synchronisation; JobManager::Wait would bypass the HTTP route).
  json WaitJob(const std::string& id) {
    auto done = jobs_->Wait(id, std::chrono::seconds(120));
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    json j = Admin("jobs/get", {{"jobId", id}});
    EXPECT_EQ(j["code"], 0) << j.dump();
    return j["data"];
  }
  void Fill(const std::string& name, int64_t first, size_t n) {
    CollectionSchema s = testing::TestSchema(4);
    if (!db_->DescribeCollection("", name).ok()) ASSERT_OK(db_->CreateCollection("", name, s).status());
    ASSERT_OK(db_->Insert("", name, testing::TestRows(s, first, n)).status());
  }
  std::string Repo() const { return dir_.Sub("repo"); }

  std::unique_ptr<dr::JobManager> jobs_;
};

TEST_F(AdminBackupTest, BackupJobRunsWhileServingAndRestoreJobBringsItBack) {
  Fill("docs", 0, 500);
  ASSERT_OK(db_->Flush("", "docs"));
  Fill("docs", 500, 100);
  json started = Admin("backups/create", {{"repo", Repo()}, {"name", "b1"}});
  ASSERT_EQ(started["code"], 0) << started.dump();
  const std::string id = started["data"]["jobId"];
  // The server keeps taking writes while the job runs.
  Fill("docs", 1000, 10);
  json job = WaitJob(id);
  ASSERT_EQ(job["state"], "succeeded") << job.dump();
  EXPECT_EQ(job["result"]["name"], "b1");
  EXPECT_EQ(job["progress"]["filesDone"], job["progress"]["filesTotal"]);

  json list = Admin("backups/list", {{"repo", Repo()}});
  ASSERT_EQ(list["code"], 0) << list.dump();
  ASSERT_EQ(list["data"].size(), 1u);
  json describe = Admin("backups/describe", {{"repo", Repo()}, {"name", "b1"}});
  ASSERT_EQ(describe["code"], 0);
  uint64_t rows = describe["data"]["collections"][0]["rows"];
  EXPECT_GE(rows, 600u);

  json verify = Admin("backups/verify", {{"repo", Repo()}, {"name", "b1"}});
  ASSERT_EQ(verify["code"], 0) << verify.dump();
  EXPECT_EQ(WaitJob(verify["data"]["jobId"])["state"], "succeeded");

  json restore = Admin("restores/create", {{"repo", Repo()}, {"name", "b1"}, {"targetDir", dir_.Sub("restored")}});
  ASSERT_EQ(restore["code"], 0) << restore.dump();
  json rjob = WaitJob(restore["data"]["jobId"]);
  ASSERT_EQ(rjob["state"], "succeeded") << rjob.dump();
  EXPECT_EQ(rjob["result"]["collections"][0]["rows"], rows);

  // Into this server (no targetDir): the name clash is refused at once,
  // naming the collection; under a suffix the rows come back beside docs.
  json clash = Admin("restores/create", {{"repo", Repo()}, {"name", "b1"}});
  EXPECT_NE(clash["code"], 0);
  EXPECT_NE(clash["message"].get<std::string>().find("'docs'"), std::string::npos) << clash.dump();
  json live = Admin("restores/create", {{"repo", Repo()}, {"name", "b1"}, {"suffix", "_back"}});
  ASSERT_EQ(live["code"], 0) << live.dump();
  EXPECT_EQ(live["data"]["collections"], json::array({"default.docs_back"}));
  json ljob = WaitJob(live["data"]["jobId"]);
  ASSERT_EQ(ljob["state"], "succeeded") << ljob.dump();
  EXPECT_EQ(ljob["result"]["collections"][0]["name"], "docs_back");
  EXPECT_EQ(ljob["result"]["collections"][0]["rows"], rows);
}

TEST_F(AdminBackupTest, BadRequestsAreRefusedWithANamedProblem) {
  json no_repo = Admin("backups/create", json::object());
  EXPECT_NE(no_repo["code"], 0);
  EXPECT_NE(no_repo["message"].get<std::string>().find("repo"), std::string::npos) << no_repo.dump();
  json bad_name = Admin("backups/create", {{"repo", Repo()}, {"name", "../escape"}});
  EXPECT_NE(bad_name["code"], 0) << bad_name.dump();
  json passphrase = Admin("backups/create", {{"repo", Repo()}, {"passphrase", "hunter2"}});
  EXPECT_NE(passphrase["code"], 0);
  EXPECT_EQ(passphrase.dump().find("hunter2"), std::string::npos) << "a secret is never echoed";
  json unknown = Admin("jobs/get", {{"jobId", "job-999"}});
  EXPECT_NE(unknown["code"], 0);
  json garbage = Admin("jobs/get", {{"jobId", "x"}});
  EXPECT_NE(garbage["code"], 0);
  json missing = Admin("backups/describe", {{"repo", Repo()}, {"name", "nope"}});
  EXPECT_NE(missing["code"], 0);
  // Without targetDir: a restore into this server, refused at once when the
  // repository (or the backup) is not there.
  json no_target = Admin("restores/create", {{"repo", Repo()}, {"name", "nope"}});
  EXPECT_NE(no_target["code"], 0);
  EXPECT_NE(no_target["message"].get<std::string>().find("repo"), std::string::npos) << no_target.dump();
}

TEST_F(AdminBackupTest, CancelledBackupJobCommitsNothing) {
  Fill("docs", 0, 300);
  ASSERT_OK(db_->Flush("", "docs"));
  // Cancel through the route before the job can finish: the job's function
  // checks the flag before it uploads anything, so hold it at the start by
  // starting a job whose flag is already set via the manager.
  std::atomic<bool> gate{false};
  auto id = jobs_->Start("backup", "test", [&](dr::Progress*, const std::atomic<bool>* c) -> Result<json> {
    while (!gate.load()) std::this_thread::yield();
    auto repo = dr::OpenRepositoryUrl(Env::Default(), Repo(), {}, true);
    if (!repo.ok()) return repo.status();
    dr::BackupOptions o;
    o.name = "cancelled";
    auto m = dr::CreateBackup(db_.get(), repo->repo.get(), o, nullptr, c);
    if (!m.ok()) return m.status();
    return json::object();
  });
  ASSERT_OK(id.status());
  json cancel = Admin("jobs/cancel", {{"jobId", *id}});
  ASSERT_EQ(cancel["code"], 0) << cancel.dump();
  gate = true;
  json job = WaitJob(*id);
  EXPECT_EQ(job["state"], "cancelled") << job.dump();
  json list = Admin("backups/list", {{"repo", Repo()}});
  ASSERT_EQ(list["code"], 0) << list.dump();
  EXPECT_EQ(list["data"].size(), 0u);
  json again = Admin("jobs/cancel", {{"jobId", *id}});
  EXPECT_NE(again["code"], 0) << "a finished job cannot be cancelled";
}

TEST_F(AdminBackupTest, ScheduleRunsBackupsAppliesRetentionAndReportsMissedRuns) {
  Fill("docs", 0, 200);
  BackupScheduleConfig sc;
  sc.name = "nightly";
  sc.cron = "0 2 * * *";
  sc.repo = Repo();
  sc.keep_last = 2;
  FakeClockEnv clock(Env::Default(), 1'790'000'000ull * 1000000);  // a fixed instant, moved by the test
  auto now = [&] { return static_cast<int64_t>(clock.WallMicros() / 1000000); };
  {
    dr::BackupScheduler scheduler(&clock, db_.get(), jobs_.get(), &metrics_, {sc});
    ASSERT_OK(scheduler.Start(/*timer=*/false));  // fired by hand below
    for (int i = 0; i < 3; ++i) {
      clock.AdvanceSeconds(86400);
      Fill("docs", 1000 + i * 10, 10);
      ASSERT_OK_AND_ASSIGN(std::string id, scheduler.Fire("nightly"));
      ASSERT_FALSE(id.empty());
      json job = WaitJob(id);
      ASSERT_EQ(job["state"], "succeeded") << job.dump();
    }
    auto stats = scheduler.GetStats("nightly");
    EXPECT_EQ(stats.runs, 3u);
    EXPECT_EQ(stats.failures, 0u);
    EXPECT_EQ(stats.last_success, now());
    std::string text = metrics_.Render();
    EXPECT_NE(text.find("ark_backup_runs_total{schedule=\"nightly\"} 3"), std::string::npos) << text;
    EXPECT_NE(text.find("ark_backup_last_success_timestamp_seconds{schedule=\"nightly\"}"), std::string::npos);
    scheduler.Stop();
  }
  json list = Admin("backups/list", {{"repo", Repo()}});
  ASSERT_EQ(list["code"], 0);
  EXPECT_EQ(list["data"].size(), 2u) << "keep_last 2 pruned the oldest";

  // The server was down for three days: the restarted scheduler counts the
  // cron times it missed (after the newest backup) and runs one at once.
  auto backups = dr::ListBackups(dr::OpenRepositoryUrl(Env::Default(), Repo(), {}, false)->repo.get());
  ASSERT_OK(backups.status());
  int64_t newest = static_cast<int64_t>(backups->back().started_micros / 1000000);
  clock.SetWallSeconds(static_cast<uint64_t>(newest + 3 * 86400 + 60));
  auto cron = dr::CronSchedule::Parse(sc.cron);
  int expected_missed = cron->CountFiresBetween(newest, now(), 1000);
  ASSERT_GE(expected_missed, 3);
  dr::BackupScheduler restarted(&clock, db_.get(), jobs_.get(), nullptr, {sc});
  ASSERT_OK(restarted.Start(/*timer=*/false));
  auto stats = restarted.GetStats("nightly");
  EXPECT_EQ(stats.missed, static_cast<uint64_t>(expected_missed));
  ASSERT_FALSE(stats.running_job.empty()) << "a catch-up run started";
  EXPECT_EQ(WaitJob(stats.running_job)["state"], "succeeded");
  restarted.Stop();
}

TEST_F(AdminBackupTest, TimerFiresAtTheCronTimeAndSkipsARunWhileThePreviousOneRuns) {
  Fill("docs", 0, 50);
  BackupScheduleConfig sc;
  sc.name = "hourly";
  sc.cron = "@hourly";
  sc.repo = Repo();
  FakeClockEnv clock(Env::Default(), 1'790'000'000ull * 1000000);
  dr::BackupScheduler scheduler(&clock, db_.get(), jobs_.get(), nullptr, {sc});
  ASSERT_OK(scheduler.Start());
  const int64_t first = scheduler.GetStats("hourly").next_run;
  ASSERT_EQ(first, (1'790'000'000 / 3600 + 1) * 3600);
  clock.SetWallSeconds(static_cast<uint64_t>(first));  // the cron time arrives
  scheduler.Poke();
  // Wait for the condition the timer thread establishes (bounded).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (scheduler.GetStats("hourly").running_job.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  auto stats = scheduler.GetStats("hourly");
  ASSERT_FALSE(stats.running_job.empty()) << "the timer fired";
  EXPECT_EQ(stats.next_run, first + 3600);
  EXPECT_EQ(WaitJob(stats.running_job)["state"], "succeeded");
  scheduler.Stop();
}

TEST(ScheduleConfigTest, SchedulesAreReadAndCheckedFromYaml) {
  auto ok = ServerConfig::FromYaml(R"(
schedules:
  - name: nightly
    cron: "0 2 * * *"
    repo: /backups/ark
    collections: [docs, sales.orders]
    retention: {keep_days: 30}
)", "test.yaml");
  ASSERT_OK(ok.status());
  ASSERT_EQ(ok->schedules.size(), 1u);
  EXPECT_EQ(ok->schedules[0].keep_days, 30);
  EXPECT_EQ(ok->schedules[0].collections.size(), 2u);

  struct Case {
    const char* yaml;
    const char* expect;
  } cases[] = {
      {"schedules: {name: x}", "schedules must be a list"},
      {"schedules:\n  - {name: n, cron: '0 25 * * *', repo: /r}", "hour"},
      {"schedules:\n  - {name: n, cron: '@daily'}", "needs name, cron and repo"},
      {"schedules:\n  - {name: n, cron: '@daily', repo: /r, retention: {keep_forever: 1}}", "keep_forever"},
      {"schedules:\n  - {name: '../x', cron: '@daily', repo: /r}", "name"},
      {"schedules:\n  - {name: n, cron: '@daily', repo: /r}\n  - {name: n, cron: '@daily', repo: /r}", "twice"},
      {"schedules:\n  - {name: n, cron: '@daily', repo: /r, retention: {keep_last: -1}}", "keep-last"},
      {"schedules:\n  - {name: n, cron: '@daily', repo: /r, collections: ['bad name!']}", "bad name!"},
  };
  for (const auto& c : cases) {
    auto r = ServerConfig::FromYaml(c.yaml, "test.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << c.yaml << " -> " << r.status().ToString();
  }
}

}  // namespace
}  // namespace ark::server
