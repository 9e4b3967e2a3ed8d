#include "cli/time_format.h"

#include <fmt/format.h>

#include <cctype>
#include <string>

namespace ark::cli {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<uint64_t> ParseTimeMicros(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(fmt::format(
        "'{}' is not a time: use RFC 3339 like 2026-12-05T10:30:00Z (or with .fraction and +hh:mm), or @UNIXSECONDS",
        text));
  };
  if (!text.empty() && text[0] == '@') {
    std::string s(text.substr(1));
    size_t dot = s.find('.');
    std::string whole = s.substr(0, dot), frac = dot == std::string::npos ? "" : s.substr(dot + 1);
    if (whole.empty() || whole.size() > 12 || whole.find_first_not_of("0123456789") != std::string::npos ||
        frac.size() > 6 || frac.find_first_not_of("0123456789") != std::string::npos) {
      return bad();
    }
    while (frac.size() < 6) frac += '0';
    return std::stoull(whole) * 1000000ull + std::stoull(frac);
  }
  int y, mo, d, h, mi, sec;
  if (!Digits(text, 0, 4, &y) || text.size() < 19 || text[4] != '-' || !Digits(text, 5, 2, &mo) || text[7] != '-' ||
      !Digits(text, 8, 2, &d) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !Digits(text, 11, 2, &h) ||
      text[13] != ':' || !Digits(text, 14, 2, &mi) || text[16] != ':' || !Digits(text, 17, 2, &sec)) {
    return bad();
  }
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return bad();
  size_t pos = 19;
  uint64_t frac_micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    uint64_t scale = 100000;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (pos - start < 6) frac_micros += static_cast<uint64_t>(text[pos] - '0') * scale, scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
  }
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    char c = text[pos];
    if ((c == 'Z' || c == 'z') && pos + 1 == text.size()) {
    } else if ((c == '+' || c == '-') && pos + 6 == text.size() && text[pos + 3] == ':') {
      int oh, om;
      if (!Digits(text, pos + 1, 2, &oh) || !Digits(text, pos + 4, 2, &om) || oh > 23 || om > 59) return bad();
      offset_seconds = (c == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else {
      return bad();
    }
  }
  // Days from the civil date (Howard Hinnant's algorithm).
  int yy = y - (mo <= 2 ? 1 : 0);
  int era = yy / 400;
  int yoe = yy - era * 400;
  int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_seconds;
  if (secs < 0) return bad();
  return static_cast<uint64_t>(secs) * 1000000ull + frac_micros;
}

}  // namespace ark::cli
