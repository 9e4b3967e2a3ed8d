// The monitor's loop decisions (dr/failover/monitor.*) with the clock moved by
// a FakeClockEnv and servers that refuse connections (127.0.0.1 port 1): when
// it checks next while a failed leader's lease runs out, and that a failover
// which cannot proceed logs its outcome once rather than on every check.
// End-to-end failovers against real servers: tests/node/failover_*.test.js.
#include <gtest/gtest.h>

#include "dr/failover/local_witness.h"
#include "dr/failover/monitor.h"
#include "storage/fake_clock_env.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

constexpr uint64_t kMs = 1000;
constexpr const char* kDeadUrl = "http://127.0.0.1:1";  // connection refused at once

class FailoverMonitorTest : public ::testing::Test {
 protected:
  FailoverMonitorTest() : clock_(Env::Default(), 1'790'000'000ull * 1'000'000) {
    auto w = LocalWitness::Open(&clock_, "");
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    witness_ = std::move(*w);
  }
  std::unique_ptr<Monitor> OpenMonitor() {
    MonitorConfig config;
    config.data_dir = dir_.path() + "/monitor";
    config.nodes = {{"a", kDeadUrl, ""}, {"b", kDeadUrl, ""}};
    config.check_interval_ms = 1000;
    config.failures = 3;
    config.check_timeout_ms = 300;
    auto m = std::make_unique<Monitor>(&clock_, witness_.get(), config);
    EXPECT_OK(m->Open());
    return m;
  }
  static int Count(const nlohmann::json& timeline, const std::string& kind) {
    int n = 0;
    for (const auto& e : timeline) n += e.value("event", "") == kind ? 1 : 0;
    return n;
  }
  FakeClockEnv clock_;
  testing::TempDir dir_;
  std::unique_ptr<LocalWitness> witness_;
};

TEST_F(FailoverMonitorTest, ChecksAgainWhenTheFailedLeadersLeaseEndsNotAtTheNextInterval) {
  ASSERT_TRUE(witness_->Claim(LeaderClaim{"a", kDeadUrl, 1, 5000})->granted);
  auto m = OpenMonitor();
  m->CheckOnce();
  EXPECT_EQ(m->NextCheckDelayMs(), 1000u) << "one failed check: the normal interval";
  m->CheckOnce();
  m->CheckOnce();
  // Third failure, 5000 ms of lease left: more than an interval, so the interval.
  EXPECT_EQ(m->NextCheckDelayMs(), 1000u);
  clock_.Advance(4700 * kMs);
  m->CheckOnce();
  // 300 ms left: the next check comes just after the expiry.
  EXPECT_EQ(m->NextCheckDelayMs(), 320u);
  EXPECT_EQ(m->NextCheckDelayMs(), 1000u) << "the shortened delay is used once";
  EXPECT_EQ(Count(m->Timeline(), "check-failed"), 3);
  EXPECT_EQ(Count(m->Timeline(), "waiting-for-lease"), 1);
  EXPECT_EQ(Count(m->Timeline(), "lease-expired"), 0);
}

TEST_F(FailoverMonitorTest, AFailoverThatCannotProceedIsLoggedOncePerIncidentAndWhenItChanges) {
  ASSERT_TRUE(witness_->Claim(LeaderClaim{"a", kDeadUrl, 1, 500})->granted);
  auto m = OpenMonitor();
  clock_.Advance(1000 * kMs);  // the lease has expired
  for (int i = 0; i < 10; i++) {
    m->CheckOnce();
    clock_.Advance(200 * kMs);
  }
  nlohmann::json timeline = m->Timeline();
  EXPECT_EQ(Count(timeline, "check-failed"), 3);
  EXPECT_EQ(Count(timeline, "lease-expired"), 1) << timeline.dump();
  EXPECT_EQ(Count(timeline, "no-candidate"), 1) << timeline.dump();
  EXPECT_EQ(m->StatusJson()["phase"], "leader down; no standby can be promoted");
  EXPECT_EQ(m->StatusJson()["consecutiveFailures"], 10);

  // Still nothing to promote 30 s later: said again, once.
  clock_.Advance(30000 * kMs);
  m->CheckOnce();
  m->CheckOnce();
  EXPECT_EQ(Count(m->Timeline(), "no-candidate"), 2);
  EXPECT_EQ(Count(m->Timeline(), "lease-expired"), 1);

  // A new leader is a new incident: its failure is logged in full again.
  ASSERT_TRUE(witness_->Claim(LeaderClaim{"b", kDeadUrl, 2, 500})->granted);
  clock_.Advance(1000 * kMs);
  for (int i = 0; i < 4; i++) m->CheckOnce();
  timeline = m->Timeline();
  EXPECT_EQ(Count(timeline, "check-failed"), 6);
  EXPECT_EQ(Count(timeline, "lease-expired"), 2);
  EXPECT_EQ(Count(timeline, "no-candidate"), 3);
}

}  // namespace
}  // namespace ark::dr
