#include "dr/drill/drill_report_metrics.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "dr/drill/drill_report.h"

namespace ark::dr {

Result<std::vector<std::string>> DrillReportMetrics::CompleteReports() const {
  std::vector<std::string> out;
  if (!env_->FileExists(report_dir_)) return out;
  ARK_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(report_dir_));
  for (auto& name : names) {
    if (env_->FileExists(JoinPath(JoinPath(report_dir_, name), "report.json")))
      out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::map<std::string, DrillReportMetrics::Latest>> DrillReportMetrics::Read() {
  ARK_ASSIGN_OR_RETURN(std::vector<std::string> complete, CompleteReports());
  std::lock_guard<std::mutex> lock(mu_);
  if (read_ && complete == seen_) return latest_;
  ARK_ASSIGN_OR_RETURN(std::vector<nlohmann::json> reports,
                       ListDrillReports(env_, report_dir_, kScanLimit));
  std::map<std::string, Latest> latest;
  for (const auto& r : reports) {  // newest first
    if (r.contains("unreadable") || !r["scenario"].is_string() ||
        !r["startedMicros"].is_number_unsigned())
      continue;
    const std::string scenario = r["scenario"].get<std::string>();
    if (latest.count(scenario)) continue;
    latest[scenario] = {r.value("id", ""), r.value("passed", false),
                        static_cast<int64_t>(r["startedMicros"].get<uint64_t>() / 1000000)};
  }
  latest_ = std::move(latest);
  seen_ = std::move(complete);
  read_ = true;
  return latest_;
}

void DrillReportMetrics::AddMetrics(MetricsRegistry* metrics) {
  metrics->Describe(
      "ark_drill_latest_passed",
      "1 if the newest drill report of the scenario in the report directory passed, else 0");
  metrics->Describe("ark_drill_latest_timestamp_seconds",
                    "Unix time the newest drill of the scenario in the report directory started");
  metrics->AddCollector([this](MetricsRegistry& m) {
    auto latest = Read();
    if (!latest.ok()) {
      // A scrape must not fail for it; the previous values stay.
      spdlog::warn("drill reports in {}: {}", report_dir_, latest.status().ToString());
      return;
    }
    for (const auto& [scenario, l] : *latest) {
      m.SetGauge("ark_drill_latest_passed", {{"scenario", scenario}}, l.passed ? 1 : 0);
      m.SetGauge("ark_drill_latest_timestamp_seconds", {{"scenario", scenario}},
                 static_cast<double>(l.started_seconds));
    }
  });
}

}  // namespace ark::dr
