#include "dr/failover/local_witness.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace ark::dr {

namespace {
constexpr int kFormatVersion = 1;
}  // namespace

Result<std::unique_ptr<LocalWitness>> LocalWitness::Open(Env* env, std::string path) {
  std::unique_ptr<LocalWitness> w(new LocalWitness(env, std::move(path)));
  if (w->path_.empty() || !env->FileExists(w->path_)) return w;
  std::string text;
  ARK_RETURN_IF_ERROR(env->ReadFileToString(w->path_, &text));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("witness record {}: {} (the file is left as it is; "
                                          "move it aside only if no server can still hold a lease)",
                                          w->path_, what));
  };
  if (!j.is_object()) return bad("not a JSON object");
  if (!j.contains("format") || !j["format"].is_number_unsigned() || j["format"].get<uint64_t>() != kFormatVersion) {
    return bad(fmt::format("\"format\" must be {}", kFormatVersion));
  }
  for (const char* k : {"holder", "url"}) {
    if (!j.contains(k) || !j[k].is_string()) return bad(fmt::format("\"{}\" missing or not a string", k));
  }
  for (const char* k : {"epoch", "ttl_ms"}) {
    if (!j.contains(k) || !j[k].is_number_unsigned()) return bad(fmt::format("\"{}\" missing or not an unsigned integer", k));
  }
  LeaderClaim c{j["holder"].get<std::string>(), j["url"].get<std::string>(), j["epoch"].get<uint64_t>(),
                j["ttl_ms"].get<uint64_t>()};
  Status valid = ValidateLeaderClaim(c);
  if (!valid.ok()) return bad(valid.message());
  w->exists_ = true;
  w->holder_ = c.holder;
  w->url_ = c.url;
  w->epoch_ = c.epoch;
  w->ttl_ms_ = c.ttl_ms;
  // Down for an unknown time: live for a full ttl from now (never shorter
  // than what the holder may still believe).
  w->expires_micros_ = env->NowMicros() + c.ttl_ms * 1000;
  return w;
}

LeaderRecord LocalWitness::SnapshotLocked() {
  LeaderRecord r;
  r.exists = exists_;
  if (!exists_) return r;
  r.holder = holder_;
  r.url = url_;
  r.epoch = epoch_;
  r.ttl_ms = ttl_ms_;
  uint64_t now = env_->NowMicros();
  // Round up: a lease with 0.4 ms left is still live.
  r.remaining_ms = expires_micros_ > now ? (expires_micros_ - now + 999) / 1000 : 0;
  return r;
}

Status LocalWitness::PersistLocked() {
  if (path_.empty()) return Status::OK();
  nlohmann::json j = {{"format", kFormatVersion}, {"holder", holder_}, {"url", url_},
                      {"epoch", epoch_}, {"ttl_ms", ttl_ms_}};
  return env_->WriteFileAtomic(path_, j.dump() + "\n");
}

Result<ClaimAnswer> LocalWitness::Claim(const LeaderClaim& claim) {
  ARK_RETURN_IF_ERROR(ValidateLeaderClaim(claim));
  std::lock_guard<std::mutex> lock(mu_);
  ClaimAnswer answer;
  LeaderRecord now = SnapshotLocked();
  bool same = now.exists && now.holder == claim.holder && now.epoch == claim.epoch;
  if (now.exists && claim.epoch < now.epoch) {
    answer.superseded = true;
    answer.record = now;
    return answer;
  }
  bool grant = !now.exists || same || (!now.live() && claim.epoch > now.epoch);
  if (!grant) {
    answer.record = now;
    return answer;
  }
  bool changes = !same || url_ != claim.url || ttl_ms_ != claim.ttl_ms;
  // Keep the old state until the new one is durable: a failed write grants nothing.
  bool old_exists = exists_;
  std::string old_holder = holder_, old_url = url_;
  uint64_t old_epoch = epoch_, old_ttl = ttl_ms_;
  exists_ = true;
  holder_ = claim.holder;
  url_ = claim.url;
  epoch_ = claim.epoch;
  ttl_ms_ = claim.ttl_ms;
  if (changes) {
    Status s = PersistLocked();
    if (!s.ok()) {
      exists_ = old_exists;
      holder_ = old_holder;
      url_ = old_url;
      epoch_ = old_epoch;
      ttl_ms_ = old_ttl;
      return Status::IOError(fmt::format("witness could not record the lease durably: {}", s.message()));
    }
  }
  expires_micros_ = env_->NowMicros() + claim.ttl_ms * 1000;
  answer.granted = true;
  answer.record = SnapshotLocked();
  return answer;
}

Result<LeaderRecord> LocalWitness::Read() {
  std::lock_guard<std::mutex> lock(mu_);
  return SnapshotLocked();
}

Status LocalWitness::Release(const std::string& holder, uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (exists_ && holder_ == holder && epoch_ == epoch) expires_micros_ = 0;
  return Status::OK();
}

std::string LocalWitness::Describe() const {
  return path_.empty() ? "local witness (in memory)" : fmt::format("local witness {}", path_);
}

}  // namespace ark::dr
