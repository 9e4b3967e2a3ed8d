#include "index/index_build_pool.h"

#include <algorithm>

#include <fmt/format.h>

namespace ark {

IndexBuildPool::IndexBuildPool(Options options) : options_(options) {
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

IndexBuildPool::~IndexBuildPool() {
  std::deque<Task> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    dropped.swap(queue_);
    for (auto& [id, flag] : running_) flag->store(true);
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  for (Task& task : dropped) {
    if (task.done) task.done(task.id, Status::Cancelled("index build " + task.name + ": pool shut down"));
  }
}

Result<IndexBuildPool::TaskId> IndexBuildPool::Submit(std::string name, RunFn run, DoneFn done) {
  TaskId id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return Status::FailedPrecondition("index build " + name + ": pool is shutting down");
    if (queue_.size() >= options_.max_queued) {
      return Status::ResourceExhausted(fmt::format("index build {}: queue full ({} tasks waiting, limit {})", name,
                                                   queue_.size(), options_.max_queued));
    }
    id = next_id_++;
    queue_.push_back(Task{id, std::move(name), std::move(run), std::move(done),
                          std::make_shared<std::atomic<bool>>(false)});
  }
  work_cv_.notify_one();
  return id;
}

bool IndexBuildPool::Cancel(TaskId id) {
  Task removed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = running_.find(id); it != running_.end()) {
      it->second->store(true);
      return true;
    }
    auto it = std::find_if(queue_.begin(), queue_.end(), [&](const Task& t) { return t.id == id; });
    if (it == queue_.end()) return false;
    removed = std::move(*it);
    queue_.erase(it);
  }
  idle_cv_.notify_all();
  if (removed.done) removed.done(removed.id, Status::Cancelled("index build " + removed.name + ": cancelled"));
  return true;
}

bool IndexBuildPool::RunOne() {
  Task task;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty()) return false;
    task = std::move(queue_.front());
    queue_.pop_front();
    running_.emplace(task.id, task.cancelled);
  }
  Execute(std::move(task));
  return true;
}

void IndexBuildPool::WorkerLoop() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return shutting_down_ || !queue_.empty(); });
      if (shutting_down_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      running_.emplace(task.id, task.cancelled);
    }
    Execute(std::move(task));
  }
}

void IndexBuildPool::Execute(Task task) {
  Status status;
  if (task.cancelled->load()) {
    status = Status::Cancelled("index build " + task.name + ": cancelled");
  } else {
    // A task that finishes despite a late cancel reports its own status.
    status = task.run(*task.cancelled);
  }
  if (task.done) task.done(task.id, status);
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(task.id);
  }
  idle_cv_.notify_all();
}

bool IndexBuildPool::WaitUntilIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [&] { return queue_.empty() && running_.empty(); });
}

size_t IndexBuildPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t IndexBuildPool::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_.size();
}

}  // namespace ark
