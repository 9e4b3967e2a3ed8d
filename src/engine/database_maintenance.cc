#include "engine/database_maintenance.h"

#include <spdlog/spdlog.h>

namespace ark {

void DatabaseMaintenance::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
      lock.unlock();
      Status s = RunOnce();
      // A sticky engine error is reported by /readyz; say it once per pass here.
      if (!s.ok()) spdlog::warn("maintenance pass: {}", s.ToString());
      lock.lock();
    }
  });
}

void DatabaseMaintenance::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status DatabaseMaintenance::RunOnce() {
  Status first = db_->MaybeSealAged();
  Status slots = db_->EnforceSlotBounds();
  if (first.ok()) first = slots;
  std::lock_guard<std::mutex> lock(mu_);
  ++passes_;
  return first;
}

}  // namespace ark
