// dr/status (server/admin_dr.*, docs/formats/dr-status.md) over a real
// database and HTTP server, with the wall clock from a FakeClockEnv: the
// document's shape, a schedule's longest cron gap and retention, tiers parsed
// from database properties, rows, and the newest drill reports summarised
// (an unreadable one listed, not hidden, and never failing the document).
#include "server/admin_dr.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <string>

#include "dr/drill/drill_report.h"
#include "dr/jobs/job_manager.h"
#include "engine/engine_test_util.h"
#include "server/milvus_fixture.h"
#include "storage/fake_clock_env.h"

namespace ark::server {
namespace {

using nlohmann::json;

// 2026-03-15 12:00:00 UTC, a Sunday.
constexpr uint64_t kNowMicros = 1'773'576'000'000'000ull;

class AdminDrTest : public MilvusFixture {
 protected:
  AdminDrTest() : clock_(Env::Default(), kNowMicros) {}

  void RegisterMore(HttpServer& http) override {
    config_.data_dir = dir_.Sub("data");
    config_.port = 19999;  // as ark serve passes its real port
    config_.drills.report_dir = dir_.Sub("drills");
    dr::BackupScheduleConfig weekdays;
    weekdays.name = "weekdays";
    weekdays.cron = "0 2 * * 1-5";
    weekdays.repo = dir_.Sub("repo");
    weekdays.keep_last = 7;
    weekdays.keep_daily = 14;
    config_.schedules = {weekdays};
    jobs_ = std::make_unique<dr::JobManager>(&clock_);
    // Not started: its stats are those of a schedule that has not run.
    scheduler_ = std::make_unique<dr::BackupScheduler>(&clock_, db_.get(), jobs_.get(), nullptr,
                                                       config_.schedules);
    replication_ = std::make_unique<dr::ReplicationSource>(&clock_, db_.get(), config_.replication);
    sources_ = {&config_,           db_.get(), scheduler_.get(), nullptr,
                replication_.get(), nullptr,   nullptr,          &clock_};
    RegisterDrRoutes(http, sources_);
  }
  void TearDown() override {
    // The routes use the sources: no request may reach them once they go.
    http_->Stop();
    thread_.join();
    http_.reset();
    replication_.reset();
    scheduler_.reset();
    jobs_.reset();
    Stop();
  }
  json Admin(const std::string& route) {
    httplib::Client c("127.0.0.1", http_->port());
    auto r = c.Post(("/ark/v1/" + route).c_str(), "{}", "application/json");
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body, nullptr, false);
  }
  std::string WriteDrill(const char* scenario, uint64_t rto_ms, uint64_t rpo_ms) {
    dr::DrillReport report(&clock_, scenario);
    report.Event("drill-started", "disaster", "test");
    report.Measure("rtoMs", rto_ms);
    report.Measure("rpoMs", rpo_ms);
    report.AddCollection(
        {{"database", "kb"}, {"name", "docs"}, {"verdict", {{"rto", "pass"}, {"rpo", "fail"}}}});
    report.AddCollection({{"database", "default"}, {"name", "faq"}});  // no tier: no verdict
    auto dir = report.Write(config_.DrillReportDir());
    EXPECT_TRUE(dir.ok()) << dir.status().ToString();
    return report.id();
  }

