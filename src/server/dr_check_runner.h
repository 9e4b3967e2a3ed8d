// The DR check `ark serve` runs by itself (drills.check_interval_seconds,
// docs/drills.md "ark dr check"): every interval it judges its own DR status
// document (admin_dr.h) — and, when its failover witness is an `ark
// monitor`, that monitor's settings — against every database's tier, with
// the rules `ark dr check` uses (dr/drill/dr_check.h). The last result goes
// to /metrics; a change in what fails is logged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "dr/drill/tiers.h"
#include "dr/schedule/schedule_timer.h"
#include "storage/env.h"

namespace ark::server {

struct DrCheckRunnerOptions {
  uint64_t interval_seconds = 300;
  std::string monitor_url;    // the failover witness when it is an ark monitor ("" = none)
  std::string monitor_token;
};

class DrCheckRunner {
 public:
  // `status` builds the DR status document (DrStatusJson).
  DrCheckRunner(Env* env, std::function<nlohmann::json()> status, DrCheckRunnerOptions options);
  ~DrCheckRunner();

  void Start();
  void Stop();
  // One check now (the timer's step; tests call it by hand).
  void RunOnce();
  void AddMetrics(MetricsRegistry* metrics);

  struct Last {
    int64_t at_seconds = 0;     // 0 = not run yet
    std::vector<dr::Finding> findings;
    bool judged = false;        // false on a standby or fenced server: nothing to judge here
    std::string error;          // part of the check could not run (it counts as not passed)
  };
  Last GetLast() const;

 private:
  Env* env_;
  std::function<nlohmann::json()> status_;
  DrCheckRunnerOptions options_;
  mutable std::mutex mu_;
  Last last_;  // GUARDED_BY(mu_)
  std::unique_ptr<dr::ScheduleTimer> timer_;
};

}  // namespace ark::server
