#include "dr/schedule/cron.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <string>

#include "support/test_util.h"

namespace ark::dr {
namespace {

// "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS", UTC, to unix seconds.
int64_t At(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  const int n = std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s);
  EXPECT_GE(n, 5) << "bad time in test: " << text;
  namespace chrono = std::chrono;
  const chrono::sys_days day{chrono::year{y} / mo / d};
  return day.time_since_epoch().count() * 86400 + h * 3600 + mi * 60 + s;
}

TEST(CronTest, TimeHelperMatchesKnownInstants) {
  EXPECT_EQ(At("1970-01-01 00:00"), 0);
  EXPECT_EQ(At("2024-02-29 00:00"), 1709164800);
  EXPECT_EQ(At("2026-01-01 00:00"), 1767225600);
  EXPECT_EQ(At("1969-12-31 23:59:59"), -1);
}

struct NextCase {
  const char* expr;
  const char* from;
  const char* expected_next;
};

// Expected instants were worked out by hand from a calendar and cross-checked
// with an independent minute-by-minute evaluator.
const NextCase kNextCases[] = {
    // Strictly after, and seconds are dropped.
    {"* * * * *", "2026-01-01 00:00", "2026-01-01 00:01"},
    {"* * * * *", "2026-01-01 00:00:30", "2026-01-01 00:01"},
    {"0 * * * *", "2026-01-01 10:00", "2026-01-01 11:00"},
    {"30 2 * * *", "2026-03-15 02:30", "2026-03-16 02:30"},
    {"30 2 * * *", "2026-03-15 02:29:59", "2026-03-15 02:30"},
    // Month ends: the 31st skips months that lack one.
    {"0 0 31 * *", "2026-04-01 00:00", "2026-05-31 00:00"},
    {"0 0 31 * *", "2026-05-31 00:00", "2026-07-31 00:00"},
    // Leap days, including 2100, which is not a leap year.
    {"0 0 29 2 *", "2026-03-01 00:00", "2028-02-29 00:00"},
    {"0 0 29 2 *", "2024-02-29 00:00", "2028-02-29 00:00"},
    {"0 0 29 2 *", "2096-03-01 00:00", "2104-02-29 00:00"},
    // Feb 29 that is also a Sunday (*/7 starts with '*': AND): 2032.
    {"0 0 29 2 */7", "2026-01-01 00:00", "2032-02-29 00:00"},
    // Both day fields restricted: either matches (Vixie OR rule).
    {"0 12 1 * MON", "2026-06-01 12:00", "2026-06-08 12:00"},
    {"0 12 1 * MON", "2026-08-30 13:00", "2026-08-31 12:00"},
    {"0 12 1 * MON", "2026-08-31 12:00", "2026-09-01 12:00"},
    {"0 0 13 * FRI", "2026-02-13 00:00", "2026-02-20 00:00"},
    {"0 0 13 * FRI", "2026-06-12 00:00", "2026-06-13 00:00"},
    {"0 0 30 2 MON", "2026-01-01 00:00", "2026-02-02 00:00"},
    // Day-of-month starts with '*': both must match (odd days that are Mondays).
    {"0 0 */2 * MON", "2026-06-01 00:00", "2026-06-15 00:00"},
    // 0 and 7 are Sunday; ranges through 7 wrap to Sunday.
    {"0 0 * * 7", "2026-03-15 00:00", "2026-03-22 00:00"},
    {"0 0 * * 0", "2026-03-15 00:00", "2026-03-22 00:00"},
    {"0 0 * * 5-7", "2026-03-15 00:00", "2026-03-20 00:00"},
    // Steps over ranges and over '*'.
    {"*/20 9-17/4 * * *", "2026-01-01 09:40", "2026-01-01 13:00"},
    {"*/20 9-17/4 * * *", "2026-01-01 17:40", "2026-01-02 09:00"},
    {"*/15 * * * *", "2026-01-01 23:50", "2026-01-02 00:00"},
    // Lists mixing values, ranges and steps.
    {"0 0 1,15 * *", "2026-01-01 00:00", "2026-01-15 00:00"},
    {"0 0 1,15 * *", "2026-01-15 00:00", "2026-02-01 00:00"},
    {"5,10-12,*/30 * * * *", "2026-01-01 00:12", "2026-01-01 00:30"},
    {"5,10-12,*/30 * * * *", "2026-01-01 00:30", "2026-01-01 01:00"},
    // Names in any case, in ranges and lists.
    {"0 9 * JAN-MAR,dec mon-fri", "2026-03-31 09:00", "2026-12-01 09:00"},
    {"0 9 * JAN-MAR,dec mon-fri", "2026-12-31 09:00", "2027-01-01 09:00"},
    {"0 0 * fEb sUn", "2026-01-01 00:00", "2026-02-01 00:00"},
    // Year rollover.
    {"59 23 31 12 *", "2026-12-31 23:59", "2027-12-31 23:59"},
    {"0 0 1 1 *", "2026-12-31 23:59:59", "2027-01-01 00:00"},
    {"0 0 1 1 *", "1969-12-31 23:59:59", "1970-01-01 00:00"},
    // Macros.
    {"@hourly", "2026-01-01 10:15", "2026-01-01 11:00"},
    {"@daily", "2026-01-01 10:15", "2026-01-02 00:00"},
    {"@midnight", "2026-01-01 00:00", "2026-01-02 00:00"},
    {"@weekly", "2026-03-15 00:00", "2026-03-22 00:00"},
    {"@monthly", "2026-01-31 00:00", "2026-02-01 00:00"},
    {"@yearly", "2026-06-01 00:00", "2027-01-01 00:00"},
    {"@ANNUALLY", "2026-06-01 00:00", "2027-01-01 00:00"},
};

TEST(CronTest, NextAfterTable) {
  for (const NextCase& c : kNextCases) {
    SCOPED_TRACE(std::string(c.expr) + " after " + c.from);
    ASSERT_OK_AND_ASSIGN(CronSchedule schedule, CronSchedule::Parse(c.expr));
    const std::optional<int64_t> next = schedule.NextAfter(At(c.from));
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(*next, At(c.expected_next));
  }
}

TEST(CronTest, NextAfterIsAFireTimeWithNothingInBetween) {
  // For a few schedules, walk 200 fires: each is strictly later, a whole
  // minute, and asking from one second before it finds it again.
  for (const char* expr : {"*/7 3-5 * * *", "0 0 13 * FRI", "15 */6 1-7 * SUN"}) {
    SCOPED_TRACE(expr);
    ASSERT_OK_AND_ASSIGN(CronSchedule schedule, CronSchedule::Parse(expr));
    int64_t t = At("2026-01-01 00:00");
    for (int i = 0; i < 200; ++i) {
      const std::optional<int64_t> next = schedule.NextAfter(t);
      ASSERT_TRUE(next.has_value());
      EXPECT_GT(*next, t);
      EXPECT_EQ(*next % 60, 0);
      EXPECT_EQ(schedule.NextAfter(*next - 1), next);
      t = *next;
    }
  }
}

TEST(CronTest, NothingAfterYear9999) {
  ASSERT_OK_AND_ASSIGN(CronSchedule schedule, CronSchedule::Parse("0 0 31 12 *"));
  EXPECT_EQ(schedule.NextAfter(At("9999-12-30 00:00")), At("9999-12-31 00:00"));
  EXPECT_EQ(schedule.NextAfter(At("9999-12-31 00:00")), std::nullopt);
  EXPECT_EQ(schedule.NextAfter(std::numeric_limits<int64_t>::max()), std::nullopt);
  // Far in the past: starts at year 1 rather than overflowing.
  ASSERT_OK_AND_ASSIGN(CronSchedule hourly, CronSchedule::Parse("@hourly"));
  EXPECT_TRUE(hourly.NextAfter(std::numeric_limits<int64_t>::min()).has_value());
}

TEST(CronTest, CountFiresBetween) {
  ASSERT_OK_AND_ASSIGN(CronSchedule hourly, CronSchedule::Parse("@hourly"));
  const int64_t day_start = At("2026-01-01 00:00");
  const int64_t day_end = At("2026-01-02 00:00");
  // (from, to]: the fire at `from` is not counted, the one at `to` is.
  EXPECT_EQ(hourly.CountFiresBetween(day_start, day_end, 1000), 24);
  EXPECT_EQ(hourly.CountFiresBetween(day_start - 1, day_end, 1000), 25);
  EXPECT_EQ(hourly.CountFiresBetween(day_start, day_end - 1, 1000), 23);
  EXPECT_EQ(hourly.CountFiresBetween(day_start, day_end, 5), 5);
  EXPECT_EQ(hourly.CountFiresBetween(day_start, day_end, 0), 0);
  EXPECT_EQ(hourly.CountFiresBetween(day_end, day_start, 1000), 0);
  ASSERT_OK_AND_ASSIGN(CronSchedule nightly, CronSchedule::Parse("0 3 * * *"));
  EXPECT_EQ(nightly.CountFiresBetween(day_start, At("2026-01-11 00:00"), 1000), 10);
  ASSERT_OK_AND_ASSIGN(CronSchedule leap, CronSchedule::Parse("0 0 29 2 *"));
  EXPECT_EQ(leap.CountFiresBetween(At("2000-01-01 00:00"), At("2101-01-01 00:00"), 1000), 25);
}

TEST(CronTest, ToStringNormalisesWhitespaceAndMacros) {
  ASSERT_OK_AND_ASSIGN(CronSchedule a, CronSchedule::Parse("  0   3 * *\tmon "));
  EXPECT_EQ(a.ToString(), "0 3 * * mon");
  ASSERT_OK_AND_ASSIGN(CronSchedule b, CronSchedule::Parse("@DAILY"));
  EXPECT_EQ(b.ToString(), "@daily");
  // What ToString gives back parses to the same schedule.
  ASSERT_OK_AND_ASSIGN(CronSchedule c, CronSchedule::Parse(a.ToString()));
  EXPECT_EQ(c.NextAfter(0), a.NextAfter(0));
}

struct RejectCase {
  const char* expr;
  const char* message_part;
};

const RejectCase kRejectCases[] = {
    {"", "expected 5 fields (minute hour day-of-month month day-of-week)"},
    {"* * * *", "got 4 fields"},
    {"* * * * * *", "got 6 fields"},
    {"0 25 * * *", "cron '0 25 * * *': hour field: 25 is out of range 0-23"},
    {"60 * * * *", "minute field: 60 is out of range 0-59"},
    {"0 0 0 * *", "day-of-month field: 0 is out of range 1-31"},
    {"0 0 32 * *", "day-of-month field: 32 is out of range 1-31"},
    {"0 0 * 13 *", "month field: 13 is out of range 1-12"},
    {"0 0 * 0 *", "month field: 0 is out of range 1-12"},
    {"0 0 * * 8", "day-of-week field: 8 is out of range 0-7"},
    {"99999999999999999999 * * * *", "minute field: 99999999999999999999 is out of range 0-59"},
    {"1,,2 * * * *", "minute field: empty list item in '1,,2'"},
    {"1, * * * *", "minute field: empty list item in '1,'"},
    {"0 ,5 * * *", "hour field: empty list item in ',5'"},
    {"0 5-1 * * *", "hour field: range '5-1' is backwards"},
    {"0 0 * * SAT-SUN", "day-of-week field: range 'SAT-SUN' is backwards"},
    {"-5 * * * *", "minute field: '-5' is not a range"},
    {"5- * * * *", "minute field: '5-' is not a range"},
    {"*/0 * * * *", "minute field: step 0 in '*/0' must be at least 1"},
    {"0 1-10/0 * * *", "hour field: step 0 in '1-10/0' must be at least 1"},
    {"*/61 * * * *", "minute field: step 61 in '*/61' is larger than the field's range 0-59"},
    {"*/x * * * *", "minute field: step 'x' in '*/x' is not a number"},
    {"*/ * * * *", "minute field: step '' in '*/' is not a number"},
    {"*/2/3 * * * *", "minute field: '*/2/3' has more than one '/'"},
    {"5/10 * * * *", "minute field: step in '5/10' needs a range: write '*/10' or '5-59/10'"},
    {"0 0 * FOO *", "month field: unknown name 'FOO', expected 1-12 or a name JAN-DEC"},
    {"0 0 * * FUNDAY", "day-of-week field: unknown name 'FUNDAY', expected 0-7 or a name SUN-SAT"},
    {"0 0 * * MONDAY", "day-of-week field: unknown name 'MONDAY'"},
    {"0 x * * *", "hour field: 'x' is not a number, expected 0-23"},
    {"0 0 MON * *", "day-of-month field: 'MON' is not a number, expected 1-31"},
    {"0 0 * 1# *", "month field: '1#' is not a number, expected 1-12 or a name JAN-DEC"},
    {"0 +1 * * *", "hour field: '+1' is not a number"},
    {"@reboot", "unknown macro '@reboot', expected one of @hourly"},
    {"@daily 5", "a macro such as @daily stands alone, got 2 fields"},
    {"0 0 30 2 *", "cron '0 0 30 2 *': never fires"},
    {"0 0 31 4,6,9,11 *", "never fires"},
    {"0 0 31 APR *", "never fires"},
    {"0 0 30-31 feb */2", "never fires"},
};

TEST(CronTest, RejectedExpressionsTable) {
  for (const RejectCase& c : kRejectCases) {
    SCOPED_TRACE(c.expr);
    const Result<CronSchedule> parsed = CronSchedule::Parse(c.expr);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.message_part), std::string::npos)
        << "message: " << parsed.status().message();
  }
}

