// Leader leases and fencing (dr/failover/): the LocalWitness's rule, the
// LeaseKeeper's deadline and its refusals, with time moved by a FakeClockEnv
// (nothing here sleeps). The last test is the safety property failover
// stands on: under random delays, failed renewals and promotions, no two
// servers may ever acknowledge writes at the same instant.
#include <gtest/gtest.h>

#include <random>

#include "dr/failover/lease_keeper.h"
#include "dr/failover/local_witness.h"
#include "dr/failover/monitor_witness.h"
#include "storage/fake_clock_env.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

constexpr uint64_t kMs = 1000;

class FailoverLeaseTest : public ::testing::Test {
 protected:
  FailoverLeaseTest() : clock_(Env::Default(), 1'790'000'000ull * 1'000'000) {}
  std::unique_ptr<LocalWitness> OpenWitness(const std::string& path = "") {
    auto w = LocalWitness::Open(&clock_, path);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return std::move(*w);
  }
  LeaderClaim Claim(const std::string& holder, uint64_t epoch, uint64_t ttl_ms = 5000) {
    return LeaderClaim{holder, "http://" + holder + ":19530", epoch, ttl_ms};
  }
  FakeClockEnv clock_;
  testing::TempDir dir_;
};

TEST_F(FailoverLeaseTest, TheWitnessGrantsRenewsRefusesAndFences) {
  auto w = OpenWitness();
  ASSERT_OK_AND_ASSIGN(ClaimAnswer first, w->Claim(Claim("a", 1)));
  EXPECT_TRUE(first.granted);
  EXPECT_EQ(first.record.holder, "a");
  EXPECT_EQ(first.record.remaining_ms, 5000u);
  clock_.Advance(2000 * kMs);
  ASSERT_OK_AND_ASSIGN(ClaimAnswer renewed, w->Claim(Claim("a", 1)));
  EXPECT_TRUE(renewed.granted);
  EXPECT_EQ(renewed.record.remaining_ms, 5000u);

  // Another server, even in a higher epoch, waits while the lease is live.
  ASSERT_OK_AND_ASSIGN(ClaimAnswer early, w->Claim(Claim("b", 2)));
  EXPECT_FALSE(early.granted);
  EXPECT_FALSE(early.superseded);
  EXPECT_EQ(early.record.holder, "a");
  EXPECT_EQ(early.record.remaining_ms, 5000u);
  clock_.Advance(4999 * kMs);
  EXPECT_FALSE(w->Claim(Claim("b", 2))->granted);  // 1 ms left
  clock_.Advance(1 * kMs);
  ASSERT_OK_AND_ASSIGN(LeaderRecord expired, w->Read());
  EXPECT_TRUE(expired.exists);
  EXPECT_FALSE(expired.live());
  // Expired: the same epoch by another server is still refused; a higher one is a promotion.
  EXPECT_FALSE(w->Claim(Claim("b", 1))->granted);
  ASSERT_OK_AND_ASSIGN(ClaimAnswer promoted, w->Claim(Claim("b", 2)));
  EXPECT_TRUE(promoted.granted);
  EXPECT_EQ(promoted.record.epoch, 2u);
  // The old leader is fenced, also once the new leader's lease has expired.
  ASSERT_OK_AND_ASSIGN(ClaimAnswer fenced, w->Claim(Claim("a", 1)));
  EXPECT_FALSE(fenced.granted);
  EXPECT_TRUE(fenced.superseded);
  EXPECT_EQ(fenced.record.holder, "b");
  clock_.Advance(60'000 * kMs);
  EXPECT_TRUE(w->Claim(Claim("a", 1))->superseded);
  // The expired holder may take its own lease back if nobody took it.
  EXPECT_TRUE(w->Claim(Claim("b", 2))->granted);
  // Release: expires at once, for the holder in its epoch only.
  ASSERT_OK(w->Release("a", 1));
  EXPECT_TRUE(w->Read()->live());
  ASSERT_OK(w->Release("b", 2));
  EXPECT_FALSE(w->Read()->live());
  EXPECT_TRUE(w->Claim(Claim("c", 3))->granted);
}

TEST_F(FailoverLeaseTest, TheWitnessRecordSurvivesARestartAndIsLiveForAFullTtl) {
  const std::string path = dir_.path() + "/witness.json";
  {
    auto w = OpenWitness(path);
    ASSERT_TRUE(w->Claim(Claim("a", 1))->granted);
    ASSERT_TRUE(w->Claim(Claim("a", 1, 3000))->granted);  // a changed ttl is recorded
    clock_.Advance(10'000 * kMs);
    ASSERT_TRUE(w->Claim(Claim("b", 4))->granted);
  }
  clock_.Advance(3'600'000 * kMs);  // down for an hour
  auto w = OpenWitness(path);
  ASSERT_OK_AND_ASSIGN(LeaderRecord r, w->Read());
  EXPECT_EQ(r.holder, "b");
  EXPECT_EQ(r.epoch, 4u);
  EXPECT_EQ(r.remaining_ms, 5000u);  // it cannot know how long b still believes it holds it
  EXPECT_FALSE(w->Claim(Claim("c", 5))->granted);
  EXPECT_TRUE(w->Claim(Claim("a", 1))->superseded);

  ASSERT_OK(Env::Default()->WriteFileAtomic(path, "{\"format\":1,\"holder\":\"b\"}"));
  auto bad = LocalWitness::Open(&clock_, path);
  ASSERT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
  EXPECT_NE(bad.status().message().find("\"url\""), std::string::npos) << bad.status().ToString();
}

TEST_F(FailoverLeaseTest, ClaimsAreValidatedAndTheJsonCodecsRoundTrip) {
  auto w = OpenWitness();
  EXPECT_EQ(w->Claim(LeaderClaim{"", "u", 1, 5000}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w->Claim(LeaderClaim{"a b", "u", 1, 5000}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w->Claim(LeaderClaim{"a", "u", 0, 5000}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w->Claim(LeaderClaim{"a", "u", 1, 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(w->Read()->exists);

  ASSERT_OK_AND_ASSIGN(ClaimAnswer a, w->Claim(Claim("a", 7)));
  ASSERT_OK_AND_ASSIGN(ClaimAnswer back, ClaimAnswerFromJson(ClaimAnswerToJson(a)));
  EXPECT_EQ(back.granted, a.granted);
  EXPECT_EQ(back.record.holder, "a");
  EXPECT_EQ(back.record.epoch, 7u);
  EXPECT_EQ(back.record.remaining_ms, a.record.remaining_ms);
  ASSERT_OK_AND_ASSIGN(LeaderClaim c, LeaderClaimFromJson(LeaderClaimToJson(Claim("z", 3, 2000))));
  EXPECT_EQ(c.holder, "z");
  EXPECT_EQ(c.ttl_ms, 2000u);
  auto wrong = LeaderClaimFromJson({{"holder", "z"}, {"epoch", "3"}, {"ttlMs", 2000}});
  ASSERT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("\"epoch\""), std::string::npos);
  EXPECT_FALSE(ClaimAnswerFromJson(nlohmann::json::array()).ok());
  EXPECT_FALSE(LeaderRecordFromJson({{"exists", true}}).ok());
}

// A witness that can be unreachable, and whose answers take time to travel
// (the fake clock moves while a claim is in flight).
class FlakyWitness final : public Witness {
 public:
  FlakyWitness(Witness* target, FakeClockEnv* clock) : target_(target), clock_(clock) {}
  Result<ClaimAnswer> Claim(const LeaderClaim& claim) override {
    clock_->Advance(request_delay);
    if (down) return Status::Unavailable("witness unreachable (test)");
    auto a = target_->Claim(claim);
    clock_->Advance(reply_delay);
    if (lose_reply) return Status::Unavailable("reply lost (test)");
    return a;
  }
  Result<LeaderRecord> Read() override { return target_->Read(); }
  Status Release(const std::string& h, uint64_t e) override { return target_->Release(h, e); }
  std::string Describe() const override { return "flaky witness"; }
  bool down = false, lose_reply = false;
  uint64_t request_delay = 0, reply_delay = 0;

 private:
  Witness* target_;
  FakeClockEnv* clock_;
};

TEST_F(FailoverLeaseTest, TheKeeperStopsWritesBeforeTheWitnessCanExpireTheLease) {
  auto w = OpenWitness();
  FlakyWitness flaky(w.get(), &clock_);
  LeaseKeeper a(&clock_, &flaky, {"a", "http://a:19530", 5000, 1000, 1000});
  EXPECT_OK(a.CheckWritable());  // not active: a standby's keeper does not fence
  a.Activate(1);
  Status before = a.CheckWritable();
  ASSERT_EQ(before.code(), StatusCode::kUnavailable);
  EXPECT_NE(before.message().find("does not hold the leader lease yet"), std::string::npos);
  EXPECT_NE(before.message().find("flaky witness"), std::string::npos);
  EXPECT_EQ(a.State(), "acquiring");

  flaky.request_delay = 300 * kMs;  // the witness starts its ttl 300 ms after a sent
  flaky.reply_delay = 200 * kMs;
  ASSERT_OK(a.RenewOnce());
  EXPECT_EQ(a.State(), "held");
  EXPECT_OK(a.CheckWritable());
  // Sent at t0; the witness expires it at t0 + 300 ms + 5 s; a stops at t0 + 4 s.
  clock_.Advance(3499 * kMs);  // t0 + 3999 ms
  EXPECT_OK(a.CheckWritable());
  clock_.Advance(1 * kMs);
  Status lapsed = a.CheckWritable();
  ASSERT_EQ(lapsed.code(), StatusCode::kUnavailable);
  EXPECT_NE(lapsed.message().find("lapsed"), std::string::npos) << lapsed.ToString();
  EXPECT_TRUE(w->Read()->live());  // the witness still counts it: 1.3 s of margin left

  // An unreachable witness extends nothing; a reachable one again does.
  flaky.down = true;
  EXPECT_FALSE(a.RenewOnce().ok());
  EXPECT_FALSE(a.CheckWritable().ok());
  flaky.down = false;
  ASSERT_OK(a.RenewOnce());
  EXPECT_OK(a.CheckWritable());

  // b is promoted once a's lease has expired at the witness; a is fenced.
  LeaseKeeper b(&clock_, &flaky, {"b", "http://b:19530", 5000, 1000, 1000});
  Status too_soon = b.ClaimForPromotion(2);
  ASSERT_EQ(too_soon.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(too_soon.message().find("still holds the leader lease"), std::string::npos) << too_soon.ToString();
  EXPECT_OK(b.CheckWritable());  // still idle
  clock_.Advance(6000 * kMs);
  ASSERT_OK(b.ClaimForPromotion(2));
  EXPECT_OK(b.CheckWritable());
  EXPECT_FALSE(a.CheckWritable().ok());
  ASSERT_OK(a.RenewOnce());
  Status fenced = a.CheckWritable();
  ASSERT_EQ(fenced.code(), StatusCode::kFenced);
  EXPECT_NE(fenced.message().find("epoch 2 led by b"), std::string::npos) << fenced.ToString();
  EXPECT_TRUE(a.fenced());
  EXPECT_EQ(a.State(), "fenced");
  ASSERT_OK(a.RenewOnce());  // stays fenced: it never claims again
  EXPECT_EQ(a.StatusJson()["leader"]["holder"], "b");

  // A planned hand-over gives the lease up at once.
  ASSERT_OK(b.Relinquish("switchover"));
  EXPECT_FALSE(b.CheckWritable().ok());
  EXPECT_FALSE(w->Read()->live());
}

TEST_F(FailoverLeaseTest, KeeperOptionsAreChecked) {
  EXPECT_OK(ValidateLeaseKeeperOptions({"a", "", 5000, 0, 0}));
  EXPECT_EQ(ValidateLeaseKeeperOptions({"", "", 5000, 0, 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateLeaseKeeperOptions({"a", "", 500, 0, 0}).code(), StatusCode::kInvalidArgument);
  Status lapse = ValidateLeaseKeeperOptions({"a", "", 5000, 3000, 2000});
  ASSERT_EQ(lapse.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(lapse.message().find("shorter than the lease ttl"), std::string::npos);
}

// The property: whatever the delays, lost replies and promotion attempts, at
// no instant do two keepers both allow writes. Random schedules, fixed seed.
TEST_F(FailoverLeaseTest, NoTwoServersEverAcknowledgeWritesAtOnce) {
  std::mt19937_64 rng(20261206);
  for (int round = 0; round < 200; ++round) {
    auto w = OpenWitness();
    FlakyWitness flaky(w.get(), &clock_);
    std::vector<std::unique_ptr<LeaseKeeper>> servers;
    for (const char* name : {"a", "b", "c"}) {
      servers.push_back(std::make_unique<LeaseKeeper>(&clock_, &flaky,
                                                      LeaseKeeperOptions{name, "", 3000, 600, 600}));
    }
    servers[0]->Activate(1);
    uint64_t next_epoch = 2;
    int writers_seen = 0;
    for (int step = 0; step < 300; ++step) {
      flaky.request_delay = rng() % 400 * kMs;
      flaky.reply_delay = rng() % 400 * kMs;
      flaky.lose_reply = rng() % 10 == 0;
      flaky.down = rng() % 8 == 0;
      const size_t who = rng() % servers.size();
      switch (rng() % 4) {
        case 0:
        case 1:
          (void)servers[who]->RenewOnce();
          break;
        case 2:
          if (servers[who]->ClaimForPromotion(next_epoch).ok()) ++next_epoch;
          break;
        default:
          clock_.Advance(rng() % 2000 * kMs);
      }
      int writers = 0;
      for (auto& s : servers) writers += s->CheckWritable().ok() && s->State() != "idle";
      ASSERT_LE(writers, 1) << "round " << round << " step " << step;
      writers_seen += writers;
    }
    EXPECT_GT(writers_seen, 0) << "round " << round << ": the schedule never let anyone write";
  }
}

}  // namespace
}  // namespace ark::dr
