// Times as the CLI prints them.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace ark::cli {

// "2026-11-26T02:00:00Z" for UTC µs since the epoch; "-" for 0 (unknown).
inline std::string IsoTime(uint64_t micros) {
  if (micros == 0) return "-";
  time_t secs = static_cast<time_t>(micros / 1'000'000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace ark::cli

#include <string_view>

#include "core/status.h"

namespace ark::cli {

// Parses a point in time as users type it: RFC 3339 / ISO 8601
// ("2026-12-05T10:30:00Z", "2026-12-05T10:30:00.250+01:00", "2026-12-05 10:30:00"
// = UTC) or "@<unix seconds>[.fraction]". InvalidArgument naming the text.
Result<uint64_t> ParseTimeMicros(std::string_view text);

}  // namespace ark::cli
