#include "dr/backup/retention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "support/test_util.h"

namespace ark::dr {
namespace {

int64_t DayStart(int y, unsigned m, unsigned d) {
  namespace chrono = std::chrono;
  return chrono::sys_days{chrono::year{y} / m / d}.time_since_epoch().count() * 86400;
}

// The synthetic calendar: one backup every 6 hours for 100 days from
// 2026-01-01 00:00 UTC (a Thursday), named b-000 .. b-399; b-399 is
// 2026-04-10 18:00 (a Friday). "Now" is 2026-04-11 00:00.
constexpr int kCount = 400;
const int64_t kStart = DayStart(2026, 1, 1);
const int64_t kNow = DayStart(2026, 4, 11);

std::string Name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "b-%03d", i);
  return buf;
}

std::vector<BackupAge> Calendar() {
  std::vector<BackupAge> backups;
  for (int i = 0; i < kCount; ++i) backups.push_back({Name(i), kStart + i * 6 * 3600, true});
  return backups;
}

std::vector<std::string> Names(std::initializer_list<int> indexes) {
  std::vector<std::string> out;
  for (int i : indexes) out.push_back(Name(i));
  return out;
}

struct PolicyCase {
  const char* label;
  RetentionPolicy policy;
  std::vector<std::string> keep;  // newest first
};

// Expected sets were derived by hand from the calendar above (and checked
// against an independent script); see the comments for the reasoning.
std::vector<PolicyCase> PolicyCases() {
  std::vector<std::string> within_two_days;  // 2026-04-09 00:00 onwards: b-392..b-399
  for (int i = 399; i >= 392; --i) within_two_days.push_back(Name(i));
  return {
      {"last 3", {.keep_last = 3}, Names({399, 398, 397})},
      {"last 1", {.keep_last = 1}, Names({399})},
      // Newest of Apr 10, 9, 8 (the 18:00 backup of each day).
      {"daily 3", {.keep_daily = 3}, Names({399, 395, 391})},
      {"daily 7", {.keep_daily = 7}, Names({399, 395, 391, 387, 383, 379, 375})},
      // ISO weeks: W15 (Mon Apr 6..) newest b-399; W14 ends Sun Apr 5 18:00 = b-379;
      // W13 ends Sun Mar 29 = b-351; W12 ends Sun Mar 22 = b-323.
      {"weekly 4", {.keep_weekly = 4}, Names({399, 379, 351, 323})},
      // Apr: b-399; Mar 31 18:00 = b-359; Feb 28 18:00 = b-235.
      {"monthly 3", {.keep_monthly = 3}, Names({399, 359, 235})},
      // Only four months have backups; Jan 31 18:00 = b-123.
      {"monthly 10", {.keep_monthly = 10}, Names({399, 359, 235, 123})},
      // Cutoff 2026-04-09 00:00 is inclusive: b-392 is exactly on it.
      {"days 2", {.keep_days = 2}, within_two_days},
      {"last 2 + daily 3 + weekly 2 + monthly 3",
       {.keep_last = 2, .keep_daily = 3, .keep_weekly = 2, .keep_monthly = 3},
       Names({399, 398, 395, 391, 379, 359, 235})},
      {"days 1 + monthly 2", {.keep_days = 1, .keep_monthly = 2}, Names({399, 398, 397, 396, 359})},
  };
}

TEST(RetentionTest, SyntheticCalendarTable) {
  for (const PolicyCase& c : PolicyCases()) {
    SCOPED_TRACE(c.label);
    ASSERT_OK_AND_ASSIGN(RetentionDecision decision, DecideRetention(c.policy, Calendar(), kNow));
    EXPECT_EQ(decision.keep, c.keep);
    // Everything else is removed, newest first, and nothing is in both lists.
    std::vector<std::string> expected_remove;
    for (int i = kCount - 1; i >= 0; --i) {
      if (std::find(c.keep.begin(), c.keep.end(), Name(i)) == c.keep.end()) {
        expected_remove.push_back(Name(i));
      }
    }
    EXPECT_EQ(decision.remove, expected_remove);
    EXPECT_EQ(decision.reasons.size(), decision.keep.size());
    for (const std::string& kept : decision.keep) EXPECT_FALSE(decision.reasons[kept].empty());
  }
}

