#include "dr/schedule/backup_scheduler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "dr/backup/backup.h"
#include "engine/dr_seam.h"
#include "dr/repository/repository_open.h"

namespace ark::dr {
namespace {

RetentionPolicy PolicyOf(const BackupScheduleConfig& c) {
  return {c.keep_last, c.keep_days, c.keep_daily, c.keep_weekly, c.keep_monthly};
}

}  // namespace

BackupScheduler::BackupScheduler(Env* env, Database* db, JobManager* jobs, MetricsRegistry* metrics,
                                 std::vector<BackupScheduleConfig> schedules)
    : env_(env), db_(db), jobs_(jobs), metrics_(metrics) {
  for (auto& c : schedules) schedules_[c.name].config = std::move(c);
}

BackupScheduler::~BackupScheduler() { Stop(); }

int64_t BackupScheduler::NowSeconds() const { return WallSeconds(env_); }

Status BackupScheduler::Start(bool timer) {
  const int64_t now = NowSeconds();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, s] : schedules_) {
      ARK_ASSIGN_OR_RETURN(CronSchedule cron, CronSchedule::Parse(s.config.cron));
      s.cron = cron;
      s.stats.next_run = cron.NextAfter(now).value_or(0);
    }
  }
  // Missed runs: cron times after the newest backup of the schedule.
  for (auto& [name, s] : schedules_) {
    ARK_ASSIGN_OR_RETURN(auto key, KeyFromOptions(env_, s.config.key_file, s.config.passphrase_file));
    auto repo = OpenRepositoryUrl(env_, s.config.repo, key, /*create=*/true);
    if (!repo.ok()) return repo.status().WithContext(fmt::format("schedule '{}'", name));
    auto backups = ListBackups(repo->repo.get());
    if (!backups.ok()) return backups.status().WithContext(fmt::format("schedule '{}'", name));
    int64_t last = 0;
    for (const auto& b : *backups) {
      if (b.name.rfind(name + "-", 0) == 0) last = std::max(last, static_cast<int64_t>(b.started_micros / 1000000));
    }
    if (last == 0) continue;  // a new schedule has missed nothing
    int missed = s.cron->CountFiresBetween(last, now, 100000);
    if (missed > 0) {
      spdlog::warn("schedule '{}' missed {} run(s) since its last backup at unix time {}; running one now", name,
                   missed, last);
      std::lock_guard<std::mutex> lock(mu_);
      s.stats.missed += static_cast<uint64_t>(missed);
      ARK_RETURN_IF_ERROR(FireLocked(s).status());
    }
  }
  if (metrics_ != nullptr) {
    metrics_->Describe("ark_backup_last_success_timestamp_seconds", "Unix time of the schedule's last successful backup");
    metrics_->Describe("ark_backup_last_duration_seconds", "Duration of the schedule's last backup run");
    metrics_->Describe("ark_backup_last_new_bytes", "Bytes the schedule's last successful backup uploaded");
    metrics_->Describe("ark_backup_last_total_bytes", "Bytes the schedule's last successful backup references");
    metrics_->Describe("ark_backup_runs_total", "Backup runs started by the schedule");
    metrics_->Describe("ark_backup_failures_total", "Backup runs of the schedule that failed");
    metrics_->Describe("ark_backup_missed_runs_total", "Cron times of the schedule that passed without a run");
    metrics_->Describe("ark_backup_next_run_timestamp_seconds", "Unix time of the schedule's next run");
    metrics_->AddCollector([this](MetricsRegistry& m) { Collect(m); });
  }
  if (timer) timer_.Start();
  return Status::OK();
}

void BackupScheduler::Poke() { timer_.Poke(); }

void BackupScheduler::Stop() {
  timer_.Stop();
  // A scheduled backup still running updates this scheduler when it ends,
  // and the job runner outlives it (ark serve): cancel it and wait, so no
  // job ever touches a destroyed scheduler.
  std::vector<std::string> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, s] : schedules_) {
      if (!s.stats.running_job.empty()) running.push_back(s.stats.running_job);
    }
  }
  for (const auto& id : running) {
    (void)jobs_->Cancel(id);  // a finished job: nothing to cancel
    auto done = jobs_->Wait(id, std::chrono::minutes(10));
    if (!done.ok()) spdlog::warn("schedule: job {} did not end at shutdown: {}", id, done.status().ToString());
  }
}

int64_t BackupScheduler::RunDue() {
  std::lock_guard<std::mutex> lock(mu_);
  return RunDueLocked();
}

int64_t BackupScheduler::RunDueLocked() {
  const int64_t now = NowSeconds();
  int64_t next = 0;
  for (auto& [name, s] : schedules_) {
    if (!s.cron) continue;  // not started
    if (TakeDueRuns(*s.cron, now, &s.stats.next_run) > 0) {
      auto r = FireLocked(s);
      if (!r.ok()) spdlog::error("schedule '{}': {}", name, r.status().ToString());
    }
    if (s.stats.next_run != 0 && (next == 0 || s.stats.next_run < next)) next = s.stats.next_run;
  }
  return next;
}

