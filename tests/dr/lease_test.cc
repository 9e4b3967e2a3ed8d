// The lease primitive (dr/lease/lease.h) on an in-memory table, with time
// moved by a FakeClockEnv: nothing here sleeps.
#include "dr/lease/lease.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "storage/fake_clock_env.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

constexpr uint64_t kSecond = 1000000;
constexpr uint64_t kStart = 1'790'000'000ull * kSecond;

class MemoryLeaseTable final : public LeaseTable {
 public:
  Status PutLease(const LeaseRecord& lease) override {
    std::lock_guard<std::mutex> lock(mu_);
    records_[lease.owner] = lease;
    return Status::OK();
  }
  Status DeleteLease(const std::string& owner) override {
    std::lock_guard<std::mutex> lock(mu_);
    records_.erase(owner);
    return Status::OK();
  }
  Result<std::vector<LeaseRecord>> ListLeases() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<LeaseRecord> out;
    for (const auto& [owner, r] : records_) out.push_back(r);
    return out;
  }
  std::string Describe() const override { return "memory"; }

  std::map<std::string, LeaseRecord> records() {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, LeaseRecord> records_;
};

LeaseOptions Options(const std::string& kind, const std::string& conflict, uint64_t ttl_seconds = 60) {
  LeaseOptions o;
  o.kind = kind;
  o.conflicts = {conflict};
  o.description = kind + " test";
  o.ttl_micros = ttl_seconds * kSecond;
  return o;
}

class LeaseTest : public ::testing::Test {
 protected:
  MemoryLeaseTable table_;
  FakeClockEnv clock_{Env::Default(), kStart};
};

TEST_F(LeaseTest, AcquireWritesARecordExpiringAfterTheTtlByTheInjectedClock) {
  ASSERT_OK_AND_ASSIGN(auto lease, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
  EXPECT_EQ(lease->expires_micros(), kStart + 60 * kSecond);
  auto records = table_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records.begin()->second.kind, "backup");
  EXPECT_EQ(records.begin()->second.expires_micros, kStart + 60 * kSecond);
  EXPECT_EQ(records.begin()->first, lease->owner());
  EXPECT_FALSE(lease->Expired());
  clock_.AdvanceSeconds(60);
  EXPECT_TRUE(lease->Expired());
}

