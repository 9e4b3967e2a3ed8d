// FakeClockEnv: an Env whose clocks a test sets by hand; files go to the
// wrapped Env. Anything that takes its clock from an Env (leases, backup
// schedules, job timestamps, prune grace periods) can then be tested at any
// instant, and across hours of "time", without sleeping.
//
// Both clocks start where the test puts them and move only when told:
// Advance() moves both by the same amount (the usual case: time passes);
// SetWallMicros() alone models a wall-clock step (NTP, an operator), which
// must not move the monotonic clock.
//
// Thread-safety: every method is thread-safe (the clocks are atomics).
#pragma once

#include <atomic>
#include <cstdint>

#include "storage/env_wrapper.h"

namespace ark {

class FakeClockEnv final : public EnvWrapper {
 public:
  // `target` (files, locks) must outlive this Env.
  FakeClockEnv(Env* target, uint64_t wall_micros, uint64_t now_micros = 1'000'000)
      : EnvWrapper(target), wall_micros_(wall_micros), now_micros_(now_micros) {}

  uint64_t NowMicros() override { return now_micros_.load(); }
  uint64_t WallMicros() override { return wall_micros_.load(); }

  void Advance(uint64_t micros) {
    now_micros_ += micros;
    wall_micros_ += micros;
  }
  void AdvanceSeconds(uint64_t seconds) { Advance(seconds * 1'000'000); }
  void SetWallMicros(uint64_t wall_micros) { wall_micros_ = wall_micros; }
  void SetWallSeconds(uint64_t seconds) { wall_micros_ = seconds * 1'000'000; }

 private:
  std::atomic<uint64_t> wall_micros_;
  std::atomic<uint64_t> now_micros_;
};

}  // namespace ark
