// DrillReportMetrics: the newest drill report of each scenario in a report
// directory, on /metrics — whoever ran it: a schedule of `ark serve`
// (dr/drill/drill_scheduler.h) or an operator with `ark drill run
// --report-dir <the server's drills.report_dir>`.
//
//   ark_drill_latest_passed{scenario}             1 or 0
//   ark_drill_latest_timestamp_seconds{scenario}  when it started (unix seconds)
//
// Read with ListDrillReports at scrape time, from the newest kScanLimit
// reports: a scenario whose newest report is older than those is not shown.
// Unreadable reports are skipped. The directory's complete reports (those
// with a report.json, which a drill writes last) are listed at every scrape;
// the reports themselves are read again only when that list changed.
//
// Thread-safety: every method is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "storage/env.h"

namespace ark::dr {

class DrillReportMetrics {
 public:
  static constexpr size_t kScanLimit = 100;

  // `env` (the directory's files) must outlive this object.
  DrillReportMetrics(Env* env, std::string report_dir)
      : env_(env), report_dir_(std::move(report_dir)) {}

  // Registers the two gauges' collector; this object must outlive every
  // later Render of `metrics`.
  void AddMetrics(MetricsRegistry* metrics);

  struct Latest {
    std::string id;
    bool passed = false;
    int64_t started_seconds = 0;
  };
  // By scenario.
  Result<std::map<std::string, Latest>> Read();

 private:
  Result<std::vector<std::string>> CompleteReports() const;

  Env* const env_;
  const std::string report_dir_;
  std::mutex mu_;
  bool read_ = false;                     // GUARDED_BY(mu_)
  std::vector<std::string> seen_;         // GUARDED_BY(mu_): CompleteReports() at the last read
  std::map<std::string, Latest> latest_;  // GUARDED_BY(mu_)
};

}  // namespace ark::dr
