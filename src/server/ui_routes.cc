#include "server/ui_routes.h"

#include <string_view>
#include <utility>

#include "dr/drill/html_text.h"
#include "dr/drill/report_html.h"
#include "server/ui_page.h"

namespace ark::server {
namespace {

using nlohmann::json;

constexpr std::string_view kDrillsPrefix = "/ui/drills/";
constexpr std::string_view kReportSuffix = "/report.html";

PageReply NotFound(const std::string& what) {
  return PageReply{404, "text/html; charset=utf-8",
                   "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<title>Ark: not found</title>\n</head>\n<body>\n<p>" +
                       dr::html::Escape(what) +
                       "</p>\n<p><a href=\"/ui\">The dashboard</a></p>\n"
                       "</body>\n</html>\n"};
}

// The drill id in /ui/drills/<id>/report.html, or "" when the path is not
// exactly that with a valid id.
std::string DrillIdOf(std::string_view path) {
  if (path.size() <= kDrillsPrefix.size() + kReportSuffix.size() ||
      path.substr(0, kDrillsPrefix.size()) != kDrillsPrefix ||
      path.substr(path.size() - kReportSuffix.size()) != kReportSuffix) {
    return "";
  }
  const std::string_view id =
      path.substr(kDrillsPrefix.size(), path.size() - kDrillsPrefix.size() - kReportSuffix.size());
  return IsValidDrillId(id) ? std::string(id) : "";
}

// A drill's report.json, or null when it cannot be read or parsed.
json ReadReportJson(Env* env, const std::string& dir, const std::string& id) {
  std::string text;
  if (!env->ReadFileToString(JoinPath(JoinPath(dir, id), "report.json"), &text).ok())
    return nullptr;
  json report = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return report.is_discarded() ? json(nullptr) : report;
}

// The newest drill's timeline, from its report.json, when the status
// document summarised it without one: the dashboard draws it.
void FillNewestTimeline(Env* env, const std::string& dir, json& status) {
  json* recent = status.is_object() && status.contains("drills") && status["drills"].is_object()
                     ? &status["drills"]["recent"]
                     : nullptr;
  if (recent == nullptr || !recent->is_array() || recent->empty()) return;
  json& newest = recent->front();
  if (!newest.is_object() || newest.contains("timeline") || newest.contains("unreadable")) return;
  const std::string id = dr::html::Text(newest, "id");
  if (!IsValidDrillId(id)) return;
  const json report = ReadReportJson(env, dir, id);
  const json& timeline = dr::html::Member(report, "timeline");
  if (timeline.is_array()) newest["timeline"] = timeline;
  if (!newest.contains("startedMicros") && report.is_object() && report.contains("startedMicros")) {
    newest["startedMicros"] = report["startedMicros"];
  }
}

PageReply ServeReport(Env* env, const std::string& dir, const PageRequest& request) {
  const std::string id = DrillIdOf(request.path);
  if (id.empty()) {
    return NotFound(
        "There is no page here: a drill's report is at /ui/drills/<id>/report.html, "
        "where the id is letters, digits and '-'.");
  }
  const std::string drill_dir = JoinPath(dir, id);
  std::string html;
  if (Status s = env->ReadFileToString(JoinPath(drill_dir, "report.html"), &html); s.ok()) {
    return PageReply{200, "text/html; charset=utf-8", std::move(html)};
  }
  // A report written without its page (or the page lost): drawn from the JSON.
  const json report = ReadReportJson(env, dir, id);
  if (report.is_object())
    return PageReply{200, "text/html; charset=utf-8", dr::RenderDrillReportHtml(report)};
  return NotFound("No drill report " + id + " in the drills report directory.");
}

}  // namespace

void RegisterUiRoutes(HttpServer& http, std::function<nlohmann::json()> status,
                      std::string drill_report_dir, Env* env) {
  http.RegisterPage(
      "/ui", [status = std::move(status), env, dir = drill_report_dir](const PageRequest& request) {
        json document = status();
        FillNewestTimeline(env, dir, document);
        DashboardOptions options;
        options.link_query = request.credential_query;
        return PageReply{200, "text/html; charset=utf-8", RenderDashboardHtml(document, options)};
      });
  http.RegisterPage(std::string(kDrillsPrefix),
                    [env, dir = std::move(drill_report_dir)](const PageRequest& request) {
                      return ServeReport(env, dir, request);
                    });
}

}  // namespace ark::server
