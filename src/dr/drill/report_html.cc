#include "dr/drill/report_html.h"

#include "dr/drill/html_text.h"
#include "dr/drill/tiers.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

namespace ark::dr {
namespace {

using nlohmann::json;

// Reading the report (it may come from a failed drill or a newer writer)
// and escaping its text: dr/drill/html_text.h, shared with the dashboard.
using html::ArrayMember;
using html::Bool;
using html::CodePoints;
using html::Escape;
using html::FormatCount;
using html::Integer;
using html::kDash;
using html::Member;
using html::Number;
using html::Text;
using html::Truncate;

template <typename... Args>
void Append(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

std::string Plural(size_t count, std::string_view noun) {
  return fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s");
}

std::string FormatTime(std::optional<int64_t> micros) {
  return micros ? FormatDrillTimeUtc(*micros) : std::string(kDash);
}

// ---------------------------------------------------------------------------
// Phases and verdicts: the only words that pick a colour, always from these
// fixed tables (never a class name made from report text).

struct PhaseStyle {
  std::string_view name;
  std::string_view color;
};
constexpr PhaseStyle kPhases[] = {
    {"disaster", "#d32f2f"}, {"detection", "#ef6c00"}, {"promotion", "#7b1fa2"},
    {"traffic", "#1976d2"},  {"recovery", "#2e7d32"},  {"verification", "#00897b"},
    {"teardown", "#757575"},
};
constexpr std::string_view kOtherPhaseColor = "#9e9e9e";
constexpr std::string_view kRtoBandColor = "#d32f2f";

std::string_view PhaseColor(std::string_view phase) {
  for (const PhaseStyle& style : kPhases) {
    if (style.name == phase) return style.color;
  }
  return kOtherPhaseColor;
}

bool KnownPhase(std::string_view phase) { return PhaseColor(phase) != kOtherPhaseColor; }

std::string_view VerdictClass(std::string_view verdict) { return DrillVerdictClass(verdict); }

void AppendPill(std::string& out, std::string_view css_class, std::string_view text) {
  Append(out, "<span class=\"pill {}\">{}</span>", css_class, Escape(text));
}

// ---------------------------------------------------------------------------
// The page, section by section.

constexpr std::string_view kStyle = R"css(
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--pass:#1a7f37;--fail:#cf222e}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0;display:flex;align-items:center;gap:12px;flex-wrap:wrap}
h2{font-size:17px;margin:32px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h2 .count{color:var(--muted);font-weight:normal;font-size:14px}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.kind{color:var(--muted);font-weight:normal}
.badge{font-size:13px;font-weight:700;letter-spacing:.06em;padding:3px 10px;border-radius:4px;color:#fff}
.badge.passed{background:var(--pass)}.badge.failed{background:var(--fail)}.badge.unknown{background:#6e7781}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:14px 0 0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}
.error,.note{margin:16px 0 0;padding:10px 14px;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}
.error{background:#ffebe9;border:1px solid #ff8182}.note{background:#fff8c5;border:1px solid #d4a72c}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px}
.figure{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:var(--soft)}
.figure .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.figure .value{font-size:22px;font-weight:600;margin-top:2px}
.figure .sub{color:var(--muted);font-size:12px;white-space:pre-line}
.figure.bad .value{color:var(--fail)}.figure.good .value{color:var(--pass)}
.figure.none .value{color:#8c959f;font-weight:400}
svg.timeline{display:block;width:100%;height:auto;border:1px solid var(--line);border-radius:8px;background:#fff}
svg.timeline text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--fg)}
svg.timeline .halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg.timeline .tick text{fill:var(--muted)}
svg.timeline .band text{fill:#b42318;font-weight:600}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 18px;padding:0;margin:10px 0 0;color:var(--muted);font-size:13px}
.swatch{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:6px;vertical-align:-1px}
.swatch.band{border-radius:2px;background:rgba(211,47,47,.15);border:1px solid rgba(211,47,47,.5)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.bad{color:var(--fail);font-weight:600}
tr.failed td{background:#fff5f5}
td ul{margin:0;padding-left:16px}
.pill{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.pill.pass{background:#dafbe1;color:#116329}.pill.fail{background:#ffebe9;color:#a40e26}
.pill.none{background:#eaeef2;color:#57606a}.pill.unmeasured{background:#fff8c5;color:#7d4e00}
.pill.other{background:#eaeef2;color:#57606a}
.verdict{display:flex;flex-direction:column;gap:3px;white-space:nowrap}
.verdict .what{display:inline-block;width:30px;color:var(--muted);font-size:12px}
details summary{cursor:pointer;color:var(--muted);margin:14px 0 8px}
.empty{color:var(--muted);font-style:italic}
footer{margin-top:40px;color:var(--muted);font-size:12px}
)css";

std::string_view BadgeClass(const json& report) {
  const std::optional<bool> passed = Bool(report, "passed");
  if (passed.value_or(false)) return "passed";
  if (passed || !Text(report, "error").empty()) return "failed";
  return "unknown";
}

void AppendHead(std::string& out, const json& report) {
  const std::string_view badge = BadgeClass(report);
  const std::string scenario = Text(report, "scenario");
  Append(out,
         "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>Ark drill {} — {}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n",
         Escape(scenario.empty() ? "report" : scenario), badge, kStyle);
}

void AppendMetaRow(std::string& out, std::string_view name, std::string_view escaped_value) {
  Append(out, "<dt>{}</dt><dd>{}</dd>\n", name, escaped_value);
}

// Warnings about the document itself: not a report, or a version this page
// was not written for (rendered anyway, as far as the keys allow).
void AppendFormatNotes(std::string& out, const json& report) {
  if (!report.is_object()) {
    Append(out, "<p class=\"note\">This is not a drill report: the document is a JSON {}.</p>\n",
           Escape(report.type_name()));
    return;
  }
  const std::string format = Text(report, "format");
  const std::optional<int64_t> version = Integer(report, "version");
  if (!format.empty() && format != "ark-drill-report") {
    Append(out,
           "<p class=\"note\">The document says its format is “{}”, not “ark-drill-report”.</p>\n",
           Escape(format));
  }
  if (version && *version != 1) {
    Append(
        out,
        "<p class=\"note\">Written as format version {}; this page reads version 1 and shows what "
        "it recognises.</p>\n",
        *version);
  }
}

void AppendHeader(std::string& out, const json& report) {
  const std::string_view badge = BadgeClass(report);
  const std::string scenario = Text(report, "scenario");
  Append(out, "<header>\n<h1><span><span class=\"kind\">Drill</span> {}</span>",
         scenario.empty() ? std::string(kDash) : Escape(scenario));
  Append(out, "<span class=\"badge {}\" title=\"{}\">{}</span></h1>\n", badge,
         badge == "passed"   ? "Every check passed and no collection failed its targets"
         : badge == "failed" ? "A check or a collection verdict failed, or the drill did not finish"
                             : "The report does not say whether the drill passed",
         badge == "passed"   ? "PASSED"
         : badge == "failed" ? "FAILED"
                             : "UNKNOWN");
  const std::optional<int64_t> started = Integer(report, "startedMicros");
  const std::optional<int64_t> finished = Integer(report, "finishedMicros");
  std::optional<double> took;
  if (started && finished) {
    took = (static_cast<double>(*finished) - static_cast<double>(*started)) / 1000;
  }
  out += "<dl class=\"meta\">\n";
  const std::string id = Text(report, "id");
  AppendMetaRow(out, "ID", id.empty() ? std::string(kDash) : "<code>" + Escape(id) + "</code>");
  AppendMetaRow(out, "Started", Escape(FormatTime(started)));
  AppendMetaRow(out, "Finished", Escape(FormatTime(finished)));
  AppendMetaRow(out, "Took", Escape(FormatDrillDuration(took)));
  const std::string ark_version = Text(report, "arkVersion");
  AppendMetaRow(out, "Ark version", ark_version.empty() ? std::string(kDash) : Escape(ark_version));
  out += "</dl>\n";
  const std::string error = Text(report, "error");
  if (!error.empty()) {
    Append(out, "<div class=\"error\"><strong>Error:</strong> {}</div>\n", Escape(error));
  }
  AppendFormatNotes(out, report);
  out += "</header>\n";
}

// One figure card. `tone` is "good", "bad", "none" or "".
void AppendFigure(std::string& out, std::string_view label, const std::string& value,
                  std::string_view hint, std::string_view sub, std::string_view tone) {
  Append(out, "<div class=\"figure {}\" title=\"{}\"><div class=\"label\">{}</div>", tone,
         Escape(hint), Escape(label));
  Append(out, "<div class=\"value\">{}</div>", Escape(value));
  if (!sub.empty()) Append(out, "<div class=\"sub\">{}</div>", Escape(sub));
  out += "</div>\n";
}

void AppendDurationFigure(std::string& out, const json& measured, const char* key,
                          std::string_view label, std::string_view hint,
                          std::string_view sub = "") {
  const std::optional<double> ms = Number(measured, key);
  AppendFigure(out, label, FormatDrillDuration(ms), hint, sub, ms ? "" : "none");
}

void AppendMeasured(std::string& out, const json& report) {
  const json& measured = Member(report, "measured");
  out += "<section>\n<h2>Measured</h2>\n<div class=\"figures\">\n";
  const std::string rto_parts =
      fmt::format("search {}\nwrite {}", FormatDrillDuration(Number(measured, "rtoSearchMs")),
                  FormatDrillDuration(Number(measured, "rtoWriteMs")));
  AppendDurationFigure(
      out, measured, "rtoMs", "RTO",
      "Recovery time: disaster to service restored (the later of the first correct "
      "search and the first accepted write)",
      rto_parts);
  AppendDurationFigure(out, measured, "rpoMs", "RPO",
                       "Recovery point: the span of acknowledged data the recovered copy lacks");
  AppendDurationFigure(out, measured, "restoreMs", "Restore",
                       "Restore start to the restored data being open");
  AppendDurationFigure(out, measured, "detectionMs", "Detection",
                       "Disaster to the failure being detected");
  AppendDurationFigure(out, measured, "promotionMs", "Promotion",
                       "Detection to a standby being promoted");
  const std::optional<int64_t> lost = Integer(measured, "lostMarkers");
  AppendFigure(out, "Lost markers", FormatCount(lost),
               "Acknowledged probe markers missing after recovery", "",
               !lost       ? "none"
               : *lost > 0 ? "bad"
                           : "good");
  out += "</div>\n</section>\n";
}

// ---------------------------------------------------------------------------
// The timeline.

struct TimelineEvent {
  int number = 0;  // 1-based position in the report's timeline
  std::string name;
  std::string phase;
  std::string detail;
  std::optional<int64_t> at_micros;
  double since_start_ms = 0;  // where it is drawn
  bool time_known = true;     // false: since_start_ms is borrowed from the event before
};

std::vector<TimelineEvent> ReadTimeline(const json& report) {
  const std::optional<int64_t> started = Integer(report, "startedMicros");
  std::vector<TimelineEvent> events;
  double previous_ms = 0;
  for (const json& entry : ArrayMember(report, "timeline")) {
    if (!entry.is_object()) continue;
    TimelineEvent event;
    event.number = static_cast<int>(events.size()) + 1;
    event.name = Text(entry, "event");
    event.phase = Text(entry, "phase");
    event.detail = Text(entry, "detail");
    event.at_micros = Integer(entry, "atMicros");
    std::optional<double> since = Number(entry, "sinceStartMs");
    if (!since && event.at_micros && started) {
      since = (static_cast<double>(*event.at_micros) - static_cast<double>(*started)) / 1000;
    }
    event.time_known = since.has_value();
    // Up to ~300 years: beyond that the axis arithmetic means nothing anyway.
    event.since_start_ms = since ? std::clamp(*since, -1e13, 1e13) : previous_ms;
    previous_ms = event.since_start_ms;
    events.push_back(std::move(event));
  }
  return events;
}

// Geometry of the SVG, in its own user units.
constexpr double kSvgWidth = 1100;
constexpr double kPlotLeft = 36;
constexpr double kPlotRight = kSvgWidth - 56;
constexpr double kTop = 34;  // room for the RTO band's label
constexpr double kTopWithoutBand = 14;
constexpr double kRowHeight = 18;   // one row of event labels
constexpr double kAxisGap = 16;     // lowest label row to the axis
constexpr double kCharWidth = 6.9;  // rough advance of a 12px sans-serif character
constexpr double kLabelGap = 10;
constexpr size_t kLabelChars = 34;

struct TimeAxis {
  double end_ms = 1000;
  double step_ms = 200;
  double X(double ms) const {
    return kPlotLeft + std::clamp(ms, 0.0, end_ms) / end_ms * (kPlotRight - kPlotLeft);
  }
};

// The axis runs from 0 to the last moment shown, with at most 8 round steps.
TimeAxis ChooseAxis(double end_ms) {
  TimeAxis axis;
  axis.end_ms = end_ms > 0 ? end_ms : 1000;  // all at 0 ms: a one-second axis
  constexpr double kSteps[] = {1,      2,      5,       10,      20,      50,     100,
                               200,    500,    1e3,     2e3,     5e3,     10e3,   15e3,
                               30e3,   60e3,   120e3,   300e3,   600e3,   900e3,  1800e3,
                               3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3};
  for (double step : kSteps) {
    axis.step_ms = step;
    if (axis.end_ms / step <= 8) return axis;
  }
  while (axis.end_ms / axis.step_ms > 8) axis.step_ms *= 10;  // days: 10 d, 100 d, ...
  return axis;
}

struct EventLabel {
  std::string text;
  double x = 0;  // the marker's x
  int row = 0;   // 0 is nearest the axis
  bool anchor_end = false;
};

// Greedy rows: each label, left to right, goes into the lowest row where it
// does not touch the label before it. Events at the same instant stack up.
std::vector<EventLabel> PlaceLabels(const std::vector<TimelineEvent>& events, const TimeAxis& axis,
                                    int* rows) {
  std::vector<size_t> order(events.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&events](size_t a, size_t b) {
    return events[a].since_start_ms < events[b].since_start_ms;
  });
  std::vector<EventLabel> labels(events.size());
  std::vector<double> row_ends;
  for (size_t index : order) {
    EventLabel& label = labels[index];
    const std::string name = events[index].name.empty() ? "(unnamed)" : events[index].name;
    label.text = fmt::format("{}. {}", events[index].number, Truncate(name, kLabelChars));
    label.x = axis.X(events[index].since_start_ms);
    const double width = static_cast<double>(CodePoints(label.text)) * kCharWidth + 4;
    label.anchor_end = label.x + width > kSvgWidth - 4;
    const double left = label.anchor_end ? label.x - width : label.x;
    size_t row = 0;
    while (row < row_ends.size() && row_ends[row] + kLabelGap > left) ++row;
    if (row == row_ends.size()) row_ends.push_back(0);
    row_ends[row] = left + width;
    label.row = static_cast<int>(row);
  }
  *rows = static_cast<int>(row_ends.size());
  return labels;
}

std::string Fixed(double value) { return fmt::format("{:.1f}", value); }

void AppendRtoBand(std::string& out, const TimeAxis& axis, double rto_ms, double axis_y) {
  const double x0 = axis.X(0);
  const double x1 = std::max(axis.X(rto_ms), x0 + 1);
  const std::string rto = Escape(FormatDrillDuration(rto_ms));
  Append(out, "<g class=\"band\"><title>RTO {}: disaster to service restored</title>\n", rto);
  Append(out,
         "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.08\"/>\n",
         Fixed(x0), Fixed(kTop - 12), Fixed(x1 - x0), Fixed(axis_y - kTop + 12), kRtoBandColor);
  Append(out,
         "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\" stroke-opacity=\"0.6\" "
         "stroke-dasharray=\"4 3\"/>\n",
         Fixed(x1), Fixed(kTop - 12), Fixed(axis_y), kRtoBandColor);
  const bool label_left = x1 - x0 > 90;
  Append(out, "<text class=\"halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">RTO {}</text>\n</g>\n",
         Fixed(label_left ? x1 - 4 : x1 + 4), Fixed(kTop - 16), label_left ? "end" : "start", rto);
}

void AppendAxis(std::string& out, const TimeAxis& axis, double axis_y) {
  out += "<g class=\"tick\"><title>Time since the drill started</title>\n";
  Append(out, "<line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\" stroke=\"#8c959f\"/>\n",
         Fixed(axis.X(0)), Fixed(axis.X(axis.end_ms)), Fixed(axis_y));
  const int ticks = static_cast<int>(std::floor(axis.end_ms / axis.step_ms + 1e-9));
  for (int i = 0; i <= ticks; ++i) {
    const double x = axis.X(i * axis.step_ms);
    Append(out, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#8c959f\"/>", Fixed(x),
           Fixed(axis_y), Fixed(axis_y + 5));
    Append(out, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", Fixed(x),
           Fixed(axis_y + 18), i == 0 ? "0" : Escape(FormatDrillDuration(i * axis.step_ms)));
  }
  out += "</g>\n";
}

std::string EventTitle(const TimelineEvent& event) {
  std::string title = fmt::format("{}. {}\n{} · ", event.number, event.name,
                                  event.phase.empty() ? "no phase" : event.phase);
  title += event.time_known ? "+" + FormatDrillDuration(event.since_start_ms) : "time not recorded";
  if (event.at_micros) title += " · " + FormatDrillTimeUtc(*event.at_micros);
  if (!event.detail.empty()) title += "\n" + event.detail;
  return Escape(title);
}

void AppendEventMarker(std::string& out, const TimelineEvent& event, const EventLabel& label,
                       double axis_y) {
  const std::string_view color = PhaseColor(event.phase);
  const double text_y = axis_y - kAxisGap - label.row * kRowHeight;
  Append(out, "<g class=\"event\"><title>{}</title>\n", EventTitle(event));
  Append(out,
         "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\" "
         "stroke-opacity=\"0.45\"/>\n",
         Fixed(label.x), Fixed(text_y + 3), Fixed(axis_y), color);
  Append(out,
         "<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"1.5\"/>\n",
         Fixed(label.x), Fixed(axis_y), color);
  Append(out, "<text class=\"halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>\n</g>\n",
         Fixed(label.anchor_end ? label.x - 2 : label.x + 2), Fixed(text_y),
         label.anchor_end ? "end" : "start", Escape(label.text));
}

void AppendTimelineSvg(std::string& out, const std::vector<TimelineEvent>& events,
                       std::optional<double> rto_ms) {
  double end_ms = 0;
  for (const TimelineEvent& event : events) end_ms = std::max(end_ms, event.since_start_ms);
  if (rto_ms && *rto_ms > 0) end_ms = std::max(end_ms, std::min(*rto_ms, 1e13));
  const TimeAxis axis = ChooseAxis(end_ms);
  int rows = 0;
  const std::vector<EventLabel> labels = PlaceLabels(events, axis, &rows);
  const bool band = rto_ms && *rto_ms > 0;
  const double top = band ? kTop : kTopWithoutBand;
  const double axis_y = top + std::max(rows, 1) * kRowHeight + kAxisGap - 4;
  const double height = axis_y + 30;
  Append(
      out,
      "<svg class=\"timeline\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" role=\"img\" "
      "aria-label=\"Timeline of {2}\">\n<title>Timeline: {2} over {3}</title>\n",
      Fixed(kSvgWidth), Fixed(height), Plural(events.size(), "event"),
      Escape(FormatDrillDuration(end_ms)));
  if (band) AppendRtoBand(out, axis, *rto_ms, axis_y);
  AppendAxis(out, axis, axis_y);
  for (size_t i = 0; i < events.size(); ++i) AppendEventMarker(out, events[i], labels[i], axis_y);
  out += "</svg>\n";
}

void AppendLegend(std::string& out, const std::vector<TimelineEvent>& events, bool rto_band) {
  const auto present = [&events](std::string_view phase) {
    return std::any_of(events.begin(), events.end(),
                       [phase](const TimelineEvent& e) { return e.phase == phase; });
  };
  const bool other = std::any_of(events.begin(), events.end(),
                                 [](const TimelineEvent& e) { return !KnownPhase(e.phase); });
  out += "<ul class=\"legend\">\n";
  for (const PhaseStyle& style : kPhases) {
    if (!present(style.name)) continue;
    Append(out,
           "<li title=\"Events in the {0} phase\"><span class=\"swatch\" "
           "style=\"background:{1}\"></span>{0}</li>\n",
           style.name, style.color);
  }
  if (other) {
    Append(out,
           "<li title=\"Events with a phase this page does not know\"><span class=\"swatch\" "
           "style=\"background:{}\"></span>other</li>\n",
           kOtherPhaseColor);
  }
  if (rto_band) {
    out +=
        "<li title=\"From the disaster to service restored\"><span class=\"swatch "
        "band\"></span>RTO</li>\n";
  }
  out += "</ul>\n";
}

void AppendEventTable(std::string& out, const std::vector<TimelineEvent>& events) {
  Append(out, "<details open><summary>{}</summary>\n<table>\n",
         events.size() == 1 ? "The event" : "All " + Plural(events.size(), "event"));
  out +=
      "<tr><th>#</th><th>Since start</th><th>At "
      "(UTC)</th><th>Phase</th><th>Event</th><th>Detail</th></tr>\n";
  for (const TimelineEvent& event : events) {
    Append(out, "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>", event.number,
           event.time_known ? Escape("+" + FormatDrillDuration(event.since_start_ms))
                            : std::string(kDash),
           Escape(FormatTime(event.at_micros)));
    Append(out, "<td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>",
           PhaseColor(event.phase), event.phase.empty() ? std::string(kDash) : Escape(event.phase));
    Append(out, "<td><code>{}</code></td><td>{}</td></tr>\n", Escape(event.name),
           Escape(event.detail));
  }
  out += "</table>\n</details>\n";
}

// The SVG and its legend; nothing when there is nothing to draw (no events
// and no RTO band). Returns whether it drew.
bool AppendTimelineFigure(std::string& out, const std::vector<TimelineEvent>& events,
                          const json& report) {
  const std::optional<double> rto_ms = Number(Member(report, "measured"), "rtoMs");
  const bool band = rto_ms && *rto_ms > 0;
  if (events.empty() && !band) return false;
  AppendTimelineSvg(out, events, rto_ms);
  AppendLegend(out, events, band);
  return true;
}

void AppendTimeline(std::string& out, const json& report) {
  const std::vector<TimelineEvent> events = ReadTimeline(report);
  Append(out, "<section>\n<h2>Timeline <span class=\"count\">{}</span></h2>\n",
         Plural(events.size(), "event"));
  if (!AppendTimelineFigure(out, events, report)) {
    out += "<p class=\"empty\">No timeline events were recorded.</p>\n</section>\n";
    return;
  }
  if (events.empty()) {
    out += "<p class=\"empty\">No timeline events were recorded.</p>\n";
  } else {
    AppendEventTable(out, events);
  }
  out += "</section>\n";
}

// ---------------------------------------------------------------------------
// Collections, checks and the source.

void AppendVerdict(std::string& out, const json& verdict) {
  out += "<td><div class=\"verdict\">";
  if (verdict.is_string()) {
    AppendPill(out, VerdictClass(Text(verdict)), Text(verdict));
  } else if (verdict.is_object()) {
    for (const auto& [key, what] : {std::pair{"rto", "RTO"}, std::pair{"rpo", "RPO"}}) {
      const std::string value = Text(verdict, key);
      Append(out, "<span><span class=\"what\">{}</span>", what);
      AppendPill(out, value.empty() ? "other" : VerdictClass(value), value.empty() ? kDash : value);
      out += "</span>";
    }
  } else {
    out += kDash;
  }
  out += "</div></td>";
}

void AppendReasons(std::string& out, const json& reasons) {
  if (reasons.is_array() && !reasons.empty()) {
    out += "<td><ul>";
    for (const json& reason : reasons) Append(out, "<li>{}</li>", Escape(Text(reason)));
    out += "</ul></td>";
  } else if (!reasons.is_array() && !reasons.is_null()) {
    Append(out, "<td>{}</td>", Escape(Text(reasons)));
  } else {
    out += "<td></td>";
  }
}

bool VerdictFailed(const json& verdict) {
  if (verdict.is_string()) return Text(verdict) == "fail";
  return Text(verdict, "rto") == "fail" || Text(verdict, "rpo") == "fail";
}

void AppendCollectionRow(std::string& out, const json& collection) {
  const json& verdict = Member(collection, "verdict");
  const json& targets = Member(collection, "targets");
  const std::string database = Text(collection, "database");
  const std::string name = Text(collection, "name");
  const std::string full = database.empty() ? name : database + "." + name;
  Append(out, "<tr{}><td><code>{}</code></td>", VerdictFailed(verdict) ? " class=\"failed\"" : "",
         full.empty() ? std::string(kDash) : Escape(full));
  // Failover drills: rows and sample searches before the disaster against
  // after; restore-check: the backup's record against the restored copy.
  const bool before_after = collection.is_object() && collection.contains("sampleSearches");
  const std::optional<int64_t> expected = Integer(collection, before_after ? "rowsBefore" : "expectedRows");
  const std::optional<int64_t> rows = Integer(collection, "rows");
  Append(out, "<td class=\"num\">{}</td><td class=\"num{}\">{}</td>", FormatCount(expected),
         expected && rows && *expected != *rows ? " bad" : "", FormatCount(rows));
  const std::optional<int64_t> samples = Integer(collection, before_after ? "sampleSearches" : "samples");
  const std::optional<int64_t> found = Integer(collection, before_after ? "sampleSearchesSame" : "samplesFound");
  Append(out, "<td class=\"num{}\">{} / {}</td>",
         samples && found && *found < *samples ? " bad" : "", FormatCount(found),
         FormatCount(samples));
  const std::optional<bool> same = Bool(collection, "contentMatches");
  Append(out, "<td>{}</td>",
         !same   ? std::string(kDash)
         : *same ? "<span class=\"pill pass\">same checksum</span>"
                 : "<span class=\"pill fail\">differs</span>");
  Append(out, "<td title=\"{0}\">{1}</td><td title=\"{0}\">{2}</td>",
         Escape(Text(targets, "source")), TargetCellHtml(targets, "rtoTier", "rtoTargetMs"),
         TargetCellHtml(targets, "rpoTier", "rpoTargetMs"));
  AppendVerdict(out, verdict);
  AppendReasons(out, Member(verdict, "reasons"));
  out += "</tr>\n";
}

void AppendCollections(std::string& out, const json& report) {
  const json& collections = ArrayMember(report, "collections");
  Append(out, "<section>\n<h2>Collections <span class=\"count\">{}</span></h2>\n",
         collections.size());
  if (collections.empty()) {
    out += "<p class=\"empty\">No collections were recorded.</p>\n</section>\n";
    return;
  }
  out +=
      "<table>\n<tr><th>Collection</th><th>Expected rows</th><th>Rows</th><th>Samples found</th>"
      "<th>Content</th><th>RTO tier · target</th><th>RPO tier · target</th><th>Verdict</th><th>Reasons</th></tr>\n";
  for (const json& collection : collections) AppendCollectionRow(out, collection);
  out += "</table>\n</section>\n";
}

void AppendChecks(std::string& out, const json& report) {
  const json& checks = ArrayMember(report, "checks");
  size_t failed = 0;
  for (const json& check : checks) failed += Bool(check, "passed") == false ? 1 : 0;
  Append(out, "<section>\n<h2>Checks <span class=\"count\">{} passed, {} failed</span></h2>\n",
         checks.size() - failed, failed);
  if (checks.empty()) {
    out += "<p class=\"empty\">No checks were recorded.</p>\n</section>\n";
    return;
  }
  out += "<table>\n<tr><th>Check</th><th>Result</th><th>Detail</th></tr>\n";
  for (const json& check : checks) {
    const std::optional<bool> passed = Bool(check, "passed");
    Append(out, "<tr{}><td><code>{}</code></td><td>", passed == false ? " class=\"failed\"" : "",
           Escape(Text(check, "name")));
    AppendPill(out,
               !passed   ? "other"
               : *passed ? "pass"
                         : "fail",
               !passed   ? kDash
               : *passed ? "passed"
                         : "failed");
    Append(out, "</td><td>{}</td></tr>\n", Escape(Text(check, "detail")));
  }
  out += "</table>\n</section>\n";
}

std::string SourceText(const json& source, const char* key) {
  const std::string text = Text(source, key);
  return text.empty() ? std::string(kDash) : "<code>" + Escape(text) + "</code>";
}

void AppendSource(std::string& out, const json& report) {
  const json& source = Member(report, "source");
  out += "<section>\n<h2>Source</h2>\n";
  if (!source.is_object()) {
    out +=
        "<p class=\"empty\">The report does not say what the drill recovered "
        "from.</p>\n</section>\n";
    return;
  }
  out += "<dl class=\"meta\">\n";
  AppendMetaRow(out, "Repository", SourceText(source, "repo"));
  AppendMetaRow(out, "Backup", SourceText(source, "backup"));
  AppendMetaRow(out, "Backup position", SourceText(source, "backupPosition"));
  AppendMetaRow(out, "Backup time", Escape(FormatTime(Integer(source, "backupTimeMicros"))));
  const json& point = Member(source, "pointInTime");
  const std::string point_text = Text(point);
  AppendMetaRow(out, "Point in time",
                point.is_null()          ? std::string(kDash)
                : point_text.empty()     ? std::string("none (a plain backup restore)")
                : point_text == "latest" ? std::string("latest (<code>--to-latest</code>)")
                                         : "<code>" + Escape(point_text) + "</code>");
  AppendMetaRow(out, "Reached position", SourceText(source, "reachedPosition"));
  AppendMetaRow(out, "Reached time", Escape(FormatTime(Integer(source, "reachedTimeMicros"))));
  out += "</dl>\n</section>\n";
}

void AppendFooter(std::string& out, const json& report) {
  const std::optional<int64_t> version = Integer(report, "version");
  Append(
      out,
      "<footer>Ark drill report, format <code>{}</code> version {}. Times are UTC; hover over the "
      "timeline for each event's detail.</footer>\n</main>\n</body>\n</html>\n",
      Escape(Text(report, "format")), version ? std::to_string(*version) : std::string(kDash));
}

}  // namespace

std::string_view DrillPageCss() { return kStyle; }

std::string_view DrillVerdictClass(std::string_view verdict) {
  if (verdict == "pass") return "pass";
  if (verdict == "fail") return "fail";
  if (verdict == "no-target") return "none";
  if (verdict == "not-measured") return "unmeasured";
  return "other";
}

std::string RenderDrillTimelineSvg(const nlohmann::json& report) {
  std::string out;
  try {
    AppendTimelineFigure(out, ReadTimeline(report), report);
  } catch (const nlohmann::json::exception&) {
    out.clear();  // as RenderDrillReportHtml: the readers are written not to throw
  }
  return out;
}

std::string FormatDrillDuration(std::optional<double> ms) {
  if (!ms || !std::isfinite(*ms)) return std::string(kDash);
  if (*ms < 0) return "-" + FormatDrillDuration(-*ms);
  // One format for the page, the Markdown report and the verdicts' reasons.
  return FormatDuration(static_cast<uint64_t>(std::min(*ms, 1e15)));
}

std::string FormatDrillTimeUtc(int64_t micros) {
  const auto floor_div = [](int64_t a, int64_t b) {
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
  };
  const int64_t millis_total = floor_div(micros, 1000);
  const int64_t seconds_total = floor_div(millis_total, 1000);
  const int64_t millis = millis_total - seconds_total * 1000;
  int64_t days = floor_div(seconds_total, 86'400);
  const int64_t second_of_day = seconds_total - days * 86'400;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian).
  days += 719'468;
  const int64_t era = floor_div(days, 146'097);
  const int64_t day_of_era = days - era * 146'097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_index = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
  const int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  std::string text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", year, month, day,
                                 second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
  if (millis != 0) text += fmt::format(".{:03}", millis);
  return text + "Z";
}

std::string RenderDrillReportHtml(const nlohmann::json& report) {
  std::string out;
  try {
    AppendHead(out, report);
    AppendHeader(out, report);
    AppendMeasured(out, report);
    AppendTimeline(out, report);
    AppendCollections(out, report);
    AppendChecks(out, report);
    AppendSource(out, report);
    AppendFooter(out, report);
  } catch (const nlohmann::json::exception& e) {
    // The readers above are written not to throw; this is the module's edge
    // should one still do so: a page that says so beats no page.
    out =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Ark drill "
        "report</title>\n</head>\n<body>\n<p>This drill report could not be shown: " +
        Escape(e.what()) + "</p>\n</body>\n</html>\n";
  }
  return out;
}

std::string TargetCellHtml(const nlohmann::json& targets, const char* tier_key, const char* target_key) {
  using html::Bool;
  using html::Escape;
  using html::Number;
  using html::Text;
  const std::string tier = Text(targets, tier_key);
  const std::optional<double> target = Number(targets, target_key);
  if (tier.empty() && !target) return std::string(html::kDash);
  std::string cell = Escape(tier);
  // "rto" or "rpo" + "TargetCustom": a custom target is met at most at it.
  const std::string custom_key = std::string(tier_key).substr(0, 3) + "TargetCustom";
  const bool strict = (tier == "critical" || tier == "very-low") && !Bool(targets, custom_key.c_str()).value_or(false);
  if (target) cell += (cell.empty() ? "" : " · ") + std::string(strict ? "&lt; " : "≤ ") + Escape(FormatDrillDuration(target));
  return cell;
}

}  // namespace ark::dr
