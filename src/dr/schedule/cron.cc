#include "dr/schedule/cron.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <chrono>
#include <span>
#include <vector>

namespace ark::dr {
namespace {

namespace chrono = std::chrono;

constexpr int64_t kSecondsPerDay = 86400;
// The range of instants NextAfter computes with: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z. Wider than any backup will see, narrow enough that no
// arithmetic below can overflow.
constexpr int64_t kMinSupportedSeconds = -62135596800;
constexpr int64_t kMaxSupportedSeconds = 253402300799;
// The Gregorian calendar repeats every 400 years: 146097 days, a whole number
// of weeks, so dates, weekdays and leap days recur identically. An expression
// that does not fire within 400 years (plus the partial month we start in)
// never fires.
constexpr int64_t kCalendarCycleDays = 146097;

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"SUN", "MON", "TUE", "WED",
                                                           "THU", "FRI", "SAT"};

struct FieldSpec {
  std::string_view name;
  int min;
  int max;       // largest value accepted (7 for day-of-week: also Sunday)
  int star_max;  // what `*` expands to (6 for day-of-week)
  std::span<const std::string_view> names;  // names[i] stands for min + i
  std::string_view names_hint;              // "JAN-DEC", for messages
  bool seven_is_sunday = false;             // day-of-week: 7 means 0
};

constexpr FieldSpec kMinuteField{"minute", 0, 59, 59, {}, "", false};
constexpr FieldSpec kHourField{"hour", 0, 23, 23, {}, "", false};
constexpr FieldSpec kDayOfMonthField{"day-of-month", 1, 31, 31, {}, "", false};
constexpr FieldSpec kMonthField{"month", 1, 12, 12, kMonthNames, "JAN-DEC", false};
constexpr FieldSpec kDayOfWeekField{"day-of-week", 0, 7, 6, kWeekdayNames, "SUN-SAT", true};

struct Macro {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<Macro, 7> kMacros = {{
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
}};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool AllLetters(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalpha(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(separator, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// Lowest set bit of `bits` at index >= from, or -1.
int NextBit(uint64_t bits, int from) {
  if (from >= 64) return -1;
  const uint64_t rest = bits & (~uint64_t{0} << from);
  return rest == 0 ? -1 : std::countr_zero(rest);
}

// Parses field values for one expression; every error names the expression
// and the field.
class FieldParser {
 public:
  FieldParser(std::string_view expr, const FieldSpec& spec) : expr_(expr), spec_(spec) {}

  // The set of values the field allows, as bits (bit v = value v).
  Result<uint64_t> Parse(std::string_view field) const {
    uint64_t bits = 0;
    for (std::string_view item : Split(field, ',')) {
      if (item.empty()) {
        return Error(fmt::format("empty list item in '{}'", field));
      }
      ARK_ASSIGN_OR_RETURN(uint64_t item_bits, ParseItem(item));
      bits |= item_bits;
    }
    return bits;
  }

 private:
  Status Error(std::string detail) const {
    return Status::InvalidArgument(
        fmt::format("cron '{}': {} field: {}", expr_, spec_.name, detail));
  }

  std::string Expected() const {
    if (spec_.names.empty()) return fmt::format("{}-{}", spec_.min, spec_.max);
    return fmt::format("{}-{} or a name {}", spec_.min, spec_.max, spec_.names_hint);
  }

  // One item of a list: `*`, `v`, `a-b`, `*/n` or `a-b/n`.
  Result<uint64_t> ParseItem(std::string_view item) const {
    const std::vector<std::string_view> parts = Split(item, '/');
    if (parts.size() > 2) return Error(fmt::format("'{}' has more than one '/'", item));
    const std::string_view range = parts[0];
    int low = 0;
    int high = 0;
    if (range == "*") {
      low = spec_.min;
      high = spec_.star_max;
    } else if (size_t dash = range.find('-'); dash != std::string_view::npos) {
      const std::string_view first = range.substr(0, dash);
      const std::string_view last = range.substr(dash + 1);
      if (first.empty() || last.empty()) {
        return Error(
            fmt::format("'{}' is not a range, expected a-b with a and b in {}", range, Expected()));
      }
      ARK_ASSIGN_OR_RETURN(low, ParseValue(first));
      ARK_ASSIGN_OR_RETURN(high, ParseValue(last));
      if (low > high) {
        return Error(
            fmt::format("range '{}' is backwards: the start must not exceed the end", range));
      }
    } else {
      ARK_ASSIGN_OR_RETURN(low, ParseValue(range));
      high = low;
      // Implementations disagree on what `5/10` means (nothing, or 5-max/10);
      // refusing it is kinder than guessing.
      if (parts.size() == 2) {
        return Error(fmt::format("step in '{}' needs a range: write '*/{}' or '{}-{}/{}'", item,
                                 parts[1], range, spec_.star_max, parts[1]));
      }
    }
    int step = 1;
    if (parts.size() == 2) {
      ARK_ASSIGN_OR_RETURN(step, ParseStep(item, parts[1]));
    }
    uint64_t bits = 0;
    for (int v = low; v <= high; v += step) {
      bits |= uint64_t{1} << (spec_.seven_is_sunday && v == 7 ? 0 : v);
    }
    return bits;
  }

  Result<int> ParseStep(std::string_view item, std::string_view text) const {
    const int span = spec_.star_max - spec_.min + 1;
    if (!AllDigits(text)) {
      return Error(
          fmt::format("step '{}' in '{}' is not a number, expected 1-{}", text, item, span));
    }
    if (text.size() > 3 || std::stoi(std::string(text)) > span) {
      return Error(fmt::format("step {} in '{}' is larger than the field's range {}-{}", text, item,
                               spec_.min, spec_.star_max));
    }
    const int step = std::stoi(std::string(text));
    if (step == 0) return Error(fmt::format("step 0 in '{}' must be at least 1", item));
    return step;
  }

  Result<int> ParseValue(std::string_view token) const {
    if (AllDigits(token)) {
      // More than 3 digits is out of range for every field; checking length
      // first keeps stoi away from overflow.
      const int value = token.size() > 3 ? 1000 : std::stoi(std::string(token));
      if (value < spec_.min || value > spec_.max) {
        return Error(fmt::format("{} is out of range {}-{}", token, spec_.min, spec_.max));
      }
      return value;
    }
    if (AllLetters(token) && !spec_.names.empty()) {
      const std::string upper = ToUpper(token);
      for (size_t i = 0; i < spec_.names.size(); ++i) {
        if (spec_.names[i] == upper) return spec_.min + static_cast<int>(i);
      }
      return Error(fmt::format("unknown name '{}', expected {}", token, Expected()));
    }
    return Error(fmt::format("'{}' is not a number, expected {}", token, Expected()));
  }

  std::string_view expr_;
  const FieldSpec& spec_;
};

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view expr) {
  std::vector<std::string_view> fields = SplitWhitespace(expr);
  CronSchedule schedule;
  if (!fields.empty() && fields[0].starts_with('@')) {
    if (fields.size() != 1) {
      return Status::InvalidArgument(
          fmt::format("cron '{}': a macro such as {} stands alone, got {} fields", expr, fields[0],
                      fields.size()));
    }
    const std::string name = ToLower(fields[0]);
    const Macro* macro = nullptr;
    for (const Macro& m : kMacros) {
      if (m.name == name) macro = &m;
    }
    if (macro == nullptr) {
      return Status::InvalidArgument(fmt::format(
          "cron '{}': unknown macro '{}', expected one of @hourly @daily @midnight @weekly "
          "@monthly @yearly @annually",
          expr, fields[0]));
    }
    ARK_ASSIGN_OR_RETURN(schedule, Parse(macro->expansion));
    schedule.text_ = name;
    return schedule;
  }
  if (fields.size() != 5) {
    return Status::InvalidArgument(fmt::format(
        "cron '{}': expected 5 fields (minute hour day-of-month month day-of-week) or a macro "
        "such as @daily, got {} fields",
        expr, fields.size()));
  }
  ARK_ASSIGN_OR_RETURN(schedule.minutes_, FieldParser(expr, kMinuteField).Parse(fields[0]));
  ARK_ASSIGN_OR_RETURN(uint64_t hours, FieldParser(expr, kHourField).Parse(fields[1]));
  ARK_ASSIGN_OR_RETURN(uint64_t doms, FieldParser(expr, kDayOfMonthField).Parse(fields[2]));
  ARK_ASSIGN_OR_RETURN(uint64_t months, FieldParser(expr, kMonthField).Parse(fields[3]));
  ARK_ASSIGN_OR_RETURN(uint64_t dows, FieldParser(expr, kDayOfWeekField).Parse(fields[4]));
  schedule.hours_ = static_cast<uint32_t>(hours);
  schedule.days_of_month_ = static_cast<uint32_t>(doms);
  schedule.months_ = static_cast<uint16_t>(months);
  schedule.days_of_week_ = static_cast<uint8_t>(dows);
  // Vixie cron decides OR versus AND by the field's first character, so
  // "*/2" counts as unrestricted too; matching it keeps crontabs portable.
  schedule.day_of_month_star_ = fields[2].starts_with('*');
  schedule.day_of_week_star_ = fields[4].starts_with('*');
  schedule.text_ =
      fmt::format("{} {} {} {} {}", fields[0], fields[1], fields[2], fields[3], fields[4]);
  // A schedule that never fires would silently mean "no backups". Searching
  // one 400-year calendar cycle makes the check exact; skipping whole months
  // and days bounds it to ~150,000 cheap steps (milliseconds).
  if (!schedule.NextAfter(0).has_value()) {
    return Status::InvalidArgument(
        fmt::format("cron '{}': never fires (no date matches day-of-month '{}', month '{}' and "
                    "day-of-week '{}')",
                    expr, fields[2], fields[3], fields[4]));
  }
  return schedule;
}

bool CronSchedule::DayMatches(unsigned day_of_month, unsigned day_of_week) const {
  const bool dom = (days_of_month_ >> day_of_month) & 1u;
  const bool dow = (days_of_week_ >> day_of_week) & 1u;
  if (day_of_month_star_ || day_of_week_star_) return dom && dow;
  return dom || dow;
}

std::optional<int64_t> CronSchedule::NextAfter(int64_t unix_seconds) const {
  if (unix_seconds >= kMaxSupportedSeconds) return std::nullopt;
  if (unix_seconds < kMinSupportedSeconds) unix_seconds = kMinSupportedSeconds - 1;
  // Fire times are whole minutes; start at the first one after the instant.
  const int64_t start = FloorDiv(unix_seconds, 60) * 60 + 60;
  int64_t day = FloorDiv(start, kSecondsPerDay);
  int hour = static_cast<int>((start - day * kSecondsPerDay) / 3600);
  int minute = static_cast<int>((start - day * kSecondsPerDay) % 3600 / 60);
  const int64_t last_day = day + kCalendarCycleDays + 31;
  while (day <= last_day) {
    const chrono::sys_days date{chrono::days{day}};
    const chrono::year_month_day ymd{date};
    if (!((months_ >> static_cast<unsigned>(ymd.month())) & 1u)) {
      // Skip the rest of the month in one step.
      const chrono::year_month next_month = ymd.year() / ymd.month() + chrono::months{1};
      day = chrono::sys_days{next_month / 1}.time_since_epoch().count();
      hour = minute = 0;
      continue;
    }
    if (DayMatches(static_cast<unsigned>(ymd.day()), chrono::weekday{date}.c_encoding())) {
      for (int h = NextBit(hours_, hour); h >= 0; h = NextBit(hours_, h + 1)) {
        const int m = NextBit(minutes_, h == hour ? minute : 0);
        if (m < 0) continue;
        const int64_t fire = day * kSecondsPerDay + h * 3600 + m * 60;
        if (fire > kMaxSupportedSeconds) return std::nullopt;
        return fire;
      }
    }
    ++day;
    hour = minute = 0;
  }
  return std::nullopt;
}

int CronSchedule::CountFiresBetween(int64_t from_exclusive, int64_t to_inclusive, int cap) const {
  int count = 0;
  int64_t t = from_exclusive;
  while (count < cap) {
    const std::optional<int64_t> next = NextAfter(t);
    if (!next.has_value() || *next > to_inclusive) break;
    ++count;
    t = *next;
  }
  return count;
}

std::optional<int64_t> CronSchedule::MaxGapSeconds(int64_t unix_seconds,
                                                   int64_t horizon_seconds) const {
  // A day that matches fires at every hour x minute pair, the same on every
  // such day: within a day the next fire time is the next of these offsets,
  // without a calendar search.
  std::vector<int64_t> offsets;  // seconds into the day, ascending
  for (int h = NextBit(hours_, 0); h >= 0; h = NextBit(hours_, h + 1)) {
    for (int m = NextBit(minutes_, 0); m >= 0; m = NextBit(minutes_, m + 1)) {
      offsets.push_back(int64_t{h} * 3600 + int64_t{m} * 60);
    }
  }
  std::optional<int64_t> fire = NextAfter(unix_seconds);
  if (!fire.has_value() || offsets.empty()) return std::nullopt;
  const int64_t end = unix_seconds + std::max<int64_t>(horizon_seconds, 0);
  auto index_in_day = [&offsets](int64_t t) {
    const int64_t offset = t - FloorDiv(t, kSecondsPerDay) * kSecondsPerDay;
    return static_cast<size_t>(std::lower_bound(offsets.begin(), offsets.end(), offset) -
                               offsets.begin());
  };
  size_t index = index_in_day(*fire);
  std::optional<int64_t> longest;
  int64_t t = *fire;
  while (!longest.has_value() || t <= end) {
    int64_t next = 0;
    if (index + 1 < offsets.size()) {
      next = t - offsets[index] + offsets[index + 1];
      ++index;
    } else {
      const std::optional<int64_t> after = NextAfter(t);
      if (!after.has_value()) break;
      next = *after;
      index = index_in_day(next);
    }
    longest = std::max(longest.value_or(0), next - t);
    t = next;
  }
  return longest;
}

std::string CronSchedule::ToString() const { return text_; }

}  // namespace ark::dr