// ---- MaxGapSeconds ----------------------------------------------------------

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

struct GapCase {
  const char* expr;
  const char* from;
  int64_t expected_gap;
};

// Worked out from a calendar; MaxGapMatchesAWalkOfEveryFireTime checks the
// same schedules (and more) against a plain walk of NextAfter.
const GapCase kGapCases[] = {
    {"* * * * *", "2026-01-01 00:00", kMinute},
    {"*/15 * * * *", "2026-01-01 00:07", 15 * kMinute},
    {"0 2 * * *", "2026-03-15 12:00", kDay},
    {"@hourly", "2026-03-15 12:00", kHour},
    {"0 */6 * * *", "2026-03-15 12:00", 6 * kHour},
    // Office hours: 17:00 to the next day's 09:00.
    {"0 9-17 * * *", "2026-03-15 12:00", 16 * kHour},
    // Weekdays only: Friday to Monday.
    {"0 2 * * 1-5", "2026-03-15 12:00", 3 * kDay},
    {"30 1 * * MON-FRI", "2026-03-15 12:00", 3 * kDay},
    // Office hours on weekdays: Friday 17:00 to Monday 09:00.
    {"0 9-17 * * 1-5", "2026-03-15 12:00", 2 * kDay + 16 * kHour},
    {"@weekly", "2026-03-15 12:00", 7 * kDay},
    // The longest month within the year.
    {"@monthly", "2026-03-15 12:00", 31 * kDay},
    // Both day fields restricted (OR): the 1st or any Monday, never more than a week.
    {"0 0 1 * MON", "2026-03-15 12:00", 7 * kDay},
    // The 31st: from 2026-08-31 to 2026-10-31 (September has none).
    {"0 0 31 * *", "2026-03-15 12:00", 61 * kDay},
    // January only: 2026-01-31 to 2027-01-01.
    {"0 0 * 1 *", "2026-01-05 00:00", 335 * kDay},
    // Yearly: 2027 has 365 days, 2028 (leap) 366.
    {"@yearly", "2026-06-01 00:00", 365 * kDay},
    {"@yearly", "2027-06-01 00:00", 366 * kDay},
    // The first fire lies beyond the horizon: the gap after it still counts.
    {"0 0 29 2 *", "2026-03-01 00:00", 4 * 365 * kDay + kDay},
};

