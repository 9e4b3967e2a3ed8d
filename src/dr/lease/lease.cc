#include "dr/lease/lease.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "core/hash.h"

namespace ark::dr {
namespace {

std::string RandomOwner() {
  std::random_device rd;
  std::string raw;
  for (int i = 0; i < 12; ++i) raw.push_back(static_cast<char>(rd() & 0xff));
  return ToHex(raw.data(), raw.size());
}

}  // namespace

const LeaseRecord* Lease::FindConflict(const std::vector<LeaseRecord>& leases, const std::vector<std::string>& kinds,
                                       const std::string& self, uint64_t now_micros) {
  for (const auto& l : leases) {
    if (l.owner == self || l.expires_micros <= now_micros) continue;
    if (std::find(kinds.begin(), kinds.end(), l.kind) != kinds.end()) return &l;
  }
  return nullptr;
}

Lease::Lease(LeaseTable* table, Env* env, LeaseOptions options)
    : table_(table),
      env_(env),
      options_(std::move(options)),
      owner_(options_.owner.empty() ? RandomOwner() : options_.owner) {
  record_.owner = owner_;
  record_.kind = options_.kind;
  record_.description = options_.description;
}

Result<std::unique_ptr<Lease>> Lease::Acquire(LeaseTable* table, Env* env, LeaseOptions options) {
  auto lease = std::unique_ptr<Lease>(new Lease(table, env, std::move(options)));
  {
    std::lock_guard<std::mutex> lock(lease->mu_);
    lease->record_.expires_micros = env->WallMicros() + lease->options_.ttl_micros;
    ARK_RETURN_IF_ERROR(table->PutLease(lease->record_));
    lease->held_ = true;
  }
  // On a conflict the destructor removes the record just written.
  ARK_RETURN_IF_ERROR(lease->CheckConflicts());
  return lease;
}

Lease::~Lease() { (void)Release(); }

Status Lease::CheckConflicts() {
  ARK_ASSIGN_OR_RETURN(auto leases, table_->ListLeases());
  const uint64_t now = env_->WallMicros();
  const LeaseRecord* other = FindConflict(leases, options_.conflicts, owner_, now);
  if (other == nullptr) return Status::OK();
  return Status::Unavailable(fmt::format("{} is busy: a {} ({}) holds a lease for {} more seconds; try again later",
                                         table_->Describe(), other->kind, other->description,
                                         (other->expires_micros - now) / 1000000));
}

Status Lease::RenewLocked() {
  if (!held_) return Status::FailedPrecondition(fmt::format("lease {} of {} was released", owner_, table_->Describe()));
  const uint64_t now = env_->WallMicros();
  if (record_.expires_micros <= now) {
    // Expired by our own clock: another holder may have taken over meanwhile.
    ARK_RETURN_IF_ERROR(CheckConflicts());
  }
  record_.expires_micros = now + options_.ttl_micros;
  return table_->PutLease(record_);
}

Status Lease::Renew() {
  std::lock_guard<std::mutex> lock(mu_);
  return RenewLocked();
}

Status Lease::MaybeRenew() {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t now = env_->WallMicros();
  if (held_ && record_.expires_micros > now && record_.expires_micros - now > options_.ttl_micros * 2 / 3) {
    return Status::OK();
  }
  return RenewLocked();
}

Status Lease::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!held_) return Status::OK();
  held_ = false;
  return table_->DeleteLease(owner_);
}

uint64_t Lease::expires_micros() const {
  std::lock_guard<std::mutex> lock(mu_);
  return record_.expires_micros;
}

bool Lease::Expired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !held_ || record_.expires_micros <= env_->WallMicros();
}

}  // namespace ark::dr
