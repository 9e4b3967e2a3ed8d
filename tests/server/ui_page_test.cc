// The DR dashboard page (server/ui_page): every figure of a DR status
// document where a person looks for it, the health badge and the reasons for
// it, hostile text that must come out inert, and documents with missing or
// wrong-typed keys that must still render rather than throw.
#include "server/ui_page.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "support/html_tags.h"

namespace ark::server {
namespace {

using nlohmann::json;
using testing::CountOf;
using testing::HtmlTag;
using testing::HtmlTags;

constexpr int64_t kNow = 1796598312000000;  // 2026-12-06T23:05:12Z
constexpr int64_t kMinute = 60'000'000;

json Event(const std::string& name, const std::string& phase, int64_t since_ms) {
  return {{"event", name},
          {"phase", phase},
          {"atMicros", kNow - 90 * kMinute + since_ms * 1000},
          {"sinceStartMs", since_ms},
          {"detail", name}};
}

// A primary with one standby, an archive, a nightly schedule, failover, two
// databases and two drills (docs/formats/dr-status.md).
json SampleStatus() {
  return {
      {"format", "ark-dr-status"},
      {"version", 1},
      {"nowMicros", kNow},
      {"server",
       {{"url", "http://127.0.0.1:19530"}, {"dataDir", "./ark-data"}, {"arkVersion", "0.1.0"}}},
      {"role", "primary"},
      {"epoch", 2},
      {"lastPosition", "2/5301"},
      {"replication",
       {{"mode", "async"},
        {"last", "2/5301"},
        {"standbys",
         {{{"name", "standby-b"},
           {"connected", true},
           {"sent", "2/5301"},
           {"durable", "2/5290"},
           {"applied", "2/5290"},
           {"lagRecords", 11},
           {"lagBytes", 2048},
           {"lagSeconds", 0.25},
           {"lastFeedbackMicros", kNow - 1'000'000},
           {"slot", {{"retainedBytes", 1536}, {"invalidated", false}}}}}}}},
      {"archive",
       {{"enabled", true},
        {"intervalSeconds", 1},
        {"state", "archiving"},
        {"reason", ""},
        {"repository", "s3://bucket/ark"},
        {"archivedPosition", "2/5300"},
        {"archivedRecordMicros", kNow - 1'000'000},
        {"lagSeconds", 0.4},
        {"failures", 0},
        {"gaps", 0}}},
      {"schedules",
       {{{"name", "nightly"},
         {"cron", "0 2 * * *"},
         {"repo", "s3://bucket/ark"},
         {"maxGapSeconds", 86400},
         {"runs", 12},
         {"failures", 0},
         {"missed", 0},
         {"lastSuccessMicros", kNow - 21 * 60 * kMinute},
         {"lastError", ""},
         {"nextRunMicros", kNow + 3 * 60 * kMinute},
         {"running", false}}}},
      {"failover",
       {{"witness", "http://127.0.0.1:19600"},
        {"name", "a"},
        {"leaseTtlMs", 5000},
        {"lease",
         {{"state", "held"}, {"leader", {{"holder", "a"}, {"epoch", 2}, {"url", "http://a"}}}}}}},
      {"tiers",
       {{{"database", "kb"},
         {"targets",
          {{"rtoTier", "critical"},
           {"rpoTier", "very-low"},
           {"rtoTargetMs", 3600000},
           {"rpoTargetMs", 3600000},
           {"source", "database kb"}}}},
        {{"database", "default"}, {"targets", nullptr}, {"error", ""}}}},
      {"collectionTiers",
       {{{"database", "kb"},
         {"name", "product_docs"},
         {"error", ""},
         {"targets",
          {{"rtoTier", "important"},
           {"rpoTier", "very-low"},
           {"rtoTargetMs", 4 * 3600000},
           {"rpoTargetMs", 3600000},
           {"source", "collection kb.product_docs (RTO), database kb (RPO)"}}}}}},
      {"collections",
       {{{"database", "kb"}, {"name", "company_docs"}, {"rows", 300}},
        {{"database", "kb"}, {"name", "product_docs"}, {"rows", 1200}},
        {{"database", "default"}, {"name", "faq_docs"}, {"rows", 25}}}},
      {"drills",
       {{"reportDir", "./ark-data/drills"},
        {"recent",
         {{{"id", "20261206T213512Z-restore-check"},
           {"scenario", "restore-check"},
           {"passed", true},
           {"error", ""},
           {"startedMicros", kNow - 90 * kMinute},
           {"finishedMicros", kNow - 90 * kMinute + 3'400'000},
           {"measured", {{"rtoMs", 3400}, {"rpoMs", 22000}}},
           {"reportDir", "./ark-data/drills/20261206T213512Z-restore-check"},
           {"verdicts",
            {{{"database", "kb"}, {"name", "company_docs"}, {"rto", "pass"}, {"rpo", "pass"}}}},
           {"timeline",
            {Event("drill-started", "disaster", 0), Event("restored", "recovery", 2100),
             Event("verified", "verification", 3400)}}},
          {{"id", "20261205T213512Z-restore-check"},
           {"scenario", "restore-check"},
           {"passed", false},
           {"error", "restore: segment 7 checksum mismatch"},
           {"startedMicros", kNow - 1530 * kMinute},
           {"finishedMicros", kNow - 1530 * kMinute + 900'000},
           {"measured", {{"rtoMs", nullptr}, {"rpoMs", nullptr}}},
           {"verdicts", json::array()}}}}}},
  };
}

bool Has(const std::string& html, const std::string& text) {
  return html.find(text) != std::string::npos;
}

// Runs nothing, loads nothing: no script or fetching element, no event
// handler or src attribute, and the only links are relative ones to drill
// reports. (Style attributes are the timeline legend's fixed colours.)
void ExpectInert(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  const std::set<std::string> kFetchingTags = {"script", "img",           "iframe", "link",
                                               "object", "embed",         "image",  "use",
                                               "form",   "foreignobject", "base"};
  for (const HtmlTag& tag : HtmlTags(html)) {
    EXPECT_EQ(kFetchingTags.count(tag.name), 0u) << "<" << tag.name << ">";
    for (const auto& [attribute, value] : tag.attributes) {
      EXPECT_NE(attribute.rfind("on", 0), 0u) << "<" << tag.name << " " << attribute << ">";
      EXPECT_NE(attribute, "src") << "<" << tag.name << ">";
      if (attribute == "href" || attribute == "xlink:href") {
        EXPECT_EQ(tag.name, "a");
        EXPECT_EQ(value.rfind("ui/drills/", 0), 0u) << value;
        EXPECT_EQ(value.find(".."), std::string::npos) << value;
      }
    }
  }
}

void ExpectWellFormed(const std::string& html) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(CountOf(html, "</html>"), 1u);
  for (const auto& [open, close] :
       {std::pair{"<svg", "</svg>"}, std::pair{"<table>", "</table>"}, std::pair{"<tr", "</tr>"},
        std::pair{"<section", "</section>"}, std::pair{"<dl", "</dl>"}, std::pair{"<a ", "</a>"},
        std::pair{"<ul", "</ul>"}, std::pair{"<text", "</text>"}}) {
    EXPECT_EQ(CountOf(html, open), CountOf(html, close)) << open;
  }
}

TEST(DashboardPageTest, ASampleDocumentShowsEveryFigure) {
  const std::string html = RenderDashboardHtml(SampleStatus());
  // Header: role, health, epoch, position, server.
  EXPECT_TRUE(Has(html, "<span class=\"role\" id=\"role\">primary</span>"));
  EXPECT_TRUE(Has(html, "<span class=\"badge healthy\" id=\"health\">HEALTHY</span>"));
  EXPECT_TRUE(Has(html, "<dt>Epoch</dt><dd>2</dd>"));
  EXPECT_TRUE(Has(html, "<dt>Last position</dt><dd><code>2/5301</code></dd>"));
  EXPECT_TRUE(Has(html, "http://127.0.0.1:19530"));
  EXPECT_TRUE(Has(html, "2026-12-06T23:05:12Z"));  // as of
  EXPECT_TRUE(Has(html, "Nothing needs attention."));
  EXPECT_TRUE(Has(html, "<meta http-equiv=\"refresh\" content=\"10\">"));
  // Figures across the top.
  EXPECT_TRUE(Has(html,
                  "id=\"figure-standbys\"><div class=\"label\">Standbys connected</div><div "
                  "class=\"value\">1 / 1</div>"));
  EXPECT_TRUE(Has(html, "<div class=\"value\">250 ms</div><div class=\"sub\">11 records</div>"));
  EXPECT_TRUE(Has(html, "<div class=\"value\">400 ms</div><div class=\"sub\">archiving</div>"));
  EXPECT_TRUE(
      Has(html, "<div class=\"value\">21 h ago</div><div class=\"sub\">schedule nightly</div>"));
  EXPECT_TRUE(Has(html,
                  "<div class=\"value\">PASSED</div><div class=\"sub\">restore-check · 1 h 30 min "
                  "ago\nRTO 3.4 s · RPO 22 s</div>"));
  // Replication: the standby's row.
  EXPECT_TRUE(Has(html,
                  "<tr data-standby=\"standby-b\"><td><code>standby-b</code></td><td><span "
                  "class=\"pill pass\">connected</span></td>"));
  EXPECT_TRUE(Has(html, "<span class=\"pill unmeasured\">behind</span>"));
  EXPECT_TRUE(Has(html, "1.5 KiB"));
  EXPECT_TRUE(Has(html, "async mode"));
  // Archive.
  EXPECT_TRUE(Has(html, "<dt>State</dt><dd><span class=\"pill pass\">archiving</span></dd>"));
  EXPECT_TRUE(Has(html, "<code>2/5300</code>"));
  // The schedule: last success, on time against its 24 h gap, next run.
  EXPECT_TRUE(Has(html,
                  "<tr data-schedule=\"nightly\"><td><code>nightly</code><span class=\"sub\">0 2 * "
                  "* *</span>"));
  EXPECT_TRUE(
      Has(html, "<span class=\"pill pass\">on time</span></td><td class=\"num\">24 h</td>"));
  EXPECT_TRUE(Has(html, "<span class=\"sub\">in 3 h</span>"));
  EXPECT_TRUE(Has(html, "<td class=\"num\">12 / 0 / 0</td>"));
  json running = SampleStatus();
  running["schedules"][0]["running"] = true;
  EXPECT_TRUE(Has(RenderDashboardHtml(running),
                  "<span class=\"pill pass\">on time</span> <span class=\"pill none\">running</span>"));
  // Tiers, with the collections counted per database.
  EXPECT_TRUE(Has(html,
                  "<tr><td><code>kb</code></td><td>critical · &lt; 1 h</td><td>very-low · &lt; 1 h</td>"
                  "<td class=\"num\">2</td><td class=\"num\">1,500</td><td>database kb</td></tr>"));
  // A collection with a tier of its own, under its database.
  EXPECT_TRUE(Has(html,
                  "<tr class=\"collection-tier\"><td>↳ <code>product_docs</code></td><td>important · ≤ 4 h</td>"
                  "<td>very-low · &lt; 1 h</td><td class=\"num\">1</td><td class=\"num\">1,200</td>"
                  "<td>collection kb.product_docs (RTO), database kb (RPO)</td></tr>"));
  EXPECT_TRUE(
      Has(html, "<td><code>default</code></td><td>—</td><td>—</td><td class=\"num\">1</td>"));
  // Failover.
  EXPECT_TRUE(Has(html, "<dt>Lease</dt><dd><span class=\"pill pass\">held</span></dd>"));
  // Drills: both rows, linked; the newest's timeline with one marker per event.
  EXPECT_TRUE(Has(html,
                  "<a href=\"ui/drills/20261206T213512Z-restore-check/report.html\" "
                  "data-drill=\"20261206T213512Z-restore-check\">"));
  EXPECT_TRUE(Has(html, "<a href=\"ui/drills/20261205T213512Z-restore-check/report.html\""));
  EXPECT_TRUE(Has(html, "<td class=\"num rto\">3.4 s</td><td class=\"num rpo\">22 s</td>"));
  EXPECT_TRUE(Has(html,
                  "<code>kb.company_docs</code> <span class=\"pill pass\">RTO pass</span><span "
                  "class=\"pill pass\">RPO pass</span>"));
  EXPECT_TRUE(Has(html, "<span class=\"badge failed small\">FAILED</span>"));
  EXPECT_TRUE(Has(html, "restore: segment 7 checksum mismatch"));
  EXPECT_EQ(CountOf(html, "<svg"), 1u);
  EXPECT_EQ(CountOf(html, "<circle"), 3u);
  EXPECT_TRUE(Has(html, ">RTO 3.4 s</text>"));
  EXPECT_TRUE(Has(html, "full report</a>"));
  ExpectInert(html);
  ExpectWellFormed(html);
}

TEST(DashboardPageTest, TheBadgeSaysWhatNeedsAttention) {
  json status = SampleStatus();
  status["replication"]["standbys"][0]["connected"] = false;
  std::string html = RenderDashboardHtml(status);
  EXPECT_TRUE(Has(html, "<span class=\"badge warning\" id=\"health\">WARNING</span>"));
  EXPECT_TRUE(Has(
      html,
      "<li class=\"warning\"><strong>Warning:</strong> Standby standby-b is not connected.</li>"));
  EXPECT_TRUE(Has(html, "<span class=\"pill fail\">disconnected</span>"));
  EXPECT_TRUE(Has(html, "<div class=\"value\">0 / 1</div>"));

  // A schedule past its gap and grace (24 h + 2.4 h): the RPO is unbounded.
  status["schedules"][0]["lastSuccessMicros"] = kNow - 27 * 60 * kMinute;
  html = RenderDashboardHtml(status);
  EXPECT_TRUE(Has(html, "<span class=\"badge critical\" id=\"health\">CRITICAL</span>"));
  EXPECT_TRUE(
      Has(html, "Backup schedule nightly last succeeded 27 h ago, longer than its 24 h gap"));
  EXPECT_TRUE(Has(html, "<span class=\"pill fail\">overdue</span>"));
  // Critical first.
  EXPECT_LT(html.find("<li class=\"critical\">"), html.find("<li class=\"warning\">"));

  json drill_failed = SampleStatus();
  drill_failed["drills"]["recent"][0]["passed"] = false;
  html = RenderDashboardHtml(drill_failed);
  EXPECT_TRUE(
      Has(html, "The newest drill 20261206T213512Z-restore-check failed: a target was not met."));

  json archive = SampleStatus();
  archive["archive"]["state"] = "stopped";
  archive["archive"]["reason"] = "spool full";
  archive["archive"]["gaps"] = 2;
  html = RenderDashboardHtml(archive);
  EXPECT_TRUE(Has(html, "The WAL archive has stopped: spool full"));
  EXPECT_TRUE(Has(html, "The WAL archive has 2 gap(s)"));
  EXPECT_TRUE(Has(html, "<span class=\"pill fail\">stopped</span>"));

  json fenced = SampleStatus();
  fenced["role"] = "fenced";
  fenced["failover"]["lease"]["state"] = "fenced";
  html = RenderDashboardHtml(fenced);
  EXPECT_TRUE(Has(html, "This server is fenced"));

  json degraded = SampleStatus();
  degraded["replication"]["mode"] = "sync";
  degraded["replication"]["syncPolicy"] = "degrade";
  degraded["replication"]["sync"] = {{"degraded", true}};
  degraded["schedules"][0]["lastError"] = "repository unreachable";
  degraded["tiers"][1]["error"] =
      "ark.dr.rpo_tier 'urgent' is not one of zero, very-low, low, tolerable";
  html = RenderDashboardHtml(degraded);
  EXPECT_TRUE(Has(html, "Sync replication has degraded to async"));
  EXPECT_TRUE(Has(html, "<span class=\"pill fail\">degraded to async</span>"));
  EXPECT_TRUE(Has(html, "Backup schedule nightly failed: repository unreachable"));
  EXPECT_TRUE(Has(html, "Database default: ark.dr.rpo_tier &#39;urgent&#39;"));
}

TEST(DashboardPageTest, AStandbyShowsItsPrimaryAndItsOwnLag) {
  json status = SampleStatus();
  status["role"] = "standby";
  status["replication"] = {{"mode", "async"},
                           {"primary", "http://10.0.0.1:19530"},
                           {"state", "reconnecting"},
                           {"applied", "2/5000"},
                           {"primaryDurable", "2/5301"},
                           {"lagRecords", 301},
                           {"lagSeconds", 75.5},
                           {"reconnects", 3},
                           {"standbys", json::array()}};
  status["failover"] = nullptr;
  const std::string html = RenderDashboardHtml(status);
  EXPECT_TRUE(Has(html, "id=\"role\">standby</span>"));
  EXPECT_TRUE(Has(html, "<dt>Primary</dt><dd><code>http://10.0.0.1:19530</code></dd>"));
  EXPECT_TRUE(Has(
      html,
      "<div class=\"value\">reconnecting</div><div class=\"sub\">of http://10.0.0.1:19530</div>"));
  EXPECT_TRUE(
      Has(html, "<div class=\"value\">1 min 15 s</div><div class=\"sub\">301 records</div>"));
  EXPECT_TRUE(Has(html, "This standby is reconnecting, not streaming from its primary."));
  EXPECT_TRUE(Has(html, "Standby  is") == false);
  EXPECT_TRUE(Has(html, "No standby has connected to this server."));
  EXPECT_TRUE(Has(html, "failover is manual"));
}

TEST(DashboardPageTest, DocumentTextIsEscapedEverywhere) {
  const std::string hostile = "<script>alert(1)</script>\"&'<img src=x onerror=alert(1)>";
  json status = SampleStatus();
  status["role"] = hostile;
  status["lastPosition"] = hostile;
  status["server"]["url"] = hostile;
  status["server"]["dataDir"] = hostile;
  status["replication"]["mode"] = hostile;
  status["replication"]["standbys"][0]["name"] = hostile;
  status["replication"]["standbys"][0]["sent"] = hostile;
  status["replication"]["standbys"][0]["connected"] = false;
  status["archive"]["state"] = hostile;
  status["archive"]["reason"] = hostile;
  status["archive"]["repository"] = hostile;
  status["schedules"][0]["name"] = hostile;
  status["schedules"][0]["cron"] = hostile;
  status["schedules"][0]["lastError"] = hostile;
  status["failover"]["lease"]["state"] = hostile;
  status["failover"]["lease"]["leader"]["url"] = hostile;
  status["tiers"][0]["database"] = hostile;
  status["tiers"][0]["targets"]["rtoTier"] = hostile;
  status["tiers"][1]["error"] = hostile;
  status["collections"][0]["database"] = hostile;
  status["drills"]["reportDir"] = hostile;
  status["drills"]["recent"][0]["scenario"] = hostile;
  status["drills"]["recent"][0]["error"] = hostile;
  status["drills"]["recent"][0]["verdicts"][0]["name"] = hostile;
  status["drills"]["recent"][0]["verdicts"][0]["rto"] = hostile;
  status["drills"]["recent"][0]["timeline"][1]["event"] = hostile;
  status["drills"]["recent"][1]["id"] = hostile;
  const std::string html = RenderDashboardHtml(status);
  EXPECT_EQ(html.find(hostile), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_TRUE(Has(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;&lt;img src=x"));
  // The hostile id is shown, but is no link.
  EXPECT_EQ(CountOf(html, "<a href="), 2u);  // the newest drill's row and its "full report"
  ExpectInert(html);
  ExpectWellFormed(html);
}

TEST(DashboardPageTest, OnlyValidDrillIdsBecomeLinks) {
  EXPECT_TRUE(IsValidDrillId("20261206T230512Z-restore-check"));
  EXPECT_TRUE(IsValidDrillId("a"));
  EXPECT_TRUE(IsValidDrillId(std::string(128, 'x')));
  for (const char* bad :
       {"", "..", "../etc", "a/b", "a.b", "a b", "a%2e", "a\\b", "ü", "a?b", "a#b"}) {
    EXPECT_FALSE(IsValidDrillId(bad)) << bad;
  }
  EXPECT_FALSE(IsValidDrillId(std::string(129, 'x')));
  EXPECT_FALSE(IsValidDrillId(std::string("a\0b", 3)));

  json status = SampleStatus();
  status["drills"]["recent"][0]["id"] = "../../../etc/passwd";
  status["drills"]["recent"][1]["id"] = 42;
  const std::string html = RenderDashboardHtml(status);
  EXPECT_EQ(html.find("<a "), std::string::npos);
  EXPECT_TRUE(Has(html, "<code>../../../etc/passwd</code>"));
  ExpectInert(html);
}

TEST(DashboardPageTest, TheCredentialQueryIsCarriedOnToTheLinks) {
  DashboardOptions options;
  options.link_query = "token=a%26b%27c";
  options.refresh_seconds = 0;
  const std::string html = RenderDashboardHtml(SampleStatus(), options);
  EXPECT_TRUE(
      Has(html, "href=\"ui/drills/20261206T213512Z-restore-check/report.html?token=a%26b%27c\""));
  EXPECT_EQ(html.find("http-equiv=\"refresh\""), std::string::npos);
  DashboardOptions quoted;
  quoted.link_query = "token=\"><b>";  // not encoded by a careless caller: still inert
  const std::string escaped = RenderDashboardHtml(SampleStatus(), quoted);
  EXPECT_EQ(escaped.find("<b>"), std::string::npos);
  EXPECT_TRUE(Has(escaped, "?token=&quot;&gt;&lt;b&gt;"));
}

TEST(DashboardPageTest, MissingSectionsRenderAsNotes) {
  const json minimal = {{"format", "ark-dr-status"}, {"version", 1}, {"role", "primary"}};
  std::string html;
  ASSERT_NO_THROW(html = RenderDashboardHtml(minimal));
  EXPECT_TRUE(Has(html, "id=\"health\">HEALTHY</span>"));
  EXPECT_TRUE(Has(html, "No standby has connected to this server."));
  EXPECT_TRUE(Has(html, "WAL archiving is off"));
  EXPECT_TRUE(Has(html, "No backup schedule"));
  EXPECT_TRUE(Has(html, "No drill has run yet"));
  EXPECT_TRUE(Has(html, "No database is listed."));
  EXPECT_TRUE(Has(html, "failover is manual"));
  EXPECT_TRUE(Has(html, "<dt>Epoch</dt><dd>—</dd>"));
  EXPECT_EQ(CountOf(html, "<svg"), 0u);
  ExpectInert(html);
  ExpectWellFormed(html);

  // A newest drill without a timeline, and one that cannot be read.
  json status = SampleStatus();
  status["drills"]["recent"][0].erase("timeline");
  status["drills"]["recent"][0]["measured"] = nullptr;
  status["drills"]["recent"][1] = {{"id", "20261205T213512Z-restore-check"},
                                   {"unreadable", "not JSON"}};
  html = RenderDashboardHtml(status);
  EXPECT_TRUE(Has(html, "holds no timeline"));
  EXPECT_TRUE(Has(html, "cannot be read: not JSON"));
  ExpectWellFormed(html);
}

TEST(DashboardPageTest, NonObjectsAndOtherVersionsRenderWithoutThrowing) {
  for (const json& status :
       {json::object(), json(), json::array({1, 2}), json("status"), json(7)}) {
    std::string html;
    ASSERT_NO_THROW(html = RenderDashboardHtml(status)) << status.dump();
    EXPECT_TRUE(Has(html, "id=\"health\">UNKNOWN</span>")) << status.dump();
    ExpectInert(html);
    ExpectWellFormed(html);
  }
  EXPECT_TRUE(Has(RenderDashboardHtml(json::array()), "not a DR status document"));
  json newer = SampleStatus();
  newer["version"] = 2;
  newer["format"] = "something-else";
  const std::string html = RenderDashboardHtml(newer);
  EXPECT_TRUE(Has(html, "format version 2"));
  EXPECT_TRUE(Has(html, "“something-else”"));
}

TEST(DashboardPageTest, WrongTypedKeysRenderWhatTheyCan) {
  const json status = {
      {"nowMicros", "now"},
      {"role", 5},
      {"epoch", {1, 2}},
      {"replication", {{"standbys", {1, "two", {{"connected", "yes"}, {"lagSeconds", "x"}}}}}},
      {"archive", {{"enabled", "true"}}},
      {"schedules", {{{"name", 7}, {"maxGapSeconds", "day"}, {"lastSuccessMicros", 1e300}}}},
      {"tiers", "kb"},
      {"collections", {{{"rows", "many"}}}},
      {"drills", {{"recent", {{{"id", {{"a", 1}}}, {"passed", "yes"}, {"measured", 3}}}}}},
  };
  std::string html;
  ASSERT_NO_THROW(html = RenderDashboardHtml(status));
  EXPECT_TRUE(Has(html, "id=\"role\">5</span>"));
  EXPECT_TRUE(Has(html, "WAL archiving is off"));  // "true" is not true
  EXPECT_TRUE(Has(html, "<code>7</code>"));
  ExpectInert(html);
  ExpectWellFormed(html);
}

// Every key of the sample, and every object or array holding keys, in turn
// given every JSON type: the page still renders, whole and inert.
TEST(DashboardPageTest, AnyKeyOfAnyTypeRendersWithoutThrowing) {
  const json full = SampleStatus();
  std::set<std::string> paths;
  const json leaves = full.flatten();
  for (const auto& [leaf, value] : leaves.items()) {
    for (json::json_pointer path(leaf); !path.empty(); path = path.parent_pointer()) {
      paths.insert(path.to_string());
    }
  }
  const json replacements[] = {nullptr,
                               true,
                               -7,
                               1.5e300,
                               "<b>x</b>",
                               json::array(),
                               json::object(),
                               json::array({nullptr, "x", 3})};
  for (const std::string& path : paths) {
    for (const json& replacement : replacements) {
      json status = full;
      status[json::json_pointer(path)] = replacement;
      std::string html;
      ASSERT_NO_THROW(html = RenderDashboardHtml(status)) << path << " = " << replacement.dump();
      EXPECT_EQ(html.find("<b>"), std::string::npos) << path;
      EXPECT_EQ(html.find("could not be shown"), std::string::npos) << path;
      ExpectWellFormed(html);
    }
  }
  EXPECT_GT(paths.size(), 100u);
}

}  // namespace
}  // namespace ark::server
