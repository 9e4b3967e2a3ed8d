// LocalWitness: the leader record kept in one process — `ark monitor`'s
// table, which servers reach through MonitorWitness over HTTP. It enforces
// witness.h's compare-and-set under a mutex and judges expiry by the
// injected Env's monotonic clock (tests move it with a FakeClockEnv).
//
// Durability: every grant that changes the holder or the epoch is written to
// `path` (WriteFileAtomic) before it is answered, so a restarted monitor never
// forgets an epoch or hands a fenced history the lease again (renewals are
// not written: they change neither). A restarted monitor cannot know how long
// it was down, so it treats the stored lease as live for one full ttl from
// the moment it opens — never shorter than the holder's own deadline.
// Format: docs/formats/monitor-witness.md.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "dr/failover/witness.h"
#include "storage/env.h"

namespace ark::dr {

class LocalWitness final : public Witness {
 public:
  // path empty: in memory only (tests).
  static Result<std::unique_ptr<LocalWitness>> Open(Env* env, std::string path);

  Result<ClaimAnswer> Claim(const LeaderClaim& claim) override;
  Result<LeaderRecord> Read() override;
  Status Release(const std::string& holder, uint64_t epoch) override;
  std::string Describe() const override;

 private:
  LocalWitness(Env* env, std::string path) : env_(env), path_(std::move(path)) {}
  LeaderRecord SnapshotLocked();
  Status PersistLocked();

  Env* env_;
  const std::string path_;
  std::mutex mu_;
  bool exists_ = false;          // GUARDED_BY(mu_)
  std::string holder_, url_;     // GUARDED_BY(mu_)
  uint64_t epoch_ = 0;           // GUARDED_BY(mu_)
  uint64_t ttl_ms_ = 0;          // GUARDED_BY(mu_)
  uint64_t expires_micros_ = 0;  // env_->NowMicros() instant; GUARDED_BY(mu_)
};

}  // namespace ark::dr
