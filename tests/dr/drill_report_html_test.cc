// The drill report's HTML page (dr/drill/report_html): the figures a person
// reads, the SVG timeline with one marker per event, hostile user text that
// must come out inert, and reports from failed or garbled drills that must
// still render rather than throw.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dr/drill/report_html.h"
#include "support/html_tags.h"

namespace ark::dr {
namespace {

using nlohmann::json;

using testing::CountOf;
using testing::HtmlTag;
using testing::HtmlTags;

json Event(const std::string& name, const std::string& phase, int64_t since_ms) {
  return {{"event", name},
          {"phase", phase},
          {"atMicros", 1796598312000000 + since_ms * 1000},
          {"sinceStartMs", since_ms},
          {"detail", name + " happened"}};
}

// A restore-check drill as `ark drill run` writes it (drill-report.md).
json FullReport() {
  return {
      {"format", "ark-drill-report"},
      {"version", 1},
      {"id", "20261206T230512Z-restore-check"},
      {"scenario", "restore-check"},
      {"arkVersion", "0.1.0"},
      {"startedMicros", 1796598312000000},
      {"finishedMicros", 1796598315400000},
      {"passed", true},
      {"error", ""},
      {"source",
       {{"repo", "s3://bucket/prefix?endpoint=minio:9000"},
        {"backup", "ark-20261206-230000"},
        {"backupPosition", "1/5234"},
        {"backupTimeMicros", 1796598000000000},
        {"pointInTime", "latest"},
        {"reachedPosition", "1/5301"},
        {"reachedTimeMicros", 1796598290000000}}},
      {"timeline", json::array({Event("drill-started", "disaster", 0),
                                Event("restore-started", "recovery", 150),
                                Event("restore-finished", "recovery", 2250),
                                Event("first-search-ok", "verification", 3400),
                                Event("scratch-removed", "teardown", 3400)})},
      {"measured",
       {{"rtoMs", 3400},
        {"rtoSearchMs", 3400},
        {"rtoWriteMs", nullptr},
        {"rpoMs", 22000},
        {"detectionMs", nullptr},
        {"promotionMs", nullptr},
        {"restoreMs", 2100},
        {"lostMarkers", nullptr}}},
      {"collections",
       json::array(
           {{{"database", "default"},
             {"name", "company_docs"},
             {"expectedRows", 300},
             {"rows", 300},
             {"samples", 5},
             {"samplesFound", 5},
             {"targets",
              {{"rtoTier", "critical"},
               {"rpoTier", "very-low"},
               {"rtoTargetMs", 3600000},
               {"rpoTargetMs", 3600000},
               {"source", "database default"}}},
             {"verdict", {{"rto", "pass"}, {"rpo", "pass"}, {"reasons", json::array()}}}}})},
      {"checks",
       json::array({{{"name", "rows"},
                     {"passed", true},
                     {"detail", "default.company_docs: 300 rows, as the backup recorded"}}})},
  };
}

// Loads nothing and runs nothing: the page must be inert wherever it is opened.
void ExpectSelfContained(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  const std::set<std::string> kFetchingTags = {
      "script", "img", "iframe", "link", "object", "embed", "image", "use", "a", "foreignobject"};
  for (const HtmlTag& tag : HtmlTags(html)) {
    EXPECT_EQ(kFetchingTags.count(tag.name), 0u) << "<" << tag.name << ">";
    for (const auto& [attribute, value] : tag.attributes) {
      EXPECT_NE(attribute.rfind("on", 0), 0u) << "<" << tag.name << " " << attribute << ">";
      EXPECT_NE(attribute, "src") << "<" << tag.name << ">";
      EXPECT_NE(attribute, "href") << "<" << tag.name << ">";
      EXPECT_NE(attribute, "xlink:href") << "<" << tag.name << ">";
    }
  }
}

// Balanced enough for a browser to build the tree we meant.
void ExpectWellFormed(const std::string& html) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(CountOf(html, "</html>"), 1u);
  EXPECT_LE(CountOf(html, "<svg"), 1u);
  EXPECT_EQ(CountOf(html, "<svg"), CountOf(html, "</svg>"));
  EXPECT_EQ(CountOf(html, "<text"), CountOf(html, "</text>"));
  EXPECT_EQ(CountOf(html, "<title>"), CountOf(html, "</title>"));
  EXPECT_EQ(CountOf(html, "<g "), CountOf(html, "</g>"));
  EXPECT_EQ(CountOf(html, "<table>"), CountOf(html, "</table>"));
  EXPECT_EQ(CountOf(html, "<tr"), CountOf(html, "</tr>"));
  EXPECT_EQ(CountOf(html, "<section>"), CountOf(html, "</section>"));
}

// Where each event's label is drawn: (x, y), in the report's order.
std::vector<std::pair<double, double>> EventLabelPositions(const std::string& html) {
  std::vector<std::pair<double, double>> positions;
  const std::string kEvent = "<g class=\"event\">";
  const std::string kLabel = "<text class=\"halo\" x=\"";
  for (size_t at = html.find(kEvent); at != std::string::npos; at = html.find(kEvent, at + 1)) {
    const size_t x = html.find(kLabel, at) + kLabel.size();
    const size_t y = html.find("y=\"", x) + 3;
    positions.emplace_back(std::stod(html.substr(x, 16)), std::stod(html.substr(y, 16)));
  }
  return positions;
}

TEST(DrillReportHtmlTest, DurationsReadAsPeopleSayThem) {
  EXPECT_EQ(FormatDrillDuration(850), "850 ms");
  EXPECT_EQ(FormatDrillDuration(0), "0 ms");
  EXPECT_EQ(FormatDrillDuration(4200), "4.2 s");
  EXPECT_EQ(FormatDrillDuration(3000), "3 s");
  EXPECT_EQ(FormatDrillDuration(22000), "22 s");
  EXPECT_EQ(FormatDrillDuration(725000), "12 min 5 s");
  EXPECT_EQ(FormatDrillDuration(120000), "2 min");
  EXPECT_EQ(FormatDrillDuration(4320000), "1 h 12 min");
  EXPECT_EQ(FormatDrillDuration(90000000), "25 h");  // hours up to two days, as the tiers' reasons say it
  EXPECT_EQ(FormatDrillDuration(-1500), "-1.5 s");
  EXPECT_EQ(FormatDrillDuration(std::nullopt), "—");
  // The same words as the verdicts' reasons (dr/drill/tiers.h FormatDuration):
  // truncated, so a figure just over a target never reads as the target.
  EXPECT_EQ(FormatDrillDuration(59960), "59.9 s");
  EXPECT_EQ(FormatDrillDuration(3599700), "59 min 59 s");
  EXPECT_EQ(FormatDrillDuration(999.7), "999 ms");
  EXPECT_EQ(FormatDrillDuration(1e300), FormatDrillDuration(1e15));
}

TEST(DrillReportHtmlTest, TimesAreUtcIso8601) {
  EXPECT_EQ(FormatDrillTimeUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatDrillTimeUtc(1796598312000000), "2026-12-06T23:05:12Z");
  EXPECT_EQ(FormatDrillTimeUtc(1796598315400000), "2026-12-06T23:05:15.400Z");
  EXPECT_EQ(FormatDrillTimeUtc(1709208000000000), "2024-02-29T12:00:00Z");
  EXPECT_EQ(FormatDrillTimeUtc(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_FALSE(FormatDrillTimeUtc(std::numeric_limits<int64_t>::min()).empty());
  EXPECT_FALSE(FormatDrillTimeUtc(std::numeric_limits<int64_t>::max()).empty());
}

TEST(DrillReportHtmlTest, AFullReportShowsEveryFigureTheBadgeAndEachCollection) {
  const std::string html = RenderDrillReportHtml(FullReport());
  EXPECT_NE(html.find(">PASSED</span>"), std::string::npos);
  EXPECT_EQ(html.find(">FAILED</span>"), std::string::npos);
  EXPECT_NE(html.find("restore-check"), std::string::npos);
  EXPECT_NE(html.find("20261206T230512Z-restore-check"), std::string::npos);
  EXPECT_NE(html.find("2026-12-06T23:05:12Z"), std::string::npos);              // started
  EXPECT_NE(html.find("<div class=\"value\">3.4 s</div>"), std::string::npos);  // RTO
  EXPECT_NE(html.find("<div class=\"value\">22 s</div>"), std::string::npos);   // RPO
  EXPECT_NE(html.find("<div class=\"value\">2.1 s</div>"), std::string::npos);  // restore
  EXPECT_NE(html.find("search 3.4 s\nwrite —"), std::string::npos);
  EXPECT_EQ(CountOf(html, "<div class=\"value\">—</div>"), 3u);  // detection, promotion, lost markers
  // One marker per event, coloured by phase; the RTO band spans 0 to 3.4 s.
  EXPECT_EQ(CountOf(html, "<circle"), 5u);
  EXPECT_EQ(CountOf(html, "fill=\"#2e7d32\""), 2u);  // the two recovery events
  EXPECT_NE(html.find(">RTO 3.4 s</text>"), std::string::npos);
  // The collection's row: counts, targets, verdict.
  EXPECT_NE(html.find("<code>default.company_docs</code>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">300</td><td class=\"num\">300</td>"), std::string::npos);
  EXPECT_NE(html.find("5 / 5"), std::string::npos);
  EXPECT_NE(html.find("critical · &lt; 1 h"), std::string::npos);  // strictly under the hour
  EXPECT_EQ(CountOf(html, "<span class=\"pill pass\">pass</span>"), 2u);
  EXPECT_NE(html.find("300 rows, as the backup recorded"), std::string::npos);
  EXPECT_NE(html.find("ark-20261206-230000"), std::string::npos);
  EXPECT_NE(html.find("2026-12-06T23:04:50Z"), std::string::npos);  // reached
  ExpectSelfContained(html);
  ExpectWellFormed(html);
}

TEST(DrillReportHtmlTest, AFailedDrillShowsItsErrorAndFailingVerdicts) {
  json report = FullReport();
  report["passed"] = false;
  report["error"] = "restore: segment 7 checksum mismatch";
  report["collections"][0]["rows"] = 290;
  report["collections"][0]["verdict"] = {
      {"rto", "pass"}, {"rpo", "fail"}, {"reasons", {"RPO 22 s exceeds the 10 s target"}}};
  report["collections"].push_back({{"database", "default"},
                                   {"name", "untiered"},
                                   {"verdict", {{"rto", "no-target"}, {"rpo", "not-measured"}}}});
  report["checks"].push_back(
      {{"name", "samples"}, {"passed", false}, {"detail", "1 of 5 missing"}});
  const std::string html = RenderDrillReportHtml(report);
  EXPECT_NE(html.find(">FAILED</span>"), std::string::npos);
  EXPECT_NE(html.find("restore: segment 7 checksum mismatch"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num bad\">290</td>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"pill fail\">fail</span>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"pill none\">no-target</span>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"pill unmeasured\">not-measured</span>"), std::string::npos);
  EXPECT_NE(html.find("<li>RPO 22 s exceeds the 10 s target</li>"), std::string::npos);
  EXPECT_NE(html.find("1 passed, 1 failed"), std::string::npos);
  EXPECT_EQ(CountOf(html, "<tr class=\"failed\">"), 2u);  // the collection and the check
}

TEST(DrillReportHtmlTest, UserTextIsEscapedEverywhere) {
  const std::string hostile = "<script>alert(1)</script>\"&'";
  json report = FullReport();
  report["scenario"] = hostile;
  report["id"] = hostile;
  report["error"] = "<img src=x onerror=alert(1)>";
  report["collections"][0]["database"] = hostile;
  report["collections"][0]["name"] = hostile;
  report["collections"][0]["targets"]["rtoTier"] = hostile;
  report["collections"][0]["targets"]["source"] = hostile;
  report["collections"][0]["verdict"]["rto"] = hostile;
  report["collections"][0]["verdict"]["reasons"] = {hostile};
  report["checks"][0]["name"] = hostile;
  report["checks"][0]["detail"] = hostile;
  report["timeline"][1]["event"] = hostile;
  report["timeline"][1]["phase"] = "\" style=\"x";
  report["timeline"][1]["detail"] = hostile;
  report["source"]["repo"] = hostile;
  report["source"]["pointInTime"] = hostile;
  const std::string html = RenderDrillReportHtml(report);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find(hostile), std::string::npos);
  EXPECT_EQ(html.find("style=\"x"), std::string::npos);
  EXPECT_EQ(CountOf(html, "<circle"), 5u);
  ExpectSelfContained(html);
  ExpectWellFormed(html);
}

TEST(DrillReportHtmlTest, BrokenUtf8AndControlCharactersCannotBreakThePage) {
  json report = FullReport();
  report["scenario"] = std::string("bad\xff\xc3(byte\x01s");
  report["error"] = json{{"nested", std::string("\xed\xa0\x80")}};  // a surrogate, in an object
  const std::string html = RenderDrillReportHtml(report);
  EXPECT_NE(html.find("bad\uFFFD\uFFFD(byte\uFFFDs"), std::string::npos);
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  EXPECT_NE(html.find("&quot;nested&quot;"), std::string::npos);
  ExpectWellFormed(html);
}

TEST(DrillReportHtmlTest, AnEmptyObjectAndNonObjectsRenderWithoutThrowing) {
  for (const json& report :
       {json::object(), json(), json::array({1, 2}), json("report"), json(7)}) {
    std::string html;
    ASSERT_NO_THROW(html = RenderDrillReportHtml(report)) << report.dump();
    EXPECT_NE(html.find(">UNKNOWN</span>"), std::string::npos) << report.dump();
    EXPECT_NE(html.find("No timeline events were recorded."), std::string::npos);
    EXPECT_NE(html.find("No collections were recorded."), std::string::npos);
    EXPECT_NE(html.find("No checks were recorded."), std::string::npos);
    EXPECT_EQ(CountOf(html, "<circle"), 0u);
    ExpectSelfContained(html);
    ExpectWellFormed(html);
  }
  EXPECT_NE(RenderDrillReportHtml(json::array()).find("not a drill report"), std::string::npos);
}

TEST(DrillReportHtmlTest, WrongTypedFieldsRenderWhatTheyCan) {
  const json report = {
      {"format", 12},
      {"version", "one"},
      {"id", {1, 2}},
      {"scenario", nullptr},
      {"startedMicros", "yesterday"},
      {"finishedMicros", 1.5e300},
      {"passed", "yes"},
      {"error", 42},
      {"source", "s3://somewhere"},
      {"measured", {{"rtoMs", "fast"}, {"rpoMs", -18446744073709551615.0}, {"lostMarkers", 2.6}}},
      {"timeline",
       {Event("ok", "disaster", 10),
        {{"event", 5}, {"phase", {"x"}}, {"sinceStartMs", "soon"}, {"atMicros", true}},
        "not an event",
        {{"sinceStartMs", -50}},
        {{"sinceStartMs", 18446744073709551615u}}}},
      {"collections",
       {{{"name", "c"},
         {"rows", "many"},
         {"expectedRows", 1.0},
         {"samples", nullptr},
         {"targets", {1}},
         {"verdict", 3}},
        "not a collection",
        {{"verdict", {{"reasons", "too slow"}, {"rto", 1}}}}}},
      {"checks", {1, "two", {{"name", 5}, {"passed", "no"}}}},
  };
  std::string html;
  ASSERT_NO_THROW(html = RenderDrillReportHtml(report));
  EXPECT_NE(html.find(">FAILED</span>"), std::string::npos);  // a non-empty error
  EXPECT_NE(html.find("<strong>Error:</strong> 42"), std::string::npos);
  EXPECT_NE(html.find("<code>c</code>"), std::string::npos);
  EXPECT_NE(html.find("<td>too slow</td>"), std::string::npos);  // one reason, not a list
  EXPECT_NE(html.find("<div class=\"value\">3</div>"), std::string::npos);  // lost markers, rounded
  EXPECT_EQ(CountOf(html, "<circle"), 4u);  // the string entry is not an event
  EXPECT_NE(html.find("does not say what the drill recovered from"), std::string::npos);
  ExpectSelfContained(html);
  ExpectWellFormed(html);
}

// Every key of a full report, and every object or array holding keys, in
// turn given every JSON type: the page still renders, whole and inert.
TEST(DrillReportHtmlTest, AnyKeyOfAnyTypeRendersWithoutThrowing) {
  const json full = FullReport();
  std::set<std::string> paths;
  const json leaves = full.flatten();  // kept: items() refers into it
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
      json report = full;
      report[json::json_pointer(path)] = replacement;
      std::string html;
      ASSERT_NO_THROW(html = RenderDrillReportHtml(report)) << path << " = " << replacement.dump();
      EXPECT_EQ(html.find("<b>"), std::string::npos) << path;
      EXPECT_EQ(html.find("could not be shown"), std::string::npos) << path;
      ExpectWellFormed(html);
    }
  }
  EXPECT_GT(paths.size(), 60u);
}

