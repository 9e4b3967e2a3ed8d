#include "dr/drill/drill_report.h"

#include <algorithm>
#include <ctime>
#include <functional>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "dr/drill/report_html.h"
#include "dr/drill/tiers.h"

#ifndef ARK_VERSION
#define ARK_VERSION "0.1.0"
#endif

namespace ark::dr {

std::string DrillStamp(uint64_t wall_micros) {
  std::time_t t = static_cast<std::time_t>(wall_micros / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

namespace {

// A Markdown table cell: no pipes or line breaks from user-provided text.
std::string Cell(std::string s) {
  for (char& c : s) {
    if (c == '|') c = '/';
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string MsOrDash(const nlohmann::json& v) {
  return v.is_number_unsigned() || v.is_number_integer() ? FormatDuration(v.get<uint64_t>()) : "—";
}

}  // namespace

DrillReport::DrillReport(Env* env, std::string scenario)
    : env_(env),
      scenario_(std::move(scenario)),
      started_micros_(env->WallMicros()),
      started_mono_micros_(env->NowMicros()) {
  id_ = DrillStamp(started_micros_) + "-" + scenario_;
  for (const char* k : {"rtoMs", "rtoSearchMs", "rtoWriteMs", "rpoMs", "detectionMs", "promotionMs", "restoreMs",
                        "lostMarkers"}) {
    measured_[k] = nullptr;
  }
}

uint64_t DrillReport::ElapsedMs() const { return (env_->NowMicros() - started_mono_micros_) / 1000; }

void DrillReport::Event(const std::string& event, const std::string& phase, const std::string& detail) {
  const uint64_t since = ElapsedMs();
  spdlog::info("drill {}: +{} ms {} ({}): {}", scenario_, since, event, phase, detail);
  std::lock_guard<std::mutex> lock(mu_);
  timeline_.push_back({{"event", event}, {"phase", phase}, {"atMicros", env_->WallMicros()},
                       {"sinceStartMs", since}, {"detail", detail}});
}

void DrillReport::EventAt(uint64_t at_micros, const std::string& event, const std::string& phase,
                          const std::string& detail) {
  const uint64_t since = at_micros > started_micros_ ? (at_micros - started_micros_) / 1000 : 0;
  spdlog::info("drill {}: +{} ms {} ({}): {}", scenario_, since, event, phase, detail);
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json e = {{"event", event}, {"phase", phase}, {"atMicros", at_micros}, {"sinceStartMs", since}, {"detail", detail}};
  auto pos = timeline_.end();
  while (pos != timeline_.begin() && (pos - 1)->value("atMicros", uint64_t{0}) > at_micros) --pos;
  timeline_.insert(pos, std::move(e));
}

void DrillReport::Check(const std::string& name, bool passed, const std::string& detail) {
  if (!passed) spdlog::warn("drill {}: check {} FAILED: {}", scenario_, name, detail);
  std::lock_guard<std::mutex> lock(mu_);
  checks_.push_back({{"name", name}, {"passed", passed}, {"detail", detail}});
}

void DrillReport::Fail(const Status& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.empty()) error_ = why.ToString();
}

void DrillReport::Measure(const std::string& key, uint64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  measured_[key] = ms;
}

void DrillReport::SetSource(nlohmann::json source) {
  std::lock_guard<std::mutex> lock(mu_);
  source_ = std::move(source);
}

void DrillReport::SetProbe(nlohmann::json probe) {
  std::lock_guard<std::mutex> lock(mu_);
  probe_ = std::move(probe);
}

void DrillReport::AddCollection(nlohmann::json collection) {
  std::lock_guard<std::mutex> lock(mu_);
  collections_.push_back(std::move(collection));
}

bool DrillReport::passed() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_.empty()) return false;
  for (const auto& c : checks_) {
    if (!c.value("passed", false)) return false;
  }
  for (const auto& c : collections_) {
    if (!c.contains("verdict") || !c["verdict"].is_object()) continue;
    const auto& v = c["verdict"];
    if (v.value("rto", "") == "fail" || v.value("rpo", "") == "fail") return false;
  }
  return true;
}

std::string DrillReport::FailureSummary() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> why;
  if (!error_.empty()) why.push_back(error_);
  for (const auto& c : checks_) {
    if (!c.value("passed", false)) why.push_back(c.value("name", "") + ": " + c.value("detail", ""));
  }
  for (const auto& c : collections_) {
    if (!c.contains("verdict") || !c["verdict"].is_object() || !c["verdict"].contains("reasons")) continue;
    const auto& v = c["verdict"];
    if (v.value("rto", "") != "fail" && v.value("rpo", "") != "fail") continue;
    for (const auto& r : v["reasons"]) {
      if (r.is_string()) why.push_back(c.value("database", "") + "." + c.value("name", "") + ": " + r.get<std::string>());
    }
  }
  std::string out;
  for (const auto& w : why) out += (out.empty() ? "" : "; ") + w;
  return out;
}

nlohmann::json DrillReport::ToJson() const {
  const bool ok = passed();
  std::lock_guard<std::mutex> lock(mu_);
  return {{"format", "ark-drill-report"},
          {"version", kDrillReportVersion},
          {"id", id_},
          {"scenario", scenario_},
          {"arkVersion", ARK_VERSION},
          {"startedMicros", started_micros_},
          {"finishedMicros", env_->WallMicros()},
          {"passed", ok},
          {"error", error_},
          {"source", source_},
          {"probe", probe_},
          {"timeline", timeline_},
          {"measured", measured_},
          {"collections", collections_},
          {"checks", checks_}};
}

std::string DrillReport::ToMarkdown() const {
  const nlohmann::json j = ToJson();
  std::string md = fmt::format("# Drill {}: {}\n\n", j["id"].get<std::string>(),
                               j["passed"].get<bool>() ? "PASSED" : "FAILED");
  md += fmt::format("- Scenario: `{}`\n- Started: {}\n- Ark: {}\n", scenario_, FormatDrillTimeUtc(static_cast<int64_t>(started_micros_)),
                    j["arkVersion"].get<std::string>());
  if (!j["error"].get<std::string>().empty()) md += fmt::format("- **Error**: {}\n", Cell(j["error"]));
  for (const auto& [k, v] : j["source"].items()) {
    if (k.ends_with("Micros") && v.is_number_unsigned()) {
      md += fmt::format("- Source {}: {}\n", k.substr(0, k.size() - 6), FormatDrillTimeUtc(static_cast<int64_t>(v.get<uint64_t>())));
    } else if (!v.is_null() && !(v.is_string() && v.get<std::string>().empty())) {
      md += fmt::format("- Source {}: {}\n", k, Cell(v.is_string() ? v.get<std::string>() : v.dump()));
    }
  }
  const auto& m = j["measured"];
  md += "\n## Measured\n\n| RTO | RTO (search) | RTO (write) | RPO | Restore | Detection | Promotion | Lost markers |\n"
        "|---|---|---|---|---|---|---|---|\n";
  md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", MsOrDash(m["rtoMs"]), MsOrDash(m["rtoSearchMs"]),
                    MsOrDash(m["rtoWriteMs"]), MsOrDash(m["rpoMs"]), MsOrDash(m["restoreMs"]),
                    MsOrDash(m["detectionMs"]), MsOrDash(m["promotionMs"]),
                    m["lostMarkers"].is_null() ? "—" : m["lostMarkers"].dump());
  if (j["probe"].is_object()) {
    const auto& p = j["probe"];
    md += fmt::format("\nProbe ({}): {} markers acknowledged, {} refused attempts, {} lost{}\n",
                      p.value("collection", ""), p.value("acknowledged", 0), p.value("refusals", 0),
                      p["lostIds"].is_array() ? p["lostIds"].size() : 0,
                      p["lostIds"].is_array() && !p["lostIds"].empty() ? ": ids " + p["lostIds"].dump() : "");
  }
  md += "\n## Collections\n\n| Collection | Rows (expected) | Samples found | Content | RTO tier | RPO tier | Verdict |\n"
        "|---|---|---|---|---|---|---|\n";
  for (const auto& c : j["collections"]) {
    auto str = [&](const nlohmann::json& o, const char* k) {
      return o.is_object() && o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string("—");
    };
    auto num = [&](const char* k) { return c.contains(k) && !c[k].is_null() ? c[k].dump() : std::string("—"); };
    const nlohmann::json t = c.contains("targets") ? c["targets"] : nlohmann::json();
    const nlohmann::json v = c.contains("verdict") ? c["verdict"] : nlohmann::json();
    std::string verdict = "—";
    if (v.is_object()) {
      verdict = fmt::format("RTO {}, RPO {}", str(v, "rto"), str(v, "rpo"));
      if (v.contains("reasons") && v["reasons"].is_array()) {
        for (const auto& r : v["reasons"]) {
          if (r.is_string()) verdict += "; " + r.get<std::string>();
        }
      }
    }
    // Failover drills count the sample searches that found the same as before.
    const bool same_searches = c.contains("sampleSearches");
    const std::string content = !c.contains("contentMatches") || !c["contentMatches"].is_boolean()
                                    ? std::string("—")
                                    : c["contentMatches"].get<bool>() ? "same checksum" : "**differs**";
    md += fmt::format("| {}.{} | {} ({}) | {}/{} | {} | {} | {} | {} |\n", Cell(str(c, "database")), Cell(str(c, "name")),
                      num("rows"), num(same_searches ? "rowsBefore" : "expectedRows"),
                      num(same_searches ? "sampleSearchesSame" : "samplesFound"),
                      num(same_searches ? "sampleSearches" : "samples"), content, Cell(str(t, "rtoTier")),
                      Cell(str(t, "rpoTier")), Cell(verdict));
  }
  md += "\n## Timeline\n\n| +ms | Phase | Step | Detail |\n|---|---|---|---|\n";
  for (const auto& e : j["timeline"]) {
    md += fmt::format("| {} | {} | {} | {} |\n", e["sinceStartMs"].dump(), e["phase"].get<std::string>(),
                      e["event"].get<std::string>(), Cell(e["detail"].get<std::string>()));
  }
  md += "\n## Checks\n\n| Check | Result | Detail |\n|---|---|---|\n";
  for (const auto& c : j["checks"]) {
    md += fmt::format("| {} | {} | {} |\n", Cell(c["name"].get<std::string>()), c["passed"].get<bool>() ? "pass" : "**FAIL**",
                      Cell(c["detail"].get<std::string>()));
  }
  return md;
}