Result<std::string> BackupScheduler::Fire(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = schedules_.find(name);
  if (it == schedules_.end()) return Status::NotFound(fmt::format("no schedule named '{}'", name));
  return FireLocked(it->second);
}

Result<std::string> BackupScheduler::FireLocked(Schedule& s) {
  if (!s.stats.running_job.empty()) {
    auto job = jobs_->Get(s.stats.running_job);
    if (job.ok() && (*job)["state"] == "running") {
      s.stats.missed++;
      spdlog::warn("schedule '{}': the previous run {} is still going; this run is skipped (missed)", s.config.name,
                   s.stats.running_job);
      return std::string();
    }
  }
  const BackupScheduleConfig config = s.config;
  const std::string name = config.name;
  std::vector<CollectionName> collections;
  for (const auto& c : config.collections) {
    ARK_ASSIGN_OR_RETURN(auto n, ParseCollectionName(c));
    collections.push_back(std::move(n));
  }
  Database* db = db_;
  s.stats.runs++;
  auto started = NowSeconds();
  auto job = jobs_->Start(
      "scheduled-backup", "schedule " + name,
      [this, db, config, collections, started](Progress* p, const std::atomic<bool>* c) -> Result<nlohmann::json> {
        auto run = [&]() -> Result<nlohmann::json> {
          ARK_ASSIGN_OR_RETURN(auto key, KeyFromOptions(env_, config.key_file, config.passphrase_file));
          ARK_ASSIGN_OR_RETURN(auto repo, OpenRepositoryUrl(env_, config.repo, key, /*create=*/true));
          BackupOptions o;
          o.name = config.name + "-" + DefaultBackupName(static_cast<uint64_t>(NowSeconds()) * 1000000).substr(4);
          o.collections = collections;
          o.parallelism = config.parallel;
          o.source = "schedule " + config.name + " of server " + DrSeam(db).Describe();
          ARK_ASSIGN_OR_RETURN(auto m, CreateBackup(db, repo.repo.get(), o, p, c));
          nlohmann::json out = {{"backup", BackupManifestToJson(m)}};
          RetentionPolicy policy = PolicyOf(config);
          {
            std::lock_guard<std::mutex> lock(mu_);
            Stats& st = schedules_[config.name].stats;
            st.last_success = NowSeconds();
            st.last_duration = m.stats.seconds;
            st.last_new_bytes = m.stats.new_stored_bytes;
            st.last_total_bytes = m.stats.total_bytes;
            st.last_error.clear();
          }
          if (!policy.empty()) {
            PruneOptions prune;
            prune.policy = policy;
            // Only this schedule's backups are subject to its retention.
            prune.only_prefix = config.name + "-";
            auto pruned = PruneBackups(repo.repo.get(), prune);
            if (!pruned.ok()) {
              spdlog::warn("schedule '{}': retention: {}", config.name, pruned.status().ToString());
              out["retentionError"] = pruned.status().ToString();
            } else {
              out["removed"] = pruned->removed;
              out["blobsDeleted"] = pruned->blobs_deleted;
            }
          }
          return out;
        };
        auto r = run();
        if (!r.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          Stats& st = schedules_[config.name].stats;
          st.failures++;
          st.last_duration = static_cast<double>(NowSeconds() - started);
          st.last_error = r.status().ToString();
          spdlog::error("schedule '{}': backup failed: {}", config.name, st.last_error);
        }
        return r;
      });
  if (!job.ok()) {
    s.stats.failures++;
    s.stats.last_error = job.status().ToString();
    return job.status();
  }
  s.stats.running_job = *job;
  spdlog::info("schedule '{}': started backup job {}", name, *job);
  return *job;
}

BackupScheduler::Stats BackupScheduler::GetStats(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = schedules_.find(name);
  return it == schedules_.end() ? Stats{} : it->second.stats;
}

void BackupScheduler::Collect(MetricsRegistry& m) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, s] : schedules_) {
    MetricLabels l{{"schedule", name}};
    m.SetGauge("ark_backup_last_success_timestamp_seconds", l, static_cast<double>(s.stats.last_success));
    m.SetGauge("ark_backup_last_duration_seconds", l, s.stats.last_duration);
    m.SetGauge("ark_backup_last_new_bytes", l, static_cast<double>(s.stats.last_new_bytes));
    m.SetGauge("ark_backup_last_total_bytes", l, static_cast<double>(s.stats.last_total_bytes));
    m.SetGauge("ark_backup_runs_total", l, static_cast<double>(s.stats.runs));
    m.SetGauge("ark_backup_failures_total", l, static_cast<double>(s.stats.failures));
    m.SetGauge("ark_backup_missed_runs_total", l, static_cast<double>(s.stats.missed));
    m.SetGauge("ark_backup_next_run_timestamp_seconds", l, static_cast<double>(s.stats.next_run));
  }
}

}  // namespace ark::dr
