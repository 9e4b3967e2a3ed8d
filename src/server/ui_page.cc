#include "server/ui_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "dr/drill/html_text.h"
#include "dr/drill/report_html.h"
#include "server/dr_alerts.h"

namespace ark::server {
namespace {

using dr::html::ArrayMember;
using dr::html::Bool;
using dr::html::Escape;
using dr::html::FormatCount;
using dr::html::Integer;
using dr::html::kDash;
using dr::html::Member;
using dr::html::Number;
using dr::html::Text;
using nlohmann::json;

template <typename... Args>
void Append(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

// ---------------------------------------------------------------------------
// Words and figures.

// The one page-wide reading of the document: its clock and the options.
struct Context {
  const json& doc;
  std::optional<int64_t> now_micros;
  const DashboardOptions& options;
};

std::string Duration(std::optional<double> ms) { return dr::FormatDrillDuration(ms); }

std::optional<double> SecondsAsMs(std::optional<double> seconds) {
  if (!seconds) return std::nullopt;
  return *seconds * 1000;
}

// "3 min ago", "in 2 h"; "" when either time is unknown.
std::string Relative(const Context& c, std::optional<int64_t> micros) {
  if (!c.now_micros || !micros) return "";
  const double ms = (static_cast<double>(*c.now_micros) - static_cast<double>(*micros)) / 1000;
  return ms >= 0 ? Duration(ms) + " ago" : "in " + Duration(-ms);
}

// Escaped: the UTC time, with how long ago under it.
std::string TimeHtml(const Context& c, std::optional<int64_t> micros) {
  if (!micros) return std::string(kDash);
  std::string out = "<span class=\"when\">" + Escape(dr::FormatDrillTimeUtc(*micros)) + "</span>";
  const std::string relative = Relative(c, micros);
  if (!relative.empty()) out += "<span class=\"sub\">" + Escape(relative) + "</span>";
  return out;
}

// 1536 as "1.5 KiB"; nullopt as "—".
std::string FormatBytes(std::optional<int64_t> bytes) {
  if (!bytes) return std::string(kDash);
  if (*bytes < 1024) return fmt::format("{} B", *bytes);
  double value = static_cast<double>(*bytes);
  const char* unit = "B";
  for (const char* next : {"KiB", "MiB", "GiB", "TiB"}) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return fmt::format("{:.1f} {}", value, unit);
}

std::string CodeOrDash(const std::string& text) {
  return text.empty() ? std::string(kDash) : "<code>" + Escape(text) + "</code>";
}

std::string TextOrDash(const std::string& text) {
  return text.empty() ? std::string(kDash) : Escape(text);
}

// Colours, always from this fixed set (never a class name made from
// document text); the pill classes are the drill report's.
enum class Tone { kGood, kWarn, kBad, kNeutral };

std::string_view PillClass(Tone tone) {
  switch (tone) {
    case Tone::kGood:
      return "pass";
    case Tone::kWarn:
      return "unmeasured";
    case Tone::kBad:
      return "fail";
    case Tone::kNeutral:
      return "none";
  }
  return "other";
}

std::string_view FigureClass(Tone tone) {
  switch (tone) {
    case Tone::kGood:
      return "good";
    case Tone::kWarn:
      return "warn";
    case Tone::kBad:
      return "bad";
    case Tone::kNeutral:
      return "none";
  }
  return "";
}

std::string Pill(Tone tone, std::string_view text) {
  return fmt::format("<span class=\"pill {}\">{}</span>", PillClass(tone), Escape(text));
}

Tone ArchiveStateTone(const std::string& state) {
  if (state == "archiving") return Tone::kGood;
  if (state == "stopped") return Tone::kBad;
  if (state == "retrying") return Tone::kWarn;
  return Tone::kNeutral;
}

// The escaped link to a drill's report page, or nullopt when its id is not
// a string that may name one.
std::optional<std::string> ReportHref(const Context& c, const json& drill) {
  const json& value = Member(drill, "id");
  if (!value.is_string()) return std::nullopt;
  const std::string& id = value.get_ref<const std::string&>();
  if (!IsValidDrillId(id)) return std::nullopt;
  std::string href = "ui/drills/" + id + "/report.html";
  if (!c.options.link_query.empty()) href += "?" + c.options.link_query;
  return Escape(href);
}

// ---------------------------------------------------------------------------
// The page: head and header.

constexpr std::string_view kDashboardStyle = R"css(
header h1 .role{font-weight:700}
.badge.healthy{background:var(--pass)}.badge.warning{background:#9a6700}.badge.critical{background:var(--fail)}
.badge.small{font-size:11px;padding:1px 7px;letter-spacing:.04em}
ul.alerts{list-style:none;padding:0;margin:16px 0 0;display:flex;flex-direction:column;gap:6px}
ul.alerts li{padding:8px 12px;border-radius:6px;overflow-wrap:anywhere}
ul.alerts li.critical{background:#ffebe9;border:1px solid #ff8182}
ul.alerts li.warning{background:#fff8c5;border:1px solid #d4a72c}
p.allgood{margin:16px 0 0;padding:8px 12px;border-radius:6px;background:#dafbe1;border:1px solid #4ac26b}
.figure.warn .value{color:#9a6700}
td .sub,dd .sub{display:block;color:var(--muted);font-size:12px}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:0 36px}
.columns>section{min-width:0}
section.summary{margin-top:18px}
.figures{grid-template-columns:repeat(auto-fit,minmax(180px,1fr))}
h3{font-size:15px;margin:22px 0 10px;display:flex;align-items:center;gap:10px;flex-wrap:wrap}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
td .pill{margin:1px 4px 1px 0}
.when{white-space:nowrap}
)css";

std::string_view HealthBadge(const json& doc, const std::vector<DrAlert>& alerts) {
  if (!doc.is_object() || Text(doc, "role").empty()) return "unknown";
  if (alerts.empty()) return "healthy";
  return alerts.front().severity == DrAlertSeverity::kCritical ? "critical" : "warning";
}

std::string Upper(std::string_view word) {
  std::string out(word);
  for (char& ch : out) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
  return out;
}

void AppendHead(std::string& out, const Context& c, std::string_view health) {
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  if (c.options.refresh_seconds > 0) {
    Append(out, "<meta http-equiv=\"refresh\" content=\"{}\">\n", c.options.refresh_seconds);
  }
  const std::string role = Text(c.doc, "role");
  Append(out, "<title>Ark {} — {}</title>\n<style>{}{}</style>\n</head>\n<body>\n<main>\n",
         Escape(role.empty() ? "DR status" : role), health, dr::DrillPageCss(), kDashboardStyle);
}

void AppendMetaRow(std::string& out, std::string_view name, const std::string& escaped_value) {
  Append(out, "<dt>{}</dt><dd>{}</dd>\n", name, escaped_value);
}

void AppendDocumentNotes(std::string& out, const json& doc) {
  if (!doc.is_object()) {
    Append(out, "<p class=\"note\">This is not a DR status document: it is a JSON {}.</p>\n",
           Escape(doc.type_name()));
    return;
  }
  const std::string format = Text(doc, "format");
  const std::optional<int64_t> version = Integer(doc, "version");
  if (!format.empty() && format != "ark-dr-status") {
    Append(out,
           "<p class=\"note\">The document says its format is “{}”, not “ark-dr-status”.</p>\n",
           Escape(format));
  }
  if (version && *version != 1) {
    Append(out,
           "<p class=\"note\">Written as format version {}; this page reads version 1 and shows "
           "what it recognises.</p>\n",
           *version);
  }
}

void AppendAlerts(std::string& out, const std::vector<DrAlert>& alerts, std::string_view health) {
  if (health == "unknown") return;
  if (alerts.empty()) {
    out += "<p class=\"allgood\">Nothing needs attention.</p>\n";
    return;
  }
  out += "<ul class=\"alerts\">\n";
  for (const DrAlert& alert : alerts) {
    const bool critical = alert.severity == DrAlertSeverity::kCritical;
    Append(out, "<li class=\"{}\"><strong>{}:</strong> {}</li>\n",
           critical ? "critical" : "warning", critical ? "Critical" : "Warning",
           Escape(alert.text));
  }
  out += "</ul>\n";
}

void AppendHeader(std::string& out, const Context& c, const std::vector<DrAlert>& alerts,
                  std::string_view health) {
  const json& server = Member(c.doc, "server");
  const std::string role = Text(c.doc, "role");
  Append(out,
         "<header>\n<h1><span class=\"kind\">Ark</span> <span class=\"role\" id=\"role\">{}</span> "
         "<span class=\"badge {}\" id=\"health\">{}</span></h1>\n<dl class=\"meta\">\n",
         TextOrDash(role), health, Upper(health));
  AppendMetaRow(out, "Server", CodeOrDash(Text(server, "url")));
  AppendMetaRow(out, "Epoch", TextOrDash(Text(c.doc, "epoch")));
  AppendMetaRow(out, "Last position", CodeOrDash(Text(c.doc, "lastPosition")));
  AppendMetaRow(out, "Data directory", CodeOrDash(Text(server, "dataDir")));
  AppendMetaRow(out, "Ark version", TextOrDash(Text(server, "arkVersion")));
  std::string as_of = c.now_micros ? Escape(dr::FormatDrillTimeUtc(*c.now_micros)) : "—";
  if (c.options.refresh_seconds > 0) {
    as_of +=
        fmt::format("<span class=\"sub\">refreshed every {} s</span>", c.options.refresh_seconds);
  }
  AppendMetaRow(out, "As of", as_of);
  out += "</dl>\n";
  AppendDocumentNotes(out, c.doc);
  AppendAlerts(out, alerts, health);
  out += "</header>\n";
}

// ---------------------------------------------------------------------------
// The figures across the top.

void AppendFigure(std::string& out, std::string_view id, std::string_view label,
                  const std::string& value, const std::string& sub, Tone tone) {
  Append(out,
         "<div class=\"figure {}\" id=\"figure-{}\"><div class=\"label\">{}</div>"
         "<div class=\"value\">{}</div>",
         FigureClass(tone), id, label, Escape(value));
  if (!sub.empty()) Append(out, "<div class=\"sub\">{}</div>", Escape(sub));
  out += "</div>\n";
}

void AppendReplicationFigures(std::string& out, const json& doc) {
  const json& replication = Member(doc, "replication");
  const json& standbys = ArrayMember(replication, "standbys");
  size_t connected = 0;
  std::optional<double> lag_seconds;
  std::optional<int64_t> lag_records;
  for (const json& standby : standbys) {
    connected += Bool(standby, "connected") == true ? 1 : 0;
    if (auto lag = Number(standby, "lagSeconds"))
      lag_seconds = std::max(lag_seconds.value_or(0), *lag);
    if (auto lag = Integer(standby, "lagRecords"))
      lag_records = std::max(lag_records.value_or(0), *lag);
  }
  if (Text(doc, "role") == "standby") {  // its own lag behind its primary
    lag_seconds = Number(replication, "lagSeconds");
    lag_records = Integer(replication, "lagRecords");
    const std::string state = Text(replication, "state");
    AppendFigure(out, "standby", "This standby", state.empty() ? "—" : state,
                 "of " + Text(replication, "primary"),
                 state == "streaming" ? Tone::kGood : Tone::kWarn);
  } else {
    AppendFigure(
        out, "standbys", "Standbys connected", fmt::format("{} / {}", connected, standbys.size()),
        Text(replication, "mode").empty() ? "" : Text(replication, "mode") + " replication",
        standbys.empty()               ? Tone::kNeutral
        : connected == standbys.size() ? Tone::kGood
                                       : Tone::kWarn);
  }
  AppendFigure(out, "replication-lag", "Replication lag", Duration(SecondsAsMs(lag_seconds)),
               lag_records ? FormatCount(lag_records) + " records" : "",
               !lag_seconds                          ? Tone::kNeutral
               : *lag_seconds > kDrLagWarningSeconds ? Tone::kWarn
                                                     : Tone::kNeutral);
}

void AppendArchiveFigure(std::string& out, const json& doc) {
  const json& archive = Member(doc, "archive");
  if (Bool(archive, "enabled") != true) {
    AppendFigure(out, "archive-lag", "Archive lag", "off", "no WAL archive", Tone::kNeutral);
    return;
  }
  const std::string state = Text(archive, "state");
  const Tone tone = ArchiveStateTone(state);
  AppendFigure(out, "archive-lag", "Archive lag",
               Duration(SecondsAsMs(Number(archive, "lagSeconds"))), state,
               tone == Tone::kGood ? Tone::kNeutral : tone);
}

void AppendBackupFigure(std::string& out, const Context& c) {
  const json* newest = nullptr;
  bool overdue = false;
  for (const json& schedule : ArrayMember(c.doc, "schedules")) {
    overdue =
        overdue || JudgeBackupSchedule(schedule, c.now_micros) == BackupScheduleState::kOverdue;
    const std::optional<int64_t> last = Integer(schedule, "lastSuccessMicros");
    if (last && (!newest || *last > Integer(*newest, "lastSuccessMicros").value_or(0))) {
      newest = &schedule;
    }
  }
  if (!newest) {
    AppendFigure(out, "last-backup", "Last backup", "—",
                 ArrayMember(c.doc, "schedules").empty() ? "no schedule" : "none yet",
                 Tone::kNeutral);
    return;
  }
  const std::optional<int64_t> last = Integer(*newest, "lastSuccessMicros");
  std::string age = Relative(c, last);
  if (age.empty()) age = dr::FormatDrillTimeUtc(*last);
  AppendFigure(out, "last-backup", "Last backup", age, "schedule " + Text(*newest, "name"),
               overdue ? Tone::kBad : Tone::kGood);
}

void AppendDrillFigure(std::string& out, const Context& c) {
  const json& recent = ArrayMember(Member(c.doc, "drills"), "recent");
  if (recent.empty()) {
    AppendFigure(out, "last-drill", "Last drill", "—", "none yet", Tone::kNeutral);
    return;
  }
  const json& newest = recent.front();
  const std::optional<bool> passed = Bool(newest, "passed");
  const json& measured = Member(newest, "measured");
  std::string sub = Text(newest, "scenario");
  const std::string relative = Relative(c, Integer(newest, "startedMicros"));
  if (!relative.empty()) sub += (sub.empty() ? "" : " · ") + relative;
  sub += "\nRTO " + Duration(Number(measured, "rtoMs")) + " · RPO " +
         Duration(Number(measured, "rpoMs"));
  AppendFigure(out, "last-drill", "Last drill",
               !passed   ? "—"
               : *passed ? "PASSED"
                         : "FAILED",
               sub,
               !passed   ? Tone::kNeutral
               : *passed ? Tone::kGood
                         : Tone::kBad);
}

void AppendFigures(std::string& out, const Context& c) {
  out += "<section class=\"summary\">\n<div class=\"figures\">\n";
  AppendReplicationFigures(out, c.doc);
  AppendArchiveFigure(out, c.doc);
  AppendBackupFigure(out, c);
  AppendDrillFigure(out, c);
  out += "</div>\n</section>\n";
}

// ---------------------------------------------------------------------------
// Replication and the archive.

std::string LagCell(const json& object) {
  const std::optional<int64_t> records = Integer(object, "lagRecords");
  std::string cell = Escape(Duration(SecondsAsMs(Number(object, "lagSeconds"))));
  if (records) cell += "<span class=\"sub\">" + FormatCount(records) + " records</span>";
  return cell;
}

void AppendStandbyRow(std::string& out, const Context& c, const json& standby) {
  const std::optional<bool> connected = Bool(standby, "connected");
  const std::optional<int64_t> lag_records = Integer(standby, "lagRecords");
  const bool caught_up = connected == true && lag_records == 0;
  Append(
      out, "<tr data-standby=\"{}\"><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td>",
      Escape(Text(standby, "name")), Escape(Text(standby, "name")),
      !connected
          ? std::string(kDash)
          : Pill(*connected ? Tone::kGood : Tone::kBad, *connected ? "connected" : "disconnected"),
      LagCell(standby));
  Append(out, "<td>{}</td>",
         caught_up     ? Pill(Tone::kGood, "caught up")
         : lag_records ? Pill(Tone::kWarn, "behind")
                       : std::string(kDash));
  const json& slot = Member(standby, "slot");
  std::string slot_cell =
      slot.is_object() ? Escape(FormatBytes(Integer(slot, "retainedBytes"))) : "—";
  if (Bool(slot, "invalidated") == true) slot_cell = Pill(Tone::kBad, "invalidated");
  Append(out, "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
         CodeOrDash(Text(standby, "sent")), CodeOrDash(Text(standby, "durable")),
         CodeOrDash(Text(standby, "applied")), TimeHtml(c, Integer(standby, "lastFeedbackMicros")),
         slot_cell);
}

void AppendOwnStandbyState(std::string& out, const json& replication) {
  out += "<dl class=\"meta\">\n";
  AppendMetaRow(out, "Primary", CodeOrDash(Text(replication, "primary")));
  const std::string state = Text(replication, "state");
  AppendMetaRow(out, "State",
                state.empty() ? std::string(kDash)
                              : Pill(state == "streaming" ? Tone::kGood : Tone::kWarn, state));
  AppendMetaRow(out, "Applied", CodeOrDash(Text(replication, "applied")));
  AppendMetaRow(out, "Primary durable", CodeOrDash(Text(replication, "primaryDurable")));
  AppendMetaRow(out, "Lag", LagCell(replication));
  AppendMetaRow(out, "Reconnects", FormatCount(Integer(replication, "reconnects")));
  out += "</dl>\n";
}

void AppendReplication(std::string& out, const Context& c) {
  const json& replication = Member(c.doc, "replication");
  const std::string mode = Text(replication, "mode");
  Append(out,
         "<section id=\"replication\">\n<h2>Replication <span class=\"count\">{}</span></h2>\n",
         mode.empty() ? "" : Escape(mode) + " mode");
  if (Text(c.doc, "role") == "standby") AppendOwnStandbyState(out, replication);
  const json& sync = Member(replication, "sync");
  if (mode == "sync") {
    Append(out, "<p>Sync policy <code>{}</code>, timeout {}: {}.</p>\n",
           Escape(Text(replication, "syncPolicy")),
           Escape(Duration(Number(replication, "syncTimeoutMs"))),
           Bool(sync, "degraded") == true ? Pill(Tone::kBad, "degraded to async")
                                          : Pill(Tone::kGood, "synchronous"));
  }
  const json& standbys = ArrayMember(replication, "standbys");
  if (standbys.empty()) {
    out += "<p class=\"empty\">No standby has connected to this server.</p>\n</section>\n";
    return;
  }
  out +=
      "<table>\n<tr><th>Standby</th><th>Stream</th><th>Lag</th><th>In sync</th><th>Sent</th>"
      "<th>Durable</th><th>Applied</th><th>Last feedback</th><th>Slot retains</th></tr>\n";
  for (const json& standby : standbys) AppendStandbyRow(out, c, standby);
  out += "</table>\n</section>\n";
}

void AppendArchive(std::string& out, const Context& c) {
  const json& archive = Member(c.doc, "archive");
  out += "<section id=\"archive\">\n<h2>WAL archive</h2>\n";
  if (Bool(archive, "enabled") != true) {
    out +=
        "<p class=\"empty\">WAL archiving is off (no <code>archive:</code> in the config).</p>\n"
        "</section>\n";
    return;
  }
  const std::string state = Text(archive, "state");
  out += "<dl class=\"meta\">\n";
  AppendMetaRow(out, "State",
                state.empty() ? std::string(kDash) : Pill(ArchiveStateTone(state), state));
  const std::string reason = Text(archive, "reason");
  if (!reason.empty()) AppendMetaRow(out, "Reason", Escape(reason));
  AppendMetaRow(out, "Repository", CodeOrDash(Text(archive, "repository")));
  AppendMetaRow(out, "Archived position", CodeOrDash(Text(archive, "archivedPosition")));
  AppendMetaRow(out, "Last archived record", TimeHtml(c, Integer(archive, "archivedRecordMicros")));
  AppendMetaRow(out, "Lag", Escape(Duration(SecondsAsMs(Number(archive, "lagSeconds")))));
  AppendMetaRow(out, "Interval", Escape(Duration(SecondsAsMs(Number(archive, "intervalSeconds")))));
  AppendMetaRow(out, "Failures", FormatCount(Integer(archive, "failures")));
  AppendMetaRow(out, "Gaps", FormatCount(Integer(archive, "gaps")));
  out += "</dl>\n</section>\n";
}

// ---------------------------------------------------------------------------
// Backups, failover, tiers.

// The schedule's state, and "running" beside it while a run is under way.
std::string BackupStatePill(const Context& c, const json& schedule) {
  std::string cell;
  switch (JudgeBackupSchedule(schedule, c.now_micros)) {
    case BackupScheduleState::kOnTime:
      cell = Pill(Tone::kGood, "on time");
      break;
    case BackupScheduleState::kOverdue:
      cell = Pill(Tone::kBad, "overdue");
      break;
    case BackupScheduleState::kNever:
      cell = Pill(Tone::kNeutral, "no backup yet");
      break;
    case BackupScheduleState::kUnknown:
      cell = std::string(kDash);
      break;
  }
  if (Bool(schedule, "running") == true) cell += " " + Pill(Tone::kNeutral, "running");
  return cell;
}

void AppendScheduleRow(std::string& out, const Context& c, const json& schedule) {
  const std::string name = Text(schedule, "name");
  Append(out, "<tr data-schedule=\"{}\"><td><code>{}</code><span class=\"sub\">{}</span></td>",
         Escape(name), Escape(name), Escape(Text(schedule, "cron")));
  Append(out, "<td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>",
         CodeOrDash(Text(schedule, "repo")), TimeHtml(c, Integer(schedule, "lastSuccessMicros")),
         BackupStatePill(c, schedule),
         Escape(Duration(SecondsAsMs(Number(schedule, "maxGapSeconds")))));
  const std::optional<int64_t> failures = Integer(schedule, "failures");
  Append(out, "<td>{}</td><td class=\"num\">{} / {} / {}</td><td>{}</td></tr>\n",
         TimeHtml(c, Integer(schedule, "nextRunMicros")), FormatCount(Integer(schedule, "runs")),
         failures && *failures > 0 ? "<strong>" + FormatCount(failures) + "</strong>"
                                   : FormatCount(failures),
         FormatCount(Integer(schedule, "missed")), Escape(Text(schedule, "lastError")));
}

void AppendSchedules(std::string& out, const Context& c) {
  const json& schedules = ArrayMember(c.doc, "schedules");
  Append(out,
         "<section id=\"schedules\">\n<h2>Backup schedules <span class=\"count\">{}</span></h2>\n",
         schedules.size());
  if (schedules.empty()) {
    out +=
        "<p class=\"empty\">No backup schedule (<code>schedules:</code> in the config).</p>\n"
        "</section>\n";
    return;
  }
  out +=
      "<table>\n<tr><th>Schedule</th><th>Repository</th><th>Last success</th><th>Status</th>"
      "<th title=\"The longest gap between two runs of its cron expression: what bounds the RPO "
      "of a restore from it\">Max gap</th><th>Next run</th><th>Runs / failures / missed</th>"
      "<th>Last error</th></tr>\n";
  for (const json& schedule : schedules) AppendScheduleRow(out, c, schedule);
  out += "</table>\n</section>\n";
}

void AppendFailover(std::string& out, const Context& c) {
  const json& failover = Member(c.doc, "failover");
  out += "<section id=\"failover\">\n<h2>Failover</h2>\n";
  if (!failover.is_object()) {
    out +=
        "<p class=\"empty\">No witness (<code>failover:</code> in the config): failover is "
        "manual.</p>\n</section>\n";
    return;
  }
  const json& lease = Member(failover, "lease");
  const std::string state = Text(lease, "state");
  out += "<dl class=\"meta\">\n";
  AppendMetaRow(out, "Witness", CodeOrDash(Text(failover, "witness")));
  AppendMetaRow(out, "Node name", CodeOrDash(Text(failover, "name")));
  AppendMetaRow(out, "Lease TTL", Escape(Duration(Number(failover, "leaseTtlMs"))));
  AppendMetaRow(out, "Lease",
                state.empty() ? std::string(kDash)
                              : Pill(state == "held" ? Tone::kGood : Tone::kWarn, state));
  const json& leader = Member(lease, "leader");
  if (leader.is_object()) {
    AppendMetaRow(out, "Leader",
                  Escape(fmt::format("{} (epoch {}) {}", Text(leader, "holder"),
                                     Text(leader, "epoch"), Text(leader, "url"))));
  }
  out += "</dl>\n</section>\n";
}

struct DatabaseFigures {
  size_t collections = 0;
  int64_t rows = 0;
};

void AppendTiers(std::string& out, const Context& c) {
  std::map<std::string, DatabaseFigures> databases;
  for (const json& collection : ArrayMember(c.doc, "collections")) {
    DatabaseFigures& figures = databases[Text(collection, "database")];
    figures.collections += 1;
    figures.rows += std::max<int64_t>(0, Integer(collection, "rows").value_or(0));
  }
  const json& tiers = ArrayMember(c.doc, "tiers");
  Append(out, "<section id=\"tiers\">\n<h2>Tiers <span class=\"count\">{}</span></h2>\n",
         tiers.size() == 1 ? "1 database" : fmt::format("{} databases", tiers.size()));
  if (tiers.empty()) {
    out += "<p class=\"empty\">No database is listed.</p>\n</section>\n";
    return;
  }
  out +=
      "<table>\n<tr><th>Database</th><th>RTO tier · target</th><th>RPO tier · target</th>"
      "<th>Collections</th><th>Rows</th><th>Set by</th></tr>\n";
  for (const json& tier : tiers) {
    const std::string database = Text(tier, "database");
    const json& targets = Member(tier, "targets");
    const std::string error = Text(tier, "error");
    const auto figures = databases.find(database);
    Append(out, "<tr{}><td><code>{}</code></td><td>{}</td><td>{}</td>",
           error.empty() ? "" : " class=\"failed\"", Escape(database),
           dr::TargetCellHtml(targets, "rtoTier", "rtoTargetMs"),
           dr::TargetCellHtml(targets, "rpoTier", "rpoTargetMs"));
    Append(out, "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
           figures == databases.end() ? "0" : std::to_string(figures->second.collections),
           figures == databases.end() ? "0" : FormatCount(figures->second.rows),
           !error.empty()        ? Escape(error)
           : targets.is_object() ? TextOrDash(Text(targets, "source"))
                                 : "<span class=\"empty\">no tier</span>");
    // Its collections with tiers of their own, under it.
    for (const json& ct : ArrayMember(c.doc, "collectionTiers")) {
      if (Text(ct, "database") != database) continue;
      const std::string name = Text(ct, "name");
      const json& own = Member(ct, "targets");
      const std::string own_error = Text(ct, "error");
      int64_t own_rows = 0;
      for (const json& collection : ArrayMember(c.doc, "collections")) {
        if (Text(collection, "database") == database && Text(collection, "name") == name) {
          own_rows = std::max<int64_t>(0, Integer(collection, "rows").value_or(0));
        }
      }
      Append(out, "<tr class=\"collection-tier{}\"><td>↳ <code>{}</code></td><td>{}</td><td>{}</td>",
             own_error.empty() ? "" : " failed", Escape(name), dr::TargetCellHtml(own, "rtoTier", "rtoTargetMs"),
             dr::TargetCellHtml(own, "rpoTier", "rpoTargetMs"));
      Append(out, "<td class=\"num\">1</td><td class=\"num\">{}</td><td>{}</td></tr>\n", FormatCount(own_rows),
             !own_error.empty() ? Escape(own_error) : TextOrDash(Text(own, "source")));
    }
  }
  out += "</table>\n</section>\n";
}

// ---------------------------------------------------------------------------
// Drills.

std::string ResultBadge(const json& drill, bool small) {
  const std::optional<bool> passed = Bool(drill, "passed");
  const std::string_view css = !passed ? "unknown" : *passed ? "passed" : "failed";
  const std::string_view word = !passed ? "UNKNOWN" : *passed ? "PASSED" : "FAILED";
  return fmt::format("<span class=\"badge {}{}\">{}</span>", css, small ? " small" : "", word);
}

// Each collection's verdicts: "verdicts" as dr-status.md summarises them,
// else a full report's "collections[].verdict".
std::string VerdictsCell(const json& drill) {
  struct Verdict {
    std::string database, name;
    const json* verdict;
  };
  std::vector<Verdict> verdicts;
  for (const json& v : ArrayMember(drill, "verdicts")) {
    verdicts.push_back({Text(v, "database"), Text(v, "name"), &v});
  }
  if (verdicts.empty()) {
    for (const json& collection : ArrayMember(drill, "collections")) {
      const json& verdict = Member(collection, "verdict");
      if (!verdict.is_object()) continue;
      verdicts.push_back({Text(collection, "database"), Text(collection, "name"), &verdict});
    }
  }
  if (verdicts.empty()) return std::string(kDash);
  std::string cell;
  for (const Verdict& v : verdicts) {
    const std::string full = v.database.empty() ? v.name : v.database + "." + v.name;
    cell += "<div><code>" + Escape(full) + "</code> ";
    for (const auto& [key, what] : {std::pair{"rto", "RTO"}, std::pair{"rpo", "RPO"}}) {
      const std::string value = Text(*v.verdict, key);
      if (value.empty()) continue;
      Append(cell, "<span class=\"pill {}\">{} {}</span>", dr::DrillVerdictClass(value), what,
             Escape(value));
    }
    cell += "</div>";
  }
  return cell;
}

void AppendDrillRow(std::string& out, const Context& c, const json& drill) {
  const std::string id = Text(drill, "id");
  const std::optional<std::string> href = ReportHref(c, drill);
  Append(out, "<tr{}>", Bool(drill, "passed") == false ? " class=\"failed\"" : "");
  if (href) {
    Append(out, "<td><a href=\"{}\" data-drill=\"{}\"><code>{}</code></a>", *href, Escape(id),
           Escape(id));
  } else {
    Append(out, "<td><code>{}</code>", TextOrDash(id));
  }
  Append(out, "<span class=\"sub\">{}</span></td>", Escape(Text(drill, "scenario")));
  const std::string unreadable = Text(drill, "unreadable");
  if (!unreadable.empty()) {
    Append(out, "<td colspan=\"6\">cannot be read: {}</td></tr>\n", Escape(unreadable));
    return;
  }
  const std::optional<int64_t> started = Integer(drill, "startedMicros");
  const std::optional<int64_t> finished = Integer(drill, "finishedMicros");
  std::optional<double> took;
  if (started && finished)
    took = (static_cast<double>(*finished) - static_cast<double>(*started)) / 1000;
  const json& measured = Member(drill, "measured");
  Append(out, "<td>{}</td><td>{}</td><td class=\"num\">{}</td>", TimeHtml(c, started),
         ResultBadge(drill, true), Escape(Duration(took)));
  Append(out, "<td class=\"num rto\">{}</td><td class=\"num rpo\">{}</td>",
         Escape(Duration(Number(measured, "rtoMs"))), Escape(Duration(Number(measured, "rpoMs"))));
  const std::string error = Text(drill, "error");
  Append(out, "<td>{}{}</td></tr>\n", VerdictsCell(drill),
         error.empty() ? "" : "<div class=\"bad\">" + Escape(error) + "</div>");
}

void AppendNewestDrill(std::string& out, const Context& c, const json& newest) {
  if (!Text(newest, "unreadable").empty()) return;
  const std::string id = Text(newest, "id");
  Append(out, "<h3>Newest drill <code>{}</code> {}", TextOrDash(id), ResultBadge(newest, false));
  if (const std::optional<std::string> href = ReportHref(c, newest)) {
    Append(out, " <a href=\"{}\">full report</a>", *href);
  }
  out += "</h3>\n";
  const std::string timeline = dr::RenderDrillTimelineSvg(newest);
  out += timeline.empty() ? "<p class=\"empty\">The status document holds no timeline for it.</p>\n"
                          : timeline;
}

void AppendDrills(std::string& out, const Context& c) {
  const json& drills = Member(c.doc, "drills");
  const json& recent = ArrayMember(drills, "recent");
  Append(out, "<section id=\"drills\">\n<h2>Recent drills <span class=\"count\">{}</span></h2>\n",
         recent.size());
  const std::string dir = Text(drills, "reportDir");
  if (!dir.empty()) Append(out, "<p>Reports in <code>{}</code>.</p>\n", Escape(dir));
  const std::string error = Text(drills, "error");
  if (!error.empty()) Append(out, "<p class=\"error\">{}</p>\n", Escape(error));
  if (recent.empty()) {
    out +=
        "<p class=\"empty\">No drill has run yet: <code>ark drill run restore-check --repo "
        "REPO</code> (docs/drills.md).</p>\n</section>\n";
    return;
  }
  out +=
      "<table>\n<tr><th>Drill</th><th>Started</th><th>Result</th><th>Took</th><th>RTO</th>"
      "<th>RPO</th><th>Verdicts</th></tr>\n";
  for (const json& drill : recent) AppendDrillRow(out, c, drill);
  out += "</table>\n";
  AppendNewestDrill(out, c, recent.front());
  out += "</section>\n";
}

void AppendFooter(std::string& out, const json& doc) {
  const std::optional<int64_t> version = Integer(doc, "version");
  Append(out,
         "<footer>Ark DR dashboard: the DR status document, format <code>{}</code> version {} "
         "(<code>POST /ark/v1/dr/status</code>). Times are UTC.</footer>\n</main>\n</body>\n"
         "</html>\n",
         Escape(Text(doc, "format")), version ? std::to_string(*version) : std::string(kDash));
}

void AppendPage(std::string& out, const Context& c) {
  const std::vector<DrAlert> alerts = AssessDrStatus(c.doc);
  const std::string_view health = HealthBadge(c.doc, alerts);
  AppendHead(out, c, health);
  AppendHeader(out, c, alerts, health);
  AppendFigures(out, c);
  AppendReplication(out, c);
  out += "<div class=\"columns\">\n";
  AppendArchive(out, c);
  AppendFailover(out, c);
  out += "</div>\n";
  AppendSchedules(out, c);
  AppendDrills(out, c);
  AppendTiers(out, c);
  AppendFooter(out, c.doc);
}

}  // namespace

bool IsValidDrillId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           ch == '-';
  });
}

std::string RenderDashboardHtml(const nlohmann::json& dr_status, const DashboardOptions& options) {
  std::string out;
  try {
    const Context c{dr_status, Integer(dr_status, "nowMicros"), options};
    AppendPage(out, c);
  } catch (const std::exception& e) {
    // The readers are written not to throw; this is the edge should one
    // still do so (or fmt run out of memory): a page that says so.
    out =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Ark DR "
        "dashboard</title>\n</head>\n<body>\n<p>The DR status could not be shown: " +
        Escape(e.what()) + "</p>\n</body>\n</html>\n";
  }
  return out;
}

}  // namespace ark::server
