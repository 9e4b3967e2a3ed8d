// JobManager: long-running DR operations (backup, verify, restore, scheduled
// backups) run as jobs in background threads, so a caller only starts one
// and polls it or cancels it (the server's /ark/v1/jobs routes do, in
// server/admin_backup.cc). Nothing here knows about HTTP.
//
// A job moves running -> succeeded | failed | cancelled exactly once. While it
// runs its dr::Progress is live; when it ends it holds a result (JSON) or an
// error. Finished jobs are kept (the newest kMaxFinished) so a client that
// polls late still sees the outcome. Cancelling sets the job's flag; the job's
// function notices it at its next check and returns Cancelled, having
// committed nothing (dr/backup/backup.h).
//
// Times (startedMicros, finishedMicros, Wait's deadline) come from the
// injected Env's clocks, so a test with a FakeClockEnv controls them.
//
// Thread-safety: every method may be called from several threads. The
// destructor cancels running jobs and waits for them.
#pragma once

#include <atomic>
#include <chrono>
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
#include "dr/jobs/progress.h"
#include "storage/env.h"

namespace ark::dr {

class JobManager {
 public:
  using JobFn = std::function<Result<nlohmann::json>(Progress*, const std::atomic<bool>* cancelled)>;
  static constexpr size_t kMaxFinished = 100;

  // `env` (the clock) must outlive the manager.
  explicit JobManager(Env* env, int max_running = 2) : env_(env), max_running_(max_running) {}
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
  // Blocks until the job finished or `timeout` passed on the Env's monotonic
  // clock (checked at least every 50 ms of real time, so a test that moves a
  // fake clock sees the timeout); its final JSON or TimedOut.
  Result<nlohmann::json> Wait(const std::string& id, std::chrono::milliseconds timeout) const;
  int Running() const;

 private:
  struct Job;
  nlohmann::json ToJson(const Job& job) const;  // mu_ held
  void Reap();                                  // mu_ held: forget the oldest finished jobs

  Env* const env_;
  const int max_running_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Job>> jobs_;  // by number
};

}  // namespace ark::dr