TEST_F(LeaseTest, ALiveConflictingHolderRefusesAcquireAndTheLoserLeavesNoRecord) {
  ASSERT_OK_AND_ASSIGN(auto backup, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
  clock_.AdvanceSeconds(20);
  auto prune = Lease::Acquire(&table_, &clock_, Options("prune", "backup"));
  ASSERT_FALSE(prune.ok());
  EXPECT_EQ(prune.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(prune.status().message().find("backup (backup test) holds a lease for 40 more seconds"),
            std::string::npos)
      << prune.status().ToString();
  EXPECT_EQ(table_.records().size(), 1u) << "the refused holder removed its record";
}

TEST_F(LeaseTest, KindsThatDoNotConflictShareTheTable) {
  ASSERT_OK_AND_ASSIGN(auto a, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
  ASSERT_OK_AND_ASSIGN(auto b, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
  EXPECT_NE(a->owner(), b->owner());
  EXPECT_EQ(table_.records().size(), 2u);
}

TEST_F(LeaseTest, AnExpiredHolderNoLongerRefusesOnceTheClockPassesItsExpiry) {
  ASSERT_OK_AND_ASSIGN(auto crashed, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
  clock_.AdvanceSeconds(59);
  EXPECT_EQ(Lease::Acquire(&table_, &clock_, Options("prune", "backup")).status().code(),
            StatusCode::kUnavailable);
  clock_.AdvanceSeconds(1);  // exactly at the expiry: expired
  ASSERT_OK_AND_ASSIGN(auto prune, Lease::Acquire(&table_, &clock_, Options("prune", "backup")));
  EXPECT_EQ(table_.records().size(), 2u) << "the expired record stays until its holder deletes it";
}

TEST_F(LeaseTest, MaybeRenewWritesOnlyAfterAThirdOfTheTtl) {
  ASSERT_OK_AND_ASSIGN(auto lease, Lease::Acquire(&table_, &clock_, Options("backup", "prune", 60)));
  clock_.AdvanceSeconds(19);
  ASSERT_OK(lease->MaybeRenew());
  EXPECT_EQ(lease->expires_micros(), kStart + 60 * kSecond) << "not yet a third";
  clock_.AdvanceSeconds(2);  // 21 s: past a third
  ASSERT_OK(lease->MaybeRenew());
  EXPECT_EQ(lease->expires_micros(), kStart + 81 * kSecond);
  EXPECT_EQ(table_.records().begin()->second.expires_micros, kStart + 81 * kSecond);
  clock_.AdvanceSeconds(1);
  ASSERT_OK(lease->Renew());  // unconditional
  EXPECT_EQ(lease->expires_micros(), kStart + 82 * kSecond);
}

TEST_F(LeaseTest, RenewAfterExpiryFailsWhenAConflictingHolderTookOver) {
  ASSERT_OK_AND_ASSIGN(auto stalled, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
  clock_.AdvanceSeconds(61);
  ASSERT_OK_AND_ASSIGN(auto prune, Lease::Acquire(&table_, &clock_, Options("prune", "backup")));
  Status renewed = stalled->MaybeRenew();
  EXPECT_EQ(renewed.code(), StatusCode::kUnavailable) << renewed.ToString();
  EXPECT_EQ(stalled->Renew().code(), StatusCode::kUnavailable);
}

TEST_F(LeaseTest, RenewAfterExpiryWithoutATakeoverSucceeds) {
  ASSERT_OK_AND_ASSIGN(auto stalled, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
  clock_.AdvanceSeconds(3600);
  ASSERT_OK(stalled->MaybeRenew());
  EXPECT_EQ(stalled->expires_micros(), kStart + 3660 * kSecond);
  EXPECT_FALSE(stalled->Expired());
}

TEST_F(LeaseTest, ReleaseAndTheDestructorDeleteTheRecord) {
  ASSERT_OK_AND_ASSIGN(auto a, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
  ASSERT_OK(a->Release());
  ASSERT_OK(a->Release());  // idempotent
  EXPECT_TRUE(table_.records().empty());
  EXPECT_TRUE(a->Expired());
  EXPECT_EQ(a->Renew().code(), StatusCode::kFailedPrecondition) << "a released lease is not renewed";
  {
    ASSERT_OK_AND_ASSIGN(auto b, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
    EXPECT_EQ(table_.records().size(), 1u);
  }
  EXPECT_TRUE(table_.records().empty());
}

TEST_F(LeaseTest, EachReaderJudgesExpiryByItsOwnClock) {
  // The holder's clock and a reader's clock 90 s ahead of it (skew): the
  // reader sees the 60 s lease as expired already, as the header warns.
  ASSERT_OK_AND_ASSIGN(auto held, Lease::Acquire(&table_, &clock_, Options("backup", "prune")));
  FakeClockEnv ahead(Env::Default(), kStart + 90 * kSecond);
  ASSERT_OK(Lease::Acquire(&table_, &ahead, Options("prune", "backup")).status());
  FakeClockEnv behind(Env::Default(), kStart - 90 * kSecond);
  EXPECT_EQ(Lease::Acquire(&table_, &behind, Options("prune", "backup")).status().code(), StatusCode::kUnavailable);
}

TEST(LeaseFindConflictTest, SkipsItselfOtherKindsAndExpiredRecords) {
  std::vector<LeaseRecord> leases = {
      {"me", "backup", "", 100}, {"a", "backup", "", 50}, {"b", "archive", "", 200}, {"c", "backup", "", 200}};
  const LeaseRecord* c = Lease::FindConflict(leases, {"backup"}, "me", 60);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->owner, "c");
  EXPECT_EQ(Lease::FindConflict(leases, {"backup"}, "me", 200), nullptr);
  EXPECT_EQ(Lease::FindConflict(leases, {"prune"}, "me", 0), nullptr);
}

}  // namespace
}  // namespace ark::dr