// What other pages embed (the dashboard) is exactly what the report draws.
TEST(DrillReportHtmlTest, TheTimelineAloneIsThePagesSvgAndLegend) {
  const std::string svg = RenderDrillTimelineSvg(FullReport());
  EXPECT_EQ(svg.rfind("<svg class=\"timeline\"", 0), 0u);
  EXPECT_EQ(CountOf(svg, "<circle"), 5u);
  EXPECT_NE(svg.find("<ul class=\"legend\">"), std::string::npos);
  EXPECT_NE(RenderDrillReportHtml(FullReport()).find(svg), std::string::npos);
  // A summary with only the keys it reads will do.
  const json summary = {{"timeline", FullReport()["timeline"]}, {"measured", {{"rtoMs", 3400}}}};
  EXPECT_EQ(RenderDrillTimelineSvg(summary), svg);
  for (const json& nothing : {json::object(), json(), json("x"), json{{"timeline", 3}}}) {
    EXPECT_EQ(RenderDrillTimelineSvg(nothing), "") << nothing.dump();
  }
  ExpectSelfContained("<!DOCTYPE html><style>" + std::string(DrillPageCss()) + "</style>");
}

TEST(DrillReportHtmlTest, OneEventGetsOneMarkerOnAnAxis) {
  json report = FullReport();
  report["timeline"] = {Event("drill-started", "disaster", 0)};
  report["measured"]["rtoMs"] = nullptr;
  const std::string html = RenderDrillReportHtml(report);
  EXPECT_EQ(CountOf(html, "<circle"), 1u);
  EXPECT_EQ(html.find("class=\"band\""), std::string::npos);
  EXPECT_NE(html.find(">1. drill-started</text>"), std::string::npos);
  EXPECT_NE(html.find("text-anchor=\"middle\">0</text>"), std::string::npos);
  ExpectWellFormed(html);
}

