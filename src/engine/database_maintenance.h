// DatabaseMaintenance: the background loop `ark serve` runs beside an open
// Database. Each pass seals the collections whose unsealed rows are older
// than DatabaseOptions::seal_age_micros (Database::MaybeSealAged) — without
// it a collection that stops receiving writes would hold the WAL checkpoint,
// and so every WAL segment after it, forever — and enforces the size bounds
// of the WAL's durable slots (a slot past its bound is invalidated and
// logged; writes continue).
//
// The loop waits `interval` between passes on a condition variable (Stop()
// wakes it at once). RunOnce() does one pass on the caller's thread, so tests
// drive it by hand instead of waiting for the timer.
//
// Thread-safety: Start/Stop from one thread; RunOnce may run concurrently
// with the loop (the Database serialises seals).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/status.h"
#include "engine/database.h"

namespace ark {

class DatabaseMaintenance {
 public:
  DatabaseMaintenance(Database* db, std::chrono::milliseconds interval) : db_(db), interval_(interval) {}
  ~DatabaseMaintenance() { Stop(); }
  DatabaseMaintenance(const DatabaseMaintenance&) = delete;
  DatabaseMaintenance& operator=(const DatabaseMaintenance&) = delete;

  void Start();
  void Stop();
  // One pass: seal aged collections, enforce slot bounds. Returns the first
  // error (the pass still tries every step).
  Status RunOnce();
  uint64_t passes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return passes_;
  }

 private:
  Database* const db_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;    // GUARDED_BY(mu_)
  uint64_t passes_ = 0;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace ark