Result<std::string> DrillReport::Write(const std::string& report_dir) const {
  const std::string dir = JoinPath(report_dir, id_);
  ARK_RETURN_IF_ERROR(env_->CreateDirs(dir));
  const nlohmann::json j = ToJson();
  ARK_RETURN_IF_ERROR(env_->WriteFileAtomic(JoinPath(dir, "report.md"), ToMarkdown()));
  ARK_RETURN_IF_ERROR(env_->WriteFileAtomic(JoinPath(dir, "report.html"), RenderDrillReportHtml(j)));
  // Last: its presence means the drill finished.
  ARK_RETURN_IF_ERROR(env_->WriteFileAtomic(JoinPath(dir, "report.json"), j.dump(2) + "\n"));
  return dir;
}

Result<std::vector<nlohmann::json>> ListDrillReports(Env* env, const std::string& report_dir, size_t limit) {
  std::vector<nlohmann::json> out;
  if (!env->FileExists(report_dir)) return out;
  ARK_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(report_dir));
  // Ids start with their UTC stamp: name order is time order.
  std::sort(names.begin(), names.end(), std::greater<>());
  for (const auto& name : names) {
    if (out.size() >= limit) break;
    const std::string dir = JoinPath(report_dir, name);
    const std::string file = JoinPath(dir, "report.json");
    if (!env->FileExists(file)) continue;  // a scratch directory, or a drill still running
    nlohmann::json entry;
    auto mapped = env->MapFile(file);
    if (!mapped.ok()) {
      entry = {{"id", name}, {"unreadable", mapped.status().message()}};
    } else {
      entry = nlohmann::json::parse((*mapped)->data(), nullptr, /*allow_exceptions=*/false);
      // (value() would throw on a non-string format: compare the element.)
      if (entry.is_discarded() || !entry.is_object() || !entry.contains("format") ||
          entry["format"] != "ark-drill-report") {
        entry = {{"id", name}, {"unreadable", fmt::format("{} is not a drill report (docs/formats/drill-report.md)", file)}};
      }
    }
    entry["reportDir"] = dir;
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace ark::dr
