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
