// JobManager: long-running admin operations (backup, verify, restore) run as
// jobs in background threads, so an HTTP request only starts one and clients
// poll it (/ark/v1/jobs/get) or cancel it (/ark/v1/jobs/cancel).
//
// A job moves running -> succeeded | failed | cancelled exactly once. While it
// runs its dr::Progress is live; when it ends it holds a result (JSON) or an
// error. Finished jobs are kept (the newest kMaxFinished) so a client that
// polls late still sees the outcome. Cancelling sets the job's flag; the job's
// function notices it at its next check and returns Cancelled, having
// committed nothing (dr/backup.h).
//
// Thread-safety: every method may be called from several threads. The
// destructor cancels running jobs and waits for them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dr/backup.h"

namespace ark::server {

class JobManager {
 public:
  using JobFn = std::function<Result<nlohmann::json>(dr::Progress*, const std::atomic<bool>* cancelled)>;
  static constexpr size_t kMaxFinished = 100;

  explicit JobManager(int max_running = 2) : max_running_(max_running) {}
  ~JobManager();
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Starts `fn` on its own thread; returns the job id ("job-<n>").
  // ResourceExhausted when max_running jobs are running already.
  Result<std::string> Start(const std::string& kind, const std::string& description, JobFn fn);
  // {"jobId","kind","description","state","startedMicros","finishedMicros",
  //  "progress":{...}, "result" | "error":{"code","message"}}
  Result<nlohmann::json> Get(const std::string& id) const;
  nlohmann::json List() const;  // newest first
  // NotFound for an unknown id; FailedPrecondition if it already finished.
  Status Cancel(const std::string& id);
  // Blocks until the job finished or the timeout passed; its final JSON or TimedOut.
  Result<nlohmann::json> Wait(const std::string& id, std::chrono::milliseconds timeout) const;
  int Running() const;

 private:
  struct Job;
  nlohmann::json ToJson(const Job& job) const;  // mu_ held
  void Reap();                                  // mu_ held: forget the oldest finished jobs

  const int max_running_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Job>> jobs_;  // by number
};

}  // namespace ark::server
