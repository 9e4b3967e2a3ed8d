#include "dr/jobs/job_manager.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace ark::dr {

struct JobManager::Job {
  uint64_t number = 0;
  std::string kind;
  std::string description;
  std::string state = "running";
  uint64_t started_micros = 0;
  uint64_t finished_micros = 0;
  Progress progress;
  std::atomic<bool> cancelled{false};
  nlohmann::json result;
  Status error;
  std::thread thread;  // joined when the job is forgotten or at shutdown
};

JobManager::~JobManager() {
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [n, job] : jobs_) {
      job->cancelled = true;
      jobs.push_back(job);
    }
  }
  for (auto& job : jobs) {
    if (job->thread.joinable()) job->thread.join();
  }
}

int JobManager::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  int running = 0;
  for (const auto& [n, job] : jobs_) running += job->state == "running";
  return running;
}

Result<std::string> JobManager::Start(const std::string& kind, const std::string& description, JobFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  int running = 0;
  for (const auto& [n, job] : jobs_) running += job->state == "running";
  if (running >= max_running_) {
    return Status::ResourceExhausted(
        fmt::format("{} admin jobs are running already (the limit); wait for one to finish", running));
  }
  auto job = std::make_shared<Job>();
  job->number = next_id_++;
  job->kind = kind;
  job->description = description;
  job->started_micros = env_->WallMicros();
  job->progress.started_micros = job->started_micros;
  jobs_[job->number] = job;
  Reap();
  job->thread = std::thread([this, job, fn = std::move(fn)] {
    Result<nlohmann::json> r = fn(&job->progress, &job->cancelled);
    std::lock_guard<std::mutex> lock(mu_);
    job->finished_micros = env_->WallMicros();
    if (r.ok()) {
      job->state = "succeeded";
      job->result = std::move(r).value();
    } else {
      job->state = r.status().code() == StatusCode::kCancelled ? "cancelled" : "failed";
      job->error = r.status();
    }
    cv_.notify_all();
  });
  return fmt::format("job-{}", job->number);
}

void JobManager::Reap() {
  size_t finished = 0;
  for (const auto& [n, job] : jobs_) finished += job->state != "running";
  for (auto it = jobs_.begin(); it != jobs_.end() && finished > kMaxFinished;) {
    if (it->second->state != "running") {
      // Finished: its thread set the state and released mu_ for the last
      // time, so the join returns at once.
      if (it->second->thread.joinable()) it->second->thread.join();
      it = jobs_.erase(it);
      --finished;
    } else {
      ++it;
    }
  }
}

nlohmann::json JobManager::ToJson(const Job& job) const {
  const Progress& p = job.progress;
  nlohmann::json j = {
      {"jobId", fmt::format("job-{}", job.number)},
      {"kind", job.kind},
      {"description", job.description},
      {"state", job.state},
      {"startedMicros", job.started_micros},
      {"finishedMicros", job.finished_micros},
      {"progress",
       {{"filesDone", p.files_done.load()},
        {"filesTotal", p.files_total.load()},
        {"bytesDone", p.bytes_done.load()},
        {"bytesTotal", p.bytes_total.load()},
        {"bytesTransferred", p.bytes_transferred.load()}}},
  };
  if (job.state == "succeeded") j["result"] = job.result;
  if (!job.error.ok()) {
    j["error"] = {{"code", std::string(StatusCodeName(job.error.code()))}, {"message", job.error.message()}};
  }
  return j;
}

static Result<uint64_t> ParseJobId(const std::string& id) {
  if (id.rfind("job-", 0) != 0 || id.size() > 24 || id.size() == 4) {
    return Status::InvalidArgument(fmt::format("'{}' is not a job id (job-N)", id.substr(0, 40)));
  }
  uint64_t n = 0;
  for (char c : id.substr(4)) {
    if (c < '0' || c > '9') return Status::InvalidArgument(fmt::format("'{}' is not a job id (job-N)", id));
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

Result<nlohmann::json> JobManager::Get(const std::string& id) const {
  ARK_ASSIGN_OR_RETURN(uint64_t n, ParseJobId(id));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(n);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", id));
  return ToJson(*it->second);
}

nlohmann::json JobManager::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) out.push_back(ToJson(*it->second));
  return out;
}

Status JobManager::Cancel(const std::string& id) {
  ARK_ASSIGN_OR_RETURN(uint64_t n, ParseJobId(id));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(n);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", id));
  if (it->second->state != "running") {
    return Status::FailedPrecondition(fmt::format("job {} already {}", id, it->second->state));
  }
  it->second->cancelled = true;
  return Status::OK();
}

Result<nlohmann::json> JobManager::Wait(const std::string& id, std::chrono::milliseconds timeout) const {
  ARK_ASSIGN_OR_RETURN(uint64_t n, ParseJobId(id));
  std::unique_lock<std::mutex> lock(mu_);
  auto it = jobs_.find(n);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", id));
  auto job = it->second;
  const uint64_t timeout_micros = static_cast<uint64_t>(std::max<int64_t>(0, timeout.count())) * 1000;
  const uint64_t deadline = env_->NowMicros() + timeout_micros;
  while (job->state == "running") {
    const uint64_t now = env_->NowMicros();
    if (now >= deadline) return Status::TimedOut(fmt::format("job {} still running", id));
    // Real waits in slices: the deadline is the Env's, which a test may move.
    const auto slice = std::chrono::microseconds(std::min<uint64_t>(deadline - now, 50'000));
    cv_.wait_for(lock, slice, [&] { return job->state != "running"; });
  }
  return ToJson(*job);
}

}  // namespace ark::dr
