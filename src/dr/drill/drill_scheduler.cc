#include "dr/drill/drill_scheduler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "dr/drill/drill_report.h"
#include "dr/drill/restore_check.h"
#include "dr/repository/repository_open.h"

namespace ark::dr {
namespace {

std::optional<double> MeasuredSeconds(const nlohmann::json& measured, const char* key) {
  if (!measured.is_object() || !measured.contains(key) || !measured[key].is_number())
    return std::nullopt;
  return measured[key].get<double>() / 1000;
}

}  // namespace

DrillScheduler::DrillScheduler(Env* env, MetricsRegistry* metrics, DrillSchedulerOptions options,
                               std::vector<DrillScheduleConfig> schedules)
    : env_(env),
      metrics_(metrics),
      options_(std::move(options)),
      reports_(env, options_.report_dir) {
  for (auto& c : schedules) schedules_[c.name].config = std::move(c);
}

DrillScheduler::~DrillScheduler() { Stop(); }

Status DrillScheduler::Start(bool timer) {
  const int64_t now = WallSeconds(env_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, s] : schedules_) {
      const std::string where = fmt::format("drills.schedules[name={}]", name);
      ARK_RETURN_IF_ERROR(ValidateDrillSchedule(s.config, where));
      if (auto key = KeyFromOptions(env_, s.config.key_file, s.config.passphrase_file); !key.ok()) {
        return key.status().WithContext(where);
      }
      if (!s.config.key_file.empty()) {  // KeyFromOptions leaves it to the repository: read it now
        std::string bytes;
        const Status read = env_->ReadFileToString(s.config.key_file, &bytes);
        std::fill(bytes.begin(), bytes.end(), '\0');
        if (!read.ok()) {
          return Status::InvalidArgument(
              fmt::format("{}.key_file: cannot read {}", where, s.config.key_file));
        }
      }
      ARK_ASSIGN_OR_RETURN(CronSchedule cron, CronSchedule::Parse(s.config.cron));
      s.cron = cron;
      s.stats.next_run = cron.NextAfter(now).value_or(0);
    }
    if (!schedules_.empty() && (options_.report_dir.empty() || options_.ark_binary.empty())) {
      return Status::InvalidArgument(
          "scheduled drills need a report directory and the ark executable");
    }
  }
  if (metrics_ != nullptr) {
    metrics_->Describe("ark_drill_runs_total", "Drills the schedule started");
    metrics_->Describe("ark_drill_failures_total", "Drills of the schedule that did not pass");
    metrics_->Describe("ark_drill_missed_runs_total",
                       "Cron times of the schedule passed over while another drill ran");
    metrics_->Describe("ark_drill_running", "1 while the schedule's drill runs");
    metrics_->Describe("ark_drill_next_run_timestamp_seconds",
                       "Unix time of the schedule's next drill");
    metrics_->Describe("ark_drill_last_run_timestamp_seconds",
                       "Unix time the schedule's last finished drill started (0: none yet)");
    metrics_->Describe("ark_drill_last_passed", "1 if the schedule's last drill passed, else 0");
    metrics_->Describe("ark_drill_last_rto_seconds",
                       "RTO the schedule's last drill measured (NaN: not measured)");
    metrics_->Describe("ark_drill_last_rpo_seconds",
                       "RPO the schedule's last drill measured (NaN: not measured)");
    metrics_->AddCollector([this](MetricsRegistry& m) { Collect(m); });
    reports_.AddMetrics(metrics_);
  }
  if (timer) timer_.Start();
  return Status::OK();
}

void DrillScheduler::Stop() { timer_.Stop(); }

void DrillScheduler::Poke() { timer_.Poke(); }

std::optional<DrillScheduleConfig> DrillScheduler::TakeDue(int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, s] : schedules_) {
    if (!s.cron || s.stats.next_run == 0 || s.stats.next_run > now) continue;
    if (now == last_start_) continue;  // it would get the previous run's report id
    const int passed = TakeDueRuns(*s.cron, now, &s.stats.next_run);
    s.stats.missed += static_cast<uint64_t>(passed - 1);
    if (passed > 1) {
      spdlog::warn(
          "drill schedule '{}': {} cron time(s) passed while another drill ran; running once now",
          name, passed);
    }
    s.stats.runs++;
    s.stats.running = true;
    return s.config;
  }
  return std::nullopt;
}