TEST(DrillReportHtmlTest, NoEventsButAnRtoStillDrawsTheBand) {
  json report = FullReport();
  report["timeline"] = json::array();
  const std::string html = RenderDrillReportHtml(report);
  EXPECT_EQ(CountOf(html, "<circle"), 0u);
  EXPECT_NE(html.find(">RTO 3.4 s</text>"), std::string::npos);
  EXPECT_NE(html.find("No timeline events were recorded."), std::string::npos);
  ExpectWellFormed(html);
}

TEST(DrillReportHtmlTest, EventsAtTheSameInstantStackInsteadOfOverlapping) {
  json report = FullReport();
  report["timeline"] = json::array();
  for (int i = 0; i < 12; ++i) {
    report["timeline"].push_back(Event("step-" + std::to_string(i), "recovery", 0));
  }
  const std::string html = RenderDrillReportHtml(report);
  EXPECT_EQ(CountOf(html, "<circle"), 12u);
  const auto positions = EventLabelPositions(html);
  ASSERT_EQ(positions.size(), 12u);
  std::set<double> rows;
  for (const auto& [x, y] : positions) rows.insert(y);
  EXPECT_EQ(rows.size(), 12u) << "every label on its own row";
  ExpectWellFormed(html);
}

TEST(DrillReportHtmlTest, FiftyEventsShareRowsWithoutOverlapping) {
  json report = FullReport();
  report["timeline"] = json::array();
  const char* phases[] = {"disaster", "detection",    "promotion", "traffic",
                          "recovery", "verification", "teardown",  "mystery"};
  for (int64_t i = 0; i < 50; ++i) {
    report["timeline"].push_back(
        Event("event-number-" + std::to_string(i), phases[i % 8], i * 1300));
  }
  const std::string html = RenderDrillReportHtml(report);
  EXPECT_EQ(CountOf(html, "<circle"), 50u);
  EXPECT_NE(html.find(">other</li>"), std::string::npos);  // "mystery" is grey, and in the legend
  const auto positions = EventLabelPositions(html);
  ASSERT_EQ(positions.size(), 50u);
  // Labels on one row are left to right and at least a label's width apart
  // (each is ~18 characters wide at most ~6.3 units a character).
  std::map<double, std::vector<double>> rows;
  for (const auto& [x, y] : positions) rows[y].push_back(x);
  EXPECT_LT(rows.size(), 50u) << "labels that fit share a row";
  for (auto& [y, xs] : rows) {
    std::sort(xs.begin(), xs.end());
    for (size_t i = 1; i < xs.size(); ++i) EXPECT_GT(xs[i] - xs[i - 1], 100) << "row at y=" << y;
  }
  ExpectSelfContained(html);
  ExpectWellFormed(html);
}

}  // namespace
}  // namespace ark::dr
