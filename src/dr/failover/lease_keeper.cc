#include "dr/failover/lease_keeper.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace ark::dr {

Status ValidateLeaseKeeperOptions(const LeaseKeeperOptions& o) {
  if (o.holder.empty()) return Status::InvalidArgument("failover.name: this server's name in the cluster is required");
  if (o.ttl_ms < 1000 || o.ttl_ms > 3600 * 1000) {
    return Status::InvalidArgument(fmt::format("failover.lease_ttl {} ms: must be between 1 s and 1 h", o.ttl_ms));
  }
  uint64_t renew = o.renew_interval_ms ? o.renew_interval_ms : o.ttl_ms / 5;
  uint64_t margin = o.margin_ms ? o.margin_ms : o.ttl_ms / 5;
  if (renew + margin >= o.ttl_ms) {
    return Status::InvalidArgument(fmt::format(
        "failover: renew interval ({} ms) + safety margin ({} ms) must be shorter than the lease ttl ({} ms), "
        "or the lease lapses between renewals", renew, margin, o.ttl_ms));
  }
  return Status::OK();
}

LeaseKeeper::LeaseKeeper(Env* env, Witness* witness, LeaseKeeperOptions options)
    : env_(env), witness_(witness), options_(std::move(options)) {
  if (options_.renew_interval_ms == 0) options_.renew_interval_ms = options_.ttl_ms / 5;
  if (options_.margin_ms == 0) options_.margin_ms = options_.ttl_ms / 5;
}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Activate(uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  active_ = true;
  epoch_ = epoch;
}

Status LeaseKeeper::RenewOnce() {
  bool newly_fenced = false;
  LeaderRecord fenced_by;
  Status s;
  {
    std::lock_guard<std::mutex> witness_lock(witness_mu_);
    LeaderClaim claim;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!active_ || fenced_ || relinquished_) return Status::OK();
      claim = LeaderClaim{options_.holder, options_.url, epoch_, options_.ttl_ms};
    }
    const uint64_t sent = env_->NowMicros();
    Result<ClaimAnswer> answer = witness_->Claim(claim);
    s = Apply(claim, sent, answer, &newly_fenced);
    if (newly_fenced) fenced_by = answer->record;
  }
  if (newly_fenced && on_fenced_) on_fenced_(fenced_by);
  return s;
}

Status LeaseKeeper::Apply(const LeaderClaim& claim, uint64_t sent, const Result<ClaimAnswer>& answer,
                          bool* newly_fenced) {
  std::lock_guard<std::mutex> lock(mu_);
  if (epoch_ != claim.epoch || relinquished_) return Status::OK();  // promoted or handed over meanwhile
  if (!answer.ok()) {
    ++failures_;
    last_error_ = answer.status().message();
    return answer.status();
  }
  last_record_ = answer->record;
  if (answer->granted) {
    ++renewals_;
    if (!ever_granted_) spdlog::info("failover: leader lease for epoch {} granted by {}", epoch_, witness_->Describe());
    ever_granted_ = true;
    last_error_.clear();
    uint64_t until = sent + (options_.ttl_ms - options_.margin_ms) * 1000;
    if (until > deadline_micros_) deadline_micros_ = until;
    return Status::OK();
  }
  ++failures_;
  if (answer->superseded) {
    if (!fenced_) {
      *newly_fenced = true;
      spdlog::error("failover: fenced: {} names epoch {} led by {} ({}); this server led epoch {} and takes no "
                    "more writes", witness_->Describe(), answer->record.epoch, answer->record.holder,
                    answer->record.url, epoch_);
    }
    fenced_ = true;
    deadline_micros_ = 0;
    last_error_ = "superseded";
    return Status::OK();
  }
  last_error_ = fmt::format("refused: {} holds the lease (epoch {}) for {} ms more", answer->record.holder,
                            answer->record.epoch, answer->record.remaining_ms);
  return Status::OK();
}

void LeaseKeeper::Start() {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(thread_mu_);
    while (!stop_) {
      lock.unlock();
      Status s = RenewOnce();
      if (!s.ok()) spdlog::warn("failover: lease renewal at {} failed: {}", witness_->Describe(), s.message());
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(options_.renew_interval_ms), [this] { return stop_; });
    }
  });
}

void LeaseKeeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string LeaseKeeper::RefusalLocked(uint64_t now) {
  if (relinquished_) return fmt::format("this server gave up its leader lease ({})", relinquish_reason_);
  if (fenced_) {
    return fmt::format("this server is fenced: {} names epoch {} led by {} ({}); this server led epoch {} — "
                       "send writes to the new primary (failback: docs/failover.md)",
                       witness_->Describe(), last_record_.epoch, last_record_.holder, last_record_.url, epoch_);
  }
  if (!ever_granted_) {
    std::string why = last_error_.empty() ? "no answer yet" : last_error_;
    return fmt::format("this server does not hold the leader lease yet (witness {}: {})", witness_->Describe(), why);
  }
  return fmt::format("this server's leader lease lapsed {} ms ago: it could not renew it at {} ({}); a standby may "
                     "be promoted", (now - deadline_micros_) / 1000, witness_->Describe(),
                     last_error_.empty() ? "no answer" : last_error_);
}

Status LeaseKeeper::CheckWritable() {
  uint64_t now = env_->NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  if (!active_) return Status::OK();  // a standby: the follower check refuses writes
  if (!fenced_ && !relinquished_ && now < deadline_micros_) return Status::OK();
  if (fenced_) return Status::Fenced(RefusalLocked(now));
  return Status::Unavailable(RefusalLocked(now));
}

Status LeaseKeeper::ClaimForPromotion(uint64_t epoch) {
  LeaderClaim claim{options_.holder, options_.url, epoch, options_.ttl_ms};
  const uint64_t sent = env_->NowMicros();
  ARK_ASSIGN_OR_RETURN(ClaimAnswer answer, witness_->Claim(claim));
  std::lock_guard<std::mutex> lock(mu_);
  last_record_ = answer.record;
  if (!answer.granted) {
    if (answer.superseded) {
      return Status::FailedPrecondition(fmt::format(
          "promotion to epoch {} refused by {}: it already names epoch {} led by {}", epoch, witness_->Describe(),
          answer.record.epoch, answer.record.holder));
    }
    return Status::FailedPrecondition(fmt::format(
        "promotion refused by {}: {} ({}) still holds the leader lease of epoch {} for {} ms; it stops taking "
        "writes before then — promote after it has expired", witness_->Describe(), answer.record.holder,
        answer.record.url, answer.record.epoch, answer.record.remaining_ms));
  }
  active_ = true;
  fenced_ = false;
  relinquished_ = false;
  epoch_ = epoch;
  ever_granted_ = true;
  ++renewals_;
  last_error_.clear();
  deadline_micros_ = sent + (options_.ttl_ms - options_.margin_ms) * 1000;
  spdlog::info("failover: leader lease for epoch {} granted by {} for promotion", epoch, witness_->Describe());
  return Status::OK();
}

Status LeaseKeeper::Relinquish(const std::string& why) {
  std::lock_guard<std::mutex> witness_lock(witness_mu_);  // after any renewal in flight
  uint64_t epoch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    relinquished_ = true;
    relinquish_reason_ = why;
    deadline_micros_ = 0;
    epoch = epoch_;
  }
  return witness_->Release(options_.holder, epoch);
}

Status LeaseKeeper::Reclaim() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    relinquished_ = false;
    relinquish_reason_.clear();
  }
  ARK_RETURN_IF_ERROR(RenewOnce());
  return CheckWritable();
}

std::string LeaseKeeper::State() {
  uint64_t now = env_->NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  if (!active_) return "idle";
  if (fenced_) return "fenced";
  if (relinquished_) return "relinquished";
  if (!ever_granted_) return "acquiring";
  return now < deadline_micros_ ? "held" : "expired";
}

bool LeaseKeeper::fenced() {
  std::lock_guard<std::mutex> lock(mu_);
  return fenced_;
}

nlohmann::json LeaseKeeper::StatusJson() {
  std::string state = State();
  uint64_t now = env_->NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json j = {{"state", state},
                      {"witness", witness_->Describe()},
                      {"holder", options_.holder},
                      {"epoch", epoch_},
                      {"ttlMs", options_.ttl_ms},
                      {"renewIntervalMs", options_.renew_interval_ms},
                      {"marginMs", options_.margin_ms},
                      {"writesAllowedForMs", deadline_micros_ > now ? (deadline_micros_ - now) / 1000 : 0},
                      {"renewals", renewals_},
                      {"failures", failures_}};
  if (!last_error_.empty()) j["lastError"] = last_error_;
  if (last_record_.exists) {
    j["leader"] = {{"holder", last_record_.holder}, {"url", last_record_.url}, {"epoch", last_record_.epoch}};
  }
  if (state != "held" && state != "idle") j["refusal"] = RefusalLocked(now);
  return j;
}

}  // namespace ark::dr
