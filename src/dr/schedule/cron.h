// CronSchedule: when a scheduled backup fires (docs/schedules.md).
//
// A standard 5-field cron expression — minute hour day-of-month month
// day-of-week — or one of the macros @hourly @daily @midnight @weekly
// @monthly @yearly @annually. Schedules are evaluated in UTC, always: no
// local time zone, no daylight-saving gaps or repeats, so the same expression
// gives the same instants on every server.
//
// Each field accepts `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, and
// comma lists of those. Months and weekdays also accept three-letter English
// names (JAN..DEC, SUN..SAT, any case); 0 and 7 are both Sunday.
//
// Day-of-month and day-of-week follow Vixie cron: if both fields are
// restricted (neither starts with `*`), a day matches when EITHER matches
// ("0 0 1 * MON" = the 1st of each month and every Monday); otherwise a day
// must match both.
//
// Parse rejects, with InvalidArgument naming the field, the token and what was
// expected: a wrong number of fields, empty list items, backwards ranges,
// step 0, out-of-range values, unknown names, and expressions that can never
// fire (such as "0 0 30 2 *").
//
// Thread-safety: a CronSchedule is an immutable value; every const method may
// be called from several threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ark::dr {

class CronSchedule {
 public:
  // Parses `expr` (leading and trailing whitespace ignored; fields separated by
  // spaces or tabs).
  static Result<CronSchedule> Parse(std::string_view expr);

  // The first fire time strictly after `unix_seconds` (fire times are whole
  // minutes, second 0, UTC). nullopt only when that instant is past the end of
  // year 9999, the last instant this class computes with.
  std::optional<int64_t> NextAfter(int64_t unix_seconds) const;

  // How many fire times t satisfy from_exclusive < t <= to_inclusive, counting
  // at most `cap` (returns `cap` if there are more; 0 if cap <= 0). Used to
  // report how many runs were missed while the server was down.
  int CountFiresBetween(int64_t from_exclusive, int64_t to_inclusive, int cap) const;

  // The longest time, in seconds, between two consecutive fire times: every
  // gap that starts at a fire time t with unix_seconds < t <= unix_seconds +
  // horizon_seconds counts (its end may lie beyond the horizon). If the first
  // fire time lies beyond the horizon ("0 0 29 2 *"), the gap after it is
  // still counted. This is what bounds the data lost by restoring from a
  // schedule's backups: a weekday-only schedule gives 3 days, "@yearly" 365
  // or 366. nullopt only when fewer than two fire times remain before the end
  // of year 9999. Cost: one NextAfter per day with fire times, plus a few
  // integer operations per fire time (a year of "* * * * *": milliseconds).
  static constexpr int64_t kYearSeconds = 366 * 86400;
  std::optional<int64_t> MaxGapSeconds(int64_t unix_seconds,
                                       int64_t horizon_seconds = kYearSeconds) const;

  // The expression as parsed, with whitespace between fields normalised to
  // one space and macros lower-cased ("0 3 * * MON", "@daily").
  std::string ToString() const;

 private:
  CronSchedule() = default;

  // True if a day with this day of month (1-31) and weekday (0 = Sunday)
  // matches the two day fields, under the Vixie rule above.
  bool DayMatches(unsigned day_of_month, unsigned day_of_week) const;

  std::string text_;
  uint64_t minutes_ = 0;        // bit m set: minute m (0-59) fires
  uint32_t hours_ = 0;          // bit h: hour h (0-23)
  uint32_t days_of_month_ = 0;  // bit d: day d (1-31)
  uint16_t months_ = 0;         // bit m: month m (1-12)
  uint8_t days_of_week_ = 0;    // bit w: weekday w (0 = Sunday .. 6 = Saturday)
  // Whether the field starts with `*` (Vixie's DOM_STAR / DOW_STAR): decides
  // whether the two day fields are combined with OR or AND.
  bool day_of_month_star_ = false;
  bool day_of_week_star_ = false;
};

}  // namespace ark::dr