int64_t DrillScheduler::RunDue() {
  std::lock_guard<std::mutex> step(step_mu_);
  int64_t now = WallSeconds(env_);
  // One drill at a time; the clock is read again after each (a drill takes time).
  while (auto config = TakeDue(now)) {
    last_start_ = now;
    RunOne(*config);
    now = WallSeconds(env_);
  }
  int64_t next = 0;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, s] : schedules_) {
    if (s.stats.next_run == 0) continue;
    // Still due: held back by a second so as not to share a report id.
    const int64_t t = std::max(s.stats.next_run, now + 1);
    if (next == 0 || t < next) next = t;
  }
  return next;
}

void DrillScheduler::RunOne(const DrillScheduleConfig& c) {
  DrillReport report(env_, c.scenario);
  spdlog::info("drill schedule '{}': {} of {} started (report {})", c.name, c.scenario, c.repo,
               report.id());
  Status outcome = [&]() -> Status {
    // Failures before the drill starts are the drill's too: reported the same way.
    auto opened = [&]() -> Result<OpenedRepository> {
      ARK_ASSIGN_OR_RETURN(EncryptionKey key, KeyFromOptions(env_, c.key_file, c.passphrase_file));
      return OpenRepositoryUrl(env_, c.repo, key, /*create=*/false);
    }();
    if (!opened.ok()) {
      report.Event("drill-started", "disaster",
                   fmt::format("restore-check of {} by schedule '{}'", c.repo, c.name));
      report.Fail(opened.status());
      return opened.status();
    }
    RestoreCheckOptions o;
    o.repo_description = c.repo;
    o.to_latest = c.to_latest;
    o.work_dir = JoinPath(options_.report_dir, report.id() + ".scratch");
    o.ark_binary = options_.ark_binary;
    o.samples = c.samples;
    o.ready_timeout_ms = options_.ready_timeout_ms;
    return RunRestoreCheck(env_, opened->repo.get(), o, &report);
  }();
  auto written = report.Write(options_.report_dir);
  if (!written.ok()) {
    spdlog::error("drill schedule '{}': the report {} could not be written: {}", c.name,
                  report.id(), written.status().ToString());
    if (outcome.ok()) outcome = written.status().WithContext("writing the report");
  }
  const nlohmann::json measured = report.ToJson()["measured"];

  std::lock_guard<std::mutex> lock(mu_);
  Stats& st = schedules_[c.name].stats;
  st.running = false;
  st.finished = true;
  st.last_run = static_cast<int64_t>(report.started_micros() / 1000000);
  st.last_passed = outcome.ok();
  st.last_rto_seconds = MeasuredSeconds(measured, "rtoMs");
  st.last_rpo_seconds = MeasuredSeconds(measured, "rpoMs");
  st.last_report_dir = written.ok() ? *written : "";
  st.last_error = outcome.ok() ? "" : outcome.ToString();
  if (outcome.ok()) {
    spdlog::info("drill schedule '{}': {} passed (report {})", c.name, report.id(),
                 st.last_report_dir);
  } else {
    st.failures++;
    spdlog::error("drill schedule '{}': {} failed: {} (report {})", c.name, report.id(),
                  st.last_error, st.last_report_dir.empty() ? "not written" : st.last_report_dir);
  }
}

DrillScheduler::Stats DrillScheduler::GetStats(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = schedules_.find(name);
  return it == schedules_.end() ? Stats{} : it->second.stats;
}

void DrillScheduler::Collect(MetricsRegistry& m) const {
  constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, s] : schedules_) {
    const MetricLabels l{{"schedule", name}, {"scenario", s.config.scenario}};
    const Stats& st = s.stats;
    m.SetGauge("ark_drill_runs_total", l, static_cast<double>(st.runs));
    m.SetGauge("ark_drill_failures_total", l, static_cast<double>(st.failures));
    m.SetGauge("ark_drill_missed_runs_total", l, static_cast<double>(st.missed));
    m.SetGauge("ark_drill_running", l, st.running ? 1 : 0);
    m.SetGauge("ark_drill_next_run_timestamp_seconds", l, static_cast<double>(st.next_run));
    m.SetGauge("ark_drill_last_run_timestamp_seconds", l, static_cast<double>(st.last_run));
    if (!st.finished) continue;  // no verdict yet: absent, not a failure
    m.SetGauge("ark_drill_last_passed", l, st.last_passed ? 1 : 0);
    m.SetGauge("ark_drill_last_rto_seconds", l, st.last_rto_seconds.value_or(kNotMeasured));
    m.SetGauge("ark_drill_last_rpo_seconds", l, st.last_rpo_seconds.value_or(kNotMeasured));
  }
}

}  // namespace ark::dr