TEST(CronTest, MaxGapTable) {
  for (const GapCase& c : kGapCases) {
    SCOPED_TRACE(std::string(c.expr) + " from " + c.from);
    ASSERT_OK_AND_ASSIGN(CronSchedule schedule, CronSchedule::Parse(c.expr));
    EXPECT_EQ(schedule.MaxGapSeconds(At(c.from)), c.expected_gap);
  }
}

TEST(CronTest, MaxGapOnlyCountsGapsStartingWithinTheHorizon) {
  // Every day in January: 1 day within January, 335 days once the horizon
  // reaches January 31.
  ASSERT_OK_AND_ASSIGN(CronSchedule january, CronSchedule::Parse("0 0 * 1 *"));
  EXPECT_EQ(january.MaxGapSeconds(At("2026-01-05 00:00"), 10 * kDay), kDay);
  EXPECT_EQ(january.MaxGapSeconds(At("2026-01-05 00:00"), 26 * kDay - 1), kDay);
  EXPECT_EQ(january.MaxGapSeconds(At("2026-01-05 00:00"), 26 * kDay), 335 * kDay);
  // A zero horizon still measures the gap after the first fire time.
  ASSERT_OK_AND_ASSIGN(CronSchedule weekdays, CronSchedule::Parse("0 2 * * 1-5"));
  EXPECT_EQ(weekdays.MaxGapSeconds(At("2026-03-13 00:00"), 0), 3 * kDay);  // Friday
  EXPECT_EQ(weekdays.MaxGapSeconds(At("2026-03-16 00:00"), 0), kDay);      // Monday
}