  FakeClockEnv clock_;
  ServerConfig config_;
  std::unique_ptr<dr::JobManager> jobs_;
  std::unique_ptr<dr::BackupScheduler> scheduler_;
  std::unique_ptr<dr::ReplicationSource> replication_;
  DrStatusSources sources_;
};

TEST_F(AdminDrTest, ThePrimaryDocumentFollowsTheFormat) {
  ASSERT_OK(db_->CreateDatabase("kb").status());
  ASSERT_OK(db_->AlterDatabaseProperties("kb",
                                         {{"ark.dr.rto_tier", "critical"},
                                          {"ark.dr.rpo_tier", "very-low"},
                                          {"unrelated.key", "kept"}},
                                         {})
                .status());
  CollectionSchema schema = testing::TestSchema(4);
  ASSERT_OK(db_->CreateCollection("kb", "docs", schema).status());
  ASSERT_OK(db_->Insert("kb", "docs", testing::TestRows(schema, 0, 12)).status());

  json r = Admin("dr/status");
  ASSERT_EQ(r["code"], 0) << r.dump();
  const json& d = r["data"];
  EXPECT_EQ(d["format"], "ark-dr-status");
  EXPECT_EQ(d["version"], 1);
  EXPECT_EQ(d["nowMicros"], kNowMicros);
  EXPECT_EQ(d["server"]["url"], "http://127.0.0.1:19999");
  EXPECT_EQ(d["server"]["dataDir"], config_.data_dir);
  EXPECT_TRUE(d["server"]["arkVersion"].is_string());
  EXPECT_EQ(d["role"], "primary");
  EXPECT_EQ(d["epoch"], db_->CurrentEpoch());
  EXPECT_EQ(d["lastPosition"], d["replication"]["lastPosition"]);
  // replication/status as it is (plus the configured period).
  EXPECT_EQ(d["replication"]["role"], "primary");
  EXPECT_EQ(d["replication"]["mode"], "async");
  EXPECT_EQ(d["replication"]["periodSeconds"], 60.0);
  EXPECT_TRUE(d["replication"]["standbys"].empty());
  EXPECT_EQ(d["archive"], json({{"enabled", false}}));
  EXPECT_TRUE(d["failover"].is_null());

  ASSERT_EQ(d["schedules"].size(), 1u);
  const json& s = d["schedules"][0];
  EXPECT_EQ(s["name"], "weekdays");
  EXPECT_EQ(s["cron"], "0 2 * * 1-5");
  EXPECT_EQ(s["maxGapSeconds"], 3 * 86400) << "Friday 02:00 to Monday 02:00";
  EXPECT_EQ(s["retention"], "keep_last=7, keep_daily=14");
  EXPECT_EQ(s["runs"], 0);
  EXPECT_TRUE(s["lastSuccessMicros"].is_null());
  EXPECT_EQ(s["running"], false);

  ASSERT_EQ(d["tiers"].size(), 2u);
  std::map<std::string, json> tiers;
  for (const auto& t : d["tiers"]) tiers[t["database"]] = t;
  EXPECT_TRUE(tiers["default"]["targets"].is_null());
  EXPECT_EQ(tiers["default"]["error"], "");
  EXPECT_EQ(tiers["kb"]["targets"]["rtoTier"], "critical");
  EXPECT_EQ(tiers["kb"]["targets"]["rpoTargetMs"], 3600000);
  EXPECT_EQ(tiers["kb"]["targets"]["source"], "database kb");
  EXPECT_EQ(d["collections"], json::array({{{"database", "kb"}, {"name", "docs"}, {"rows", 12}}}));
  EXPECT_EQ(d["drills"]["reportDir"], dir_.Sub("drills"));
  EXPECT_TRUE(d["drills"]["recent"].empty());
  EXPECT_FALSE(d["drills"].contains("error"));
}

TEST_F(AdminDrTest, MaxGapFollowsTheClock) {
  // Every day in January only: from January 5th the longest gap (January
  // 31st to the next January 1st) is within the coming year.
  config_.schedules[0].cron = "0 0 * 1 *";
  clock_.SetWallMicros(1'767'571'200'000'000ull);  // 2026-01-05 00:00 UTC
  EXPECT_EQ(DrStatusJson(sources_)["schedules"][0]["maxGapSeconds"], 335 * 86400);
}

TEST_F(AdminDrTest, RecentDrillsAreSummarisedNewestFirstAndABadReportIsNamed) {
  const std::string older = WriteDrill("restore-check", 3400, 22000);
  clock_.AdvanceSeconds(120);
  const std::string newer = WriteDrill("site-loss", 5000, 0);
  clock_.AdvanceSeconds(120);
  // Newest of all, but not a report.
  const std::string bad_dir =
      JoinPath(config_.DrillReportDir(), dr::DrillStamp(clock_.WallMicros()) + "-restore-check");
  ASSERT_OK(clock_.CreateDirs(bad_dir));
  ASSERT_OK(clock_.WriteFileAtomic(JoinPath(bad_dir, "report.json"), "[1, 2"));

  const json d = Admin("dr/status")["data"];
  const json& recent = d["drills"]["recent"];
  ASSERT_EQ(recent.size(), 3u) << d["drills"].dump();
  EXPECT_EQ(recent[0]["reportDir"], bad_dir);
  EXPECT_TRUE(recent[0]["unreadable"].is_string());
  EXPECT_EQ(recent[1]["id"], newer);
  EXPECT_EQ(recent[1]["scenario"], "site-loss");
  EXPECT_EQ(recent[2]["id"], older);
  const json& r = recent[2];
  EXPECT_EQ(r["scenario"], "restore-check");
  EXPECT_EQ(r["measured"]["rtoMs"], 3400);
  EXPECT_EQ(r["measured"]["rpoMs"], 22000);
  EXPECT_TRUE(r["startedMicros"].is_number_unsigned());
  EXPECT_GE(r["finishedMicros"].get<uint64_t>(), r["startedMicros"].get<uint64_t>());
  EXPECT_EQ(r["passed"], false) << "a failed verdict fails the drill";
  EXPECT_EQ(r["reportDir"], JoinPath(config_.DrillReportDir(), older));
  EXPECT_EQ(
      r["verdicts"],
      json::array({{{"database", "kb"}, {"name", "docs"}, {"rto", "pass"}, {"rpo", "fail"}}}));
}

TEST_F(AdminDrTest, AReportOfTheWrongShapeNeverFailsTheDocument) {
  WriteDrill("restore-check", 1000, 1000);
  clock_.AdvanceSeconds(60);
  // JSON objects with members of unexpected types, as a hand-edited or
  // foreign file might hold.
  int i = 0;
  for (const char* text :
       {R"({"format": 5})", R"({"format": "ark-drill-report", "collections": 7, "measured": []})",
        R"({"format": "ark-drill-report", "collections": [1, {"verdict": "x"}]})"}) {
    const std::string dir =
        JoinPath(config_.DrillReportDir(),
                 dr::DrillStamp(clock_.WallMicros() + 1'000'000ull * ++i) + "-odd");
    ASSERT_OK(clock_.CreateDirs(dir));
    ASSERT_OK(clock_.WriteFileAtomic(JoinPath(dir, "report.json"), text));
  }
  const json r = Admin("dr/status");
  ASSERT_EQ(r["code"], 0) << r.dump();
  const json& drills = r["data"]["drills"];
  // Either listed (each summary with what it has) or, if the listing itself
  // gives up, an error that says where.
  if (drills.contains("error")) {
    EXPECT_NE(drills["error"].get<std::string>().find(config_.DrillReportDir()), std::string::npos);
  } else {
    EXPECT_EQ(drills["recent"].size(), 4u) << drills.dump();
  }
}

}  // namespace
}  // namespace ark::server
