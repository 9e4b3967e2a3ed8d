// LeaseKeeper: a primary's hold on its leader lease, and the fence on its
// writes (docs/failover.md, "Leases and fencing").
//
// While active it claims the lease at the witness every renew interval.
// A claim sent at instant t (this process's monotonic clock) that is granted
// lets writes be acknowledged until t + ttl - margin: the witness started its
// ttl no earlier than t (it received the claim after it was sent), so the
// holder stops before the witness can judge the lease expired, with `margin`
// to spare for clock-rate differences. CheckWritable() is what the database
// asks before it takes a write and again just before it acknowledges one;
// after the deadline, or once the witness names a newer epoch (fenced), it
// refuses with a message naming the witness and the new leader.
//
// A standby's keeper is idle (not active) until promotion:
// ClaimForPromotion(epoch) claims the lease in the new epoch (granted only
// once the old leader's lease has expired on the witness) and, if granted,
// makes the keeper active in that epoch.
//
// Time is the injected Env's NowMicros (monotonic; it keeps counting while
// the process is stopped, so a SIGSTOPped primary resumes past its deadline).
// RenewOnce() is the thread's step, public so tests drive it with a fake clock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "dr/failover/witness.h"
#include "storage/env.h"

namespace ark::dr {

struct LeaseKeeperOptions {
  std::string holder;             // this server's name in the cluster
  std::string url;                // where it is reached (put in the record)
  uint64_t ttl_ms = 5000;
  uint64_t renew_interval_ms = 0; // 0: ttl / 5
  uint64_t margin_ms = 0;         // 0: ttl / 5
};

Status ValidateLeaseKeeperOptions(const LeaseKeeperOptions& o);

class LeaseKeeper {
 public:
  // `witness` outlives the keeper.
  LeaseKeeper(Env* env, Witness* witness, LeaseKeeperOptions options);
  ~LeaseKeeper();

  // Called once (from the renewing thread, no lock held) when a claim is
  // superseded: the record names the new leader. Set before Start().
  void SetOnFenced(std::function<void(const LeaderRecord&)> f) { on_fenced_ = std::move(f); }
  // Primary: hold the lease for `epoch` (its database's current epoch).
  void Activate(uint64_t epoch);
  // One claim; updates the deadline or the refusal. Returns the witness's
  // error when it could not be asked (the deadline is unchanged then).
  Status RenewOnce();
  // Runs RenewOnce every renew interval on a thread until Stop().
  void Start();
  void Stop();

  // OK while this server may acknowledge writes as the leader.
  Status CheckWritable();
  // Standby being promoted: claims `epoch` now. Granted: active in `epoch`,
  // writes allowed until the new deadline. Refused: FailedPrecondition naming
  // the live holder and its time left (or the newer epoch).
  Status ClaimForPromotion(uint64_t epoch);
  // Planned hand-over or shutdown: stops renewing, refuses writes at once,
  // and releases the lease at the witness.
  Status Relinquish(const std::string& why);
  // Undoes Relinquish (an aborted switchover): claims the lease again in the
  // same epoch (granted unless another server took it meanwhile).
  Status Reclaim();

  // "idle" (standby), "acquiring", "held", "expired", "fenced", "relinquished".
  std::string State();
  bool fenced();
  nlohmann::json StatusJson();
  const LeaseKeeperOptions& options() const { return options_; }
  std::string witness_name() const { return witness_->Describe(); }

 private:
  std::string RefusalLocked(uint64_t now);
  Status Apply(const LeaderClaim& claim, uint64_t sent, const Result<ClaimAnswer>& answer, bool* newly_fenced);

  Env* env_;
  Witness* witness_;
  LeaseKeeperOptions options_;
  std::function<void(const LeaderRecord&)> on_fenced_;

  // Held across a claim at the witness and across a release, so a renewal
  // already in flight cannot reach the witness after Relinquish released
  // the lease (it would grant it again for a whole ttl).
  std::mutex witness_mu_;
  std::mutex mu_;
  bool active_ = false;              // GUARDED_BY(mu_)
  bool relinquished_ = false;        // GUARDED_BY(mu_)
  std::string relinquish_reason_;    // GUARDED_BY(mu_)
  uint64_t epoch_ = 0;               // GUARDED_BY(mu_)
  bool ever_granted_ = false;        // GUARDED_BY(mu_)
  uint64_t deadline_micros_ = 0;     // GUARDED_BY(mu_): writes allowed while now < it
  bool fenced_ = false;              // GUARDED_BY(mu_)
  LeaderRecord last_record_;         // GUARDED_BY(mu_): as the witness last answered
  std::string last_error_;           // GUARDED_BY(mu_): why the last claim failed
  uint64_t renewals_ = 0, failures_ = 0;  // GUARDED_BY(mu_)

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stop_ = false;                // GUARDED_BY(thread_mu_)
  std::thread thread_;
};

}  // namespace ark::dr
