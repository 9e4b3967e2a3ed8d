#include "dr/failover/witness.h"

#include <fmt/format.h>

#include <cctype>

namespace ark::dr {

namespace {
constexpr uint64_t kMaxTtlMs = 24ull * 3600 * 1000;
constexpr size_t kMaxHolderLength = 128;
constexpr size_t kMaxUrlLength = 1024;
}  // namespace

Status ValidateLeaderClaim(const LeaderClaim& claim) {
  bool name_ok = !claim.holder.empty() && claim.holder.size() <= kMaxHolderLength;
  for (char c : claim.holder) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) name_ok = false;
  }
  if (!name_ok) {
    return Status::InvalidArgument(fmt::format(
        "leader claim: holder '{}' must be 1-{} characters of letters, digits, '-', '_' or '.'", claim.holder,
        kMaxHolderLength));
  }
  if (claim.epoch == 0) return Status::InvalidArgument("leader claim: epoch must be >= 1");
  if (claim.ttl_ms == 0 || claim.ttl_ms > kMaxTtlMs) {
    return Status::InvalidArgument(fmt::format("leader claim: ttl_ms {} must be in 1..{}", claim.ttl_ms, kMaxTtlMs));
  }
  if (claim.url.size() > kMaxUrlLength) {
    return Status::InvalidArgument(fmt::format("leader claim: url longer than {} characters", kMaxUrlLength));
  }
  return Status::OK();
}

std::string LeaderRecordDescription(const LeaderRecord& r) {
  if (!r.exists) return "no leader recorded";
  return fmt::format("{} ({}) leads epoch {}, {}", r.holder, r.url, r.epoch,
                     r.live() ? fmt::format("{} ms left", r.remaining_ms) : std::string("lease expired"));
}

}  // namespace ark::dr