TEST(RetentionTest, ReasonsNameEveryRuleThatKeeps) {
  const RetentionPolicy policy{
      .keep_last = 2, .keep_days = 30, .keep_daily = 3, .keep_weekly = 2, .keep_monthly = 3};
  ASSERT_OK_AND_ASSIGN(RetentionDecision decision, DecideRetention(policy, Calendar(), kNow));
  EXPECT_EQ(decision.reasons[Name(399)],
            "last 2, daily 2026-04-10, weekly 2026-W15, monthly 2026-04, within 30 days");
  EXPECT_EQ(decision.reasons[Name(398)], "last 2, within 30 days");
  EXPECT_EQ(decision.reasons[Name(395)], "daily 2026-04-09, within 30 days");
  EXPECT_EQ(decision.reasons[Name(379)], "weekly 2026-W14, within 30 days");
  EXPECT_EQ(decision.reasons[Name(235)], "monthly 2026-02");
  EXPECT_EQ(decision.reasons.count(Name(234)), 0u);
}

TEST(RetentionTest, InputOrderDoesNotMatter) {
  const RetentionPolicy policy{.keep_last = 2, .keep_daily = 3, .keep_weekly = 2};
  std::vector<BackupAge> shuffled = Calendar();
  std::reverse(shuffled.begin(), shuffled.end());
  std::rotate(shuffled.begin(), shuffled.begin() + 137, shuffled.end());
  ASSERT_OK_AND_ASSIGN(RetentionDecision a, DecideRetention(policy, Calendar(), kNow));
  ASSERT_OK_AND_ASSIGN(RetentionDecision b, DecideRetention(policy, shuffled, kNow));
  EXPECT_EQ(a.keep, b.keep);
  EXPECT_EQ(a.remove, b.remove);
  EXPECT_EQ(a.reasons, b.reasons);
}

TEST(RetentionTest, NewestIsAlwaysKept) {
  // Every backup is older than 1 day before "now": keep_days alone keeps none,
  // but the newest survives.
  const int64_t much_later = DayStart(2026, 7, 1);
  ASSERT_OK_AND_ASSIGN(RetentionDecision decision,
                       DecideRetention({.keep_days = 1}, Calendar(), much_later));
  EXPECT_EQ(decision.keep, Names({399}));
  EXPECT_EQ(decision.reasons[Name(399)], "newest backup (always kept)");
  EXPECT_EQ(decision.remove.size(), static_cast<size_t>(kCount - 1));
}

TEST(RetentionTest, EmptyListKeepsAndRemovesNothing) {
  ASSERT_OK_AND_ASSIGN(RetentionDecision decision, DecideRetention({.keep_last = 3}, {}, kNow));
  EXPECT_TRUE(decision.keep.empty());
  EXPECT_TRUE(decision.remove.empty());
  EXPECT_TRUE(decision.reasons.empty());
}

TEST(RetentionTest, SingleBackupIsKept) {
  ASSERT_OK_AND_ASSIGN(RetentionDecision decision,
                       DecideRetention({.keep_daily = 1}, {{"only", kNow - 5, true}}, kNow));
  EXPECT_EQ(decision.keep, std::vector<std::string>{"only"});
  EXPECT_TRUE(decision.remove.empty());
  EXPECT_EQ(decision.reasons["only"], "daily 2026-04-10");
}

TEST(RetentionTest, BackupsInTheFutureCountAsWithinDays) {
  // A clock that ran ahead produced "future"; it is within any --keep-days.
  const std::vector<BackupAge> backups = {{"future", kNow + 3600, true},
                                          {"recent", kNow - 3600, true},
                                          {"old", kNow - 3 * 86400, true}};
  ASSERT_OK_AND_ASSIGN(RetentionDecision decision,
                       DecideRetention({.keep_days = 1}, backups, kNow));
  EXPECT_EQ(decision.keep, (std::vector<std::string>{"future", "recent"}));
  EXPECT_EQ(decision.remove, std::vector<std::string>{"old"});
  EXPECT_EQ(decision.reasons["future"], "within 1 day");
  // It is also simply the newest for keep_last.
  ASSERT_OK_AND_ASSIGN(decision, DecideRetention({.keep_last = 1}, backups, kNow));
  EXPECT_EQ(decision.keep, std::vector<std::string>{"future"});
}

TEST(RetentionTest, EqualTimestampsOrderByNameGreaterIsNewer) {
  const std::vector<BackupAge> backups = {{"a", kNow - 60, true}, {"b", kNow - 60, true}};
  ASSERT_OK_AND_ASSIGN(RetentionDecision last1, DecideRetention({.keep_last = 1}, backups, kNow));
  EXPECT_EQ(last1.keep, std::vector<std::string>{"b"});
  EXPECT_EQ(last1.remove, std::vector<std::string>{"a"});
  // One per day: the same one wins.
  ASSERT_OK_AND_ASSIGN(RetentionDecision daily, DecideRetention({.keep_daily = 5}, backups, kNow));
  EXPECT_EQ(daily.keep, std::vector<std::string>{"b"});
  ASSERT_OK_AND_ASSIGN(RetentionDecision last2, DecideRetention({.keep_last = 2}, backups, kNow));
  EXPECT_EQ(last2.keep, (std::vector<std::string>{"b", "a"}));
}