TEST(CronTest, MaxGapMatchesAWalkOfEveryFireTime) {
  // The same answer as stepping NextAfter from fire time to fire time.
  for (const char* expr : {"*/7 3-5 * * *", "0 0 13 * FRI", "15 */6 1-7 * SUN", "0 9-17 * * 1-5",
                           "5,55 0,23 * * *", "0 12 29-31 * *", "*/20 * 1 1,7 *"}) {
    SCOPED_TRACE(expr);
    ASSERT_OK_AND_ASSIGN(CronSchedule schedule, CronSchedule::Parse(expr));
    const int64_t from = At("2026-02-10 10:10");
    const int64_t end = from + CronSchedule::kYearSeconds;
    int64_t walked = 0;
    std::optional<int64_t> t = schedule.NextAfter(from);
    ASSERT_TRUE(t.has_value());
    bool first = true;
    while (first || *t <= end) {
      const std::optional<int64_t> next = schedule.NextAfter(*t);
      ASSERT_TRUE(next.has_value());
      walked = std::max(walked, *next - *t);
      t = next;
      first = false;
    }
    EXPECT_EQ(schedule.MaxGapSeconds(from), walked);
  }
}

TEST(CronTest, MaxGapNeedsTwoFireTimesBeforeYear10000) {
  ASSERT_OK_AND_ASSIGN(CronSchedule yearly, CronSchedule::Parse("@yearly"));
  EXPECT_EQ(yearly.MaxGapSeconds(At("9998-06-01 00:00")), std::nullopt);  // only 9999-01-01
  EXPECT_EQ(yearly.MaxGapSeconds(At("9999-06-01 00:00")), std::nullopt);
  EXPECT_EQ(yearly.MaxGapSeconds(At("9997-06-01 00:00")), 365 * kDay);
}

}  // namespace
}  // namespace ark::dr
