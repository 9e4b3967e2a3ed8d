#include "server/dr_check_runner.h"

#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "dr/drill/dr_check.h"
#include "dr/failover/http_json.h"

namespace ark::server {

DrCheckRunner::DrCheckRunner(Env* env, std::function<nlohmann::json()> status, DrCheckRunnerOptions options)
    : env_(env), status_(std::move(status)), options_(std::move(options)) {}

DrCheckRunner::~DrCheckRunner() { Stop(); }

void DrCheckRunner::Start() {
  if (options_.interval_seconds == 0 || timer_) return;
  timer_ = std::make_unique<dr::ScheduleTimer>(env_, [this] {
    RunOnce();
    return dr::WallSeconds(env_) + static_cast<int64_t>(options_.interval_seconds);
  });
  timer_->Start();
}

void DrCheckRunner::Stop() {
  if (timer_) timer_->Stop();
}

void DrCheckRunner::RunOnce() {
  Last next;
  next.at_seconds = dr::WallSeconds(env_);
  nlohmann::json status = status_();
  if (status.value("role", "") != "primary") {
    // A standby or a fenced server: its primary's check is the one that counts.
    next.error = fmt::format("not a primary ({}): the check judges the primary's setup", status.value("role", "?"));
  } else {
    next.judged = true;
    dr::DrFacts facts = dr::FactsFromStatus(status);
    if (!options_.monitor_url.empty()) {
      dr::HttpCallOptions o;
      o.token = options_.monitor_token;
      o.timeout_ms = 3000;
      auto m = dr::PostJson(options_.monitor_url, "/ark/v1/monitor/status", nlohmann::json::object(), o);
      if (m.ok()) {
        auto f = dr::FailoverFactFromMonitor(*m, status, options_.monitor_url);
        if (f.ok()) {
          facts.failover = *f;
        } else {
          next.error = f.status().message();
        }
      } else {
        next.error = "the monitor's settings are unknown: " + m.status().message();
      }
    }
    next.findings = dr::JudgeStatus(status, facts);
  }
  std::set<std::string> failing_before, failing_now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& f : last_.findings) {
      if (f.severity == "fail") failing_before.insert(f.database + "/" + f.target + ": " + f.message);
    }
  }
  for (const auto& f : next.findings) {
    if (f.severity != "fail") continue;
    const std::string key = f.database + "/" + f.target + ": " + f.message;
    failing_now.insert(key);
    if (!failing_before.count(key)) spdlog::warn("dr check: {} {} target not met: {}", f.database, f.target, f.message);
  }
  if (!failing_before.empty() && failing_now.empty()) spdlog::info("dr check: every DR target is met again");
  std::lock_guard<std::mutex> lock(mu_);
  last_ = std::move(next);
}

DrCheckRunner::Last DrCheckRunner::GetLast() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

void DrCheckRunner::AddMetrics(MetricsRegistry* metrics) {
  metrics->Describe("ark_dr_check_last_run_timestamp_seconds", "Unix time of the server's last own DR check");
  metrics->Describe("ark_dr_check_passed", "1 if the last DR check found every tier's targets met, else 0");
  metrics->Describe("ark_dr_check_findings", "Findings of the last DR check by severity (fail, warn, ok)");
  metrics->AddCollector([this](MetricsRegistry& m) {
    const Last last = GetLast();
    if (last.at_seconds == 0 || !last.judged) return;
    size_t fail = 0, warn = 0, ok = 0;
    for (const auto& f : last.findings) (f.severity == "fail" ? fail : f.severity == "warn" ? warn : ok) += 1;
    m.SetGauge("ark_dr_check_last_run_timestamp_seconds", {}, static_cast<double>(last.at_seconds));
    m.SetGauge("ark_dr_check_passed", {}, fail == 0 && last.error.empty() ? 1 : 0);
    m.SetGauge("ark_dr_check_findings", {{"severity", "fail"}}, static_cast<double>(fail));
    m.SetGauge("ark_dr_check_findings", {{"severity", "warn"}}, static_cast<double>(warn));
    m.SetGauge("ark_dr_check_findings", {{"severity", "ok"}}, static_cast<double>(ok));
  });
}

}  // namespace ark::server
