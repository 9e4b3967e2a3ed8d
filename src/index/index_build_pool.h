// IndexBuildPool: a bounded pool of background threads that build indexes
// (the engine submits one task per sealed segment).
//
// Promises:
//   - Submit never blocks: when `max_queued` tasks are already waiting it
//     returns ResourceExhausted at once (the caller keeps searching the
//     segment exactly and retries later). Running tasks do not count.
//   - Every accepted task gets exactly one call of its `done` callback: with
//     the Status its `run` returned, or Cancelled if it was cancelled (or the
//     pool destroyed) before it started.
//   - Cancel(id) removes a queued task, or raises the cancel flag of a
//     running one; `run` should poll the flag (BuildOptions::cancel does this
//     for index builds) and return Cancelled.
//   - With `threads == 0` nothing runs by itself: tests drive the pool with
//     RunOne() on their own thread, step by step.
//   - The destructor cancels queued tasks, raises the flag of running ones
//     and joins the workers.
//
// Thread-safety: all methods are thread-safe. `run` and `done` execute on a
// worker thread (or RunOne's caller) without the pool's lock held, so they
// may call back into the pool.
#pragma once

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace ark {

class IndexBuildPool {
 public:
  struct Options {
    int threads = 1;          // 0 = manual mode (RunOne only)
    size_t max_queued = 16;   // tasks waiting to start
  };
  using TaskId = uint64_t;
  using RunFn = std::function<Status(const std::atomic<bool>& cancelled)>;
  using DoneFn = std::function<void(TaskId, const Status&)>;

  explicit IndexBuildPool(Options options);
  ~IndexBuildPool();
  IndexBuildPool(const IndexBuildPool&) = delete;
  IndexBuildPool& operator=(const IndexBuildPool&) = delete;

  // Queues a task; `name` appears in messages (e.g. "collection docs segment
  // 7 field embedding"). ResourceExhausted naming the limit when the queue is
  // full; FailedPrecondition after shutdown began.
  Result<TaskId> Submit(std::string name, RunFn run, DoneFn done = nullptr);

  // True if the task was still queued (removed; done gets Cancelled) or
  // running (flag raised); false if unknown or already finished.
  bool Cancel(TaskId id);

  // Manual mode and tests: runs the oldest queued task on this thread.
  // Returns false if none was queued.
  bool RunOne();

  // Waits until nothing is queued or running, or the timeout passes.
  // Returns true if idle.
  bool WaitUntilIdle(std::chrono::milliseconds timeout);

  size_t queued() const;
  size_t running() const;

 private:
  struct Task {
    TaskId id;
    std::string name;
    RunFn run;
    DoneFn done;
    std::shared_ptr<std::atomic<bool>> cancelled;
  };

  void WorkerLoop();
  // Runs `task` (lock not held) and bookkeeps its end.
  void Execute(Task task);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // a task was queued, or shutdown
  std::condition_variable idle_cv_;  // a task finished or was removed
  std::deque<Task> queue_;           // guarded by mu_
  // Cancel flags of running tasks, by id. Guarded by mu_.
  std::unordered_map<TaskId, std::shared_ptr<std::atomic<bool>>> running_;
  TaskId next_id_ = 1;               // guarded by mu_
  bool shutting_down_ = false;       // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace ark
