#include "wal/wal_format.h"

#include <cstdio>

namespace ark::wal_format {

std::string SegmentFileName(uint64_t epoch, uint64_t first_lsn) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%016llx-%020llu.wal", static_cast<unsigned long long>(epoch),
                static_cast<unsigned long long>(first_lsn));
  return buf;
}

std::optional<SegmentName> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentNameSize || name[16] != '-' ||
      name.substr(37) != kSegmentSuffix) {
    return std::nullopt;
  }
  SegmentName out;
  for (size_t i = 0; i < 16; ++i) {
    char c = name[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    out.epoch = (out.epoch << 4) | static_cast<uint64_t>(d);
  }
  for (size_t i = 17; i < 37; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (out.first_lsn > (UINT64_MAX - d) / 10) return std::nullopt;
    out.first_lsn = out.first_lsn * 10 + d;
  }
  return out;
}

}  // namespace ark::wal_format