TEST(RetentionTest, IsoWeekSpansTheYearBoundary) {
  // 2026-12-31 (Thu) and 2027-01-01 (Fri) are both in ISO week 2026-W53;
  // 2027-01-04 is the Monday starting 2027-W01.
  const std::vector<BackupAge> backups = {
      {"thu", DayStart(2026, 12, 31) + 3600, true},
      {"fri", DayStart(2027, 1, 1) + 3600, true},
      {"sun", DayStart(2027, 1, 3) + 86399, true},
      {"mon", DayStart(2027, 1, 4), true},
  };
  ASSERT_OK_AND_ASSIGN(RetentionDecision decision,
                       DecideRetention({.keep_weekly = 10}, backups, DayStart(2027, 1, 5)));
  EXPECT_EQ(decision.keep, (std::vector<std::string>{"mon", "sun"}));
  EXPECT_EQ(decision.remove, (std::vector<std::string>{"fri", "thu"}));
  EXPECT_EQ(decision.reasons["mon"], "weekly 2027-W01");
  EXPECT_EQ(decision.reasons["sun"], "weekly 2026-W53");
}

TEST(RetentionTest, DaysBefore1970UseCalendarDays) {
  // -1 is 1969-12-31 23:59:59, a different day from 0.
  const std::vector<BackupAge> backups = {
      {"epoch", 0, true}, {"last-second-1969", -1, true}, {"earlier-1969", -3600, true}};
  ASSERT_OK_AND_ASSIGN(RetentionDecision decision,
                       DecideRetention({.keep_daily = 5}, backups, 86400));
  EXPECT_EQ(decision.keep, (std::vector<std::string>{"epoch", "last-second-1969"}));
  EXPECT_EQ(decision.reasons["last-second-1969"], "daily 1969-12-31");
}

TEST(RetentionTest, IncompleteBackupsFillNoSlot) {
  const std::vector<BackupAge> backups = {
      {"running", kNow - 60, false},  // newer than every complete backup
      {"good", kNow - 3600, true},
      {"crashed", kNow - 2 * 3600, false},  // older than "good": left over
      {"older-good", kNow - 3 * 3600, true},
  };
  ASSERT_OK_AND_ASSIGN(RetentionDecision decision,
                       DecideRetention({.keep_last = 1}, backups, kNow));
  EXPECT_EQ(decision.keep, (std::vector<std::string>{"running", "good"}));
  EXPECT_EQ(decision.remove, (std::vector<std::string>{"crashed", "older-good"}));
  EXPECT_EQ(decision.reasons["good"], "last 1");
  EXPECT_NE(decision.reasons["running"].find("incomplete"), std::string::npos);
  // With no complete backup at all, nothing is removed.
  ASSERT_OK_AND_ASSIGN(
      decision, DecideRetention({.keep_last = 1}, {{"x", 10, false}, {"y", 20, false}}, kNow));
  EXPECT_EQ(decision.keep, (std::vector<std::string>{"y", "x"}));
  EXPECT_TRUE(decision.remove.empty());
}

TEST(RetentionTest, RejectsEmptyPolicy) {
  const Result<RetentionDecision> r = DecideRetention({}, Calendar(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("a retention policy must keep something: set --keep-last"),
            std::string::npos)
      << r.status().message();
  EXPECT_TRUE(RetentionPolicy{}.empty());
  EXPECT_FALSE(RetentionPolicy{.keep_monthly = 1}.empty());
}

TEST(RetentionTest, RejectsNegativeValuesNamingTheFlag) {
  const std::pair<RetentionPolicy, const char*> cases[] = {
      {{.keep_last = -1}, "--keep-last must not be negative, got -1"},
      {{.keep_last = 3, .keep_days = -2}, "--keep-days must not be negative, got -2"},
      {{.keep_daily = -1}, "--keep-daily must not be negative"},
      {{.keep_weekly = -5}, "--keep-weekly must not be negative"},
      {{.keep_daily = 7, .keep_monthly = -1}, "--keep-monthly must not be negative"},
  };
  for (const auto& [policy, message] : cases) {
    SCOPED_TRACE(message);
    const Result<RetentionDecision> r = DecideRetention(policy, Calendar(), kNow);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status().message();
  }
}

TEST(RetentionTest, RejectsDuplicateNames) {
  const Result<RetentionDecision> r =
      DecideRetention({.keep_last = 1}, {{"x", 1, true}, {"y", 2, true}, {"x", 3, true}}, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'x' appears more than once"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace ark::dr
