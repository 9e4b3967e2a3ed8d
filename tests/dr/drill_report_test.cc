// The drill report (dr/drill/drill_report.*): the document's shape and its
// pass rule, the one-line failure summary, the Markdown, the three files, and
// listing the reports of a directory newest first (the dashboard and
// `dr/status` read them), with time from a FakeClockEnv.
#include <gtest/gtest.h>

#include "dr/drill/drill_report.h"
#include "storage/fake_clock_env.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

class DrillReportTest : public ::testing::Test {
 protected:
  DrillReportTest() : clock_(Env::Default(), 1'796'598'312'000'000ull) {}
  FakeClockEnv clock_;
  testing::TempDir dir_;
};

TEST_F(DrillReportTest, TheDocumentFollowsTheFormat) {
  DrillReport r(&clock_, "restore-check");
  EXPECT_EQ(r.id(), "20261206T230512Z-restore-check");
  r.Event("drill-started", "disaster", "now");
  clock_.Advance(1500 * 1000);
  r.Measure("rtoMs", r.ElapsedMs());
  r.Check("rows", true, "c: 3 rows");
  r.AddCollection({{"database", "default"}, {"name", "c"}, {"verdict", {{"rto", "pass"}, {"rpo", "no-target"}}}});
  nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["format"], "ark-drill-report");
  EXPECT_EQ(j["version"], kDrillReportVersion);
  EXPECT_EQ(j["measured"]["rtoMs"], 1500);
  EXPECT_TRUE(j["measured"]["rpoMs"].is_null());
  EXPECT_EQ(j["timeline"][0]["sinceStartMs"], 0);
  EXPECT_EQ(j["timeline"][0]["phase"], "disaster");
  EXPECT_TRUE(j["passed"]);
  EXPECT_EQ(r.FailureSummary(), "");
  EXPECT_NE(r.ToMarkdown().find("# Drill 20261206T230512Z-restore-check: PASSED"), std::string::npos);
}

TEST_F(DrillReportTest, AFailedCheckVerdictOrErrorFailsItAndTheSummarySaysWhich) {
  DrillReport r(&clock_, "restore-check");
  r.AddCollection({{"database", "kb"}, {"name", "docs"},
                   {"verdict", {{"rto", "pass"}, {"rpo", "fail"}, {"reasons", {"RPO 2 h exceeds 1 h"}}}}});
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.FailureSummary(), "kb.docs: RPO 2 h exceeds 1 h");
  r.Check("search", false, "kb.docs: 3 of 5 found");
  r.Fail(Status::IOError("disk | full"));
  EXPECT_EQ(r.FailureSummary(), "IOError: disk | full; search: kb.docs: 3 of 5 found; kb.docs: RPO 2 h exceeds 1 h");
  EXPECT_FALSE(r.ToJson()["passed"]);
  // A pipe in user text does not break the Markdown table.
  EXPECT_NE(r.ToMarkdown().find("disk / full"), std::string::npos);
}

TEST_F(DrillReportTest, WritesThreeFilesAndListsReportsNewestFirst) {
  const std::string reports = dir_.Sub("reports");
  DrillReport first(&clock_, "restore-check");
  ASSERT_OK_AND_ASSIGN(std::string first_dir, first.Write(reports));
  EXPECT_EQ(first_dir, reports + "/" + first.id());
  for (const char* f : {"report.json", "report.md", "report.html"}) {
    EXPECT_TRUE(clock_.FileExists(first_dir + "/" + f)) << f;
  }
  clock_.AdvanceSeconds(60);
  DrillReport second(&clock_, "site-loss");
  ASSERT_OK(second.Write(reports).status());
  // A scratch directory (no report.json) is skipped; garbage is listed as unreadable.
  ASSERT_OK(clock_.CreateDirs(reports + "/20261206T230600Z-restore-check.scratch"));
  ASSERT_OK(clock_.CreateDirs(reports + "/20261206T230700Z-restore-check"));
  ASSERT_OK(clock_.WriteFileAtomic(reports + "/20261206T230700Z-restore-check/report.json", "{not json"));

  ASSERT_OK(clock_.CreateDirs(reports + "/20261206T230650Z-restore-check"));
  ASSERT_OK(clock_.WriteFileAtomic(reports + "/20261206T230650Z-restore-check/report.json", R"({"format": 1})"));
  ASSERT_OK_AND_ASSIGN(auto listed, ListDrillReports(&clock_, reports));
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_TRUE(listed[1].contains("unreadable")) << "a wrong-typed format is listed, not thrown";
  listed.erase(listed.begin() + 1);
  EXPECT_EQ(listed[0]["id"], "20261206T230700Z-restore-check");
  EXPECT_TRUE(listed[0].contains("unreadable"));
  EXPECT_EQ(listed[1]["id"], second.id());
  EXPECT_EQ(listed[1]["scenario"], "site-loss");
  EXPECT_EQ(listed[2]["id"], first.id());
  EXPECT_EQ(listed[2]["reportDir"], first_dir);
  ASSERT_OK_AND_ASSIGN(auto one, ListDrillReports(&clock_, reports, 1));
  EXPECT_EQ(one.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto none, ListDrillReports(&clock_, dir_.Sub("missing")));
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace ark::dr
