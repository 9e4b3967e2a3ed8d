// The document a drill produces (docs/formats/drill-report.md): a timeline of
// steps stamped with wall-clock time, what was measured, per-collection
// verification and verdicts, and every check made. Written as report.json,
// report.md and report.html into <report-dir>/<id>/.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "storage/env.h"

namespace ark::dr {

inline constexpr int kDrillReportVersion = 1;

class DrillReport {
 public:
  // Starts the clock: sinceStartMs and the id count from now.
  DrillReport(Env* env, std::string scenario);

  const std::string& id() const { return id_; }
  const std::string& scenario() const { return scenario_; }
  uint64_t started_micros() const { return started_micros_; }
  // Milliseconds since the drill started, by the monotonic clock.
  uint64_t ElapsedMs() const;

  // One step of the timeline; `phase`: disaster, detection, promotion,
  // traffic, recovery, verification or teardown.
  void Event(const std::string& event, const std::string& phase, const std::string& detail);
  // A step observed elsewhere (the monitor's timeline) at a wall-clock time;
  // the timeline stays in time order.
  void EventAt(uint64_t at_micros, const std::string& event, const std::string& phase, const std::string& detail);
  // One assertion the drill made.
  void Check(const std::string& name, bool passed, const std::string& detail);
  // The drill could not run to the end.
  void Fail(const Status& why);
  // measured.<key> = ms (keys of the format: rtoMs, rpoMs, restoreMs, ...).
  void Measure(const std::string& key, uint64_t ms);
  void SetSource(nlohmann::json source);
  // The probe's own figures (acknowledged, refusals, lost ids...).
  void SetProbe(nlohmann::json probe);
  void AddCollection(nlohmann::json collection);

  bool passed() const;
  // Why it did not pass, in one line: the error, failed checks, failed
  // verdicts' reasons ("" when it passed).
  std::string FailureSummary() const;
  nlohmann::json ToJson() const;
  std::string ToMarkdown() const;
  // Writes report.md, report.html and then report.json into report_dir/id;
  // returns that directory.
  Result<std::string> Write(const std::string& report_dir) const;

 private:
  Env* env_;
  std::string scenario_;
  std::string id_;
  uint64_t started_micros_;       // wall clock
  uint64_t started_mono_micros_;  // env_->NowMicros()
  mutable std::mutex mu_;
  nlohmann::json timeline_ = nlohmann::json::array();     // GUARDED_BY(mu_)
  nlohmann::json checks_ = nlohmann::json::array();       // GUARDED_BY(mu_)
  nlohmann::json collections_ = nlohmann::json::array();  // GUARDED_BY(mu_)
  nlohmann::json measured_;                               // GUARDED_BY(mu_)
  nlohmann::json source_ = nlohmann::json::object();      // GUARDED_BY(mu_)
  nlohmann::json probe_;                                  // GUARDED_BY(mu_): null without a probe
  std::string error_;                                     // GUARDED_BY(mu_)
};

// The finished drills under `report_dir` (each <report_dir>/<id>/report.json),
// newest first, at most `limit`; each is the report's JSON plus "reportDir".
// A report.json that does not parse is listed as {"id", "reportDir",
// "unreadable": why} rather than hiding it; a missing report_dir is empty.
Result<std::vector<nlohmann::json>> ListDrillReports(Env* env, const std::string& report_dir, size_t limit = 100);

// "20261206T230512Z" for a wall-clock time in UTC µs.
std::string DrillStamp(uint64_t wall_micros);

}  // namespace ark::dr
