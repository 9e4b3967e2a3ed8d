#include "expr/expr_error.h"

namespace ark::expr {
namespace {

constexpr size_t kMaxQuoted = 160;  // bytes of the filter quoted in messages
constexpr size_t kMaxTokenQuoted = 40;

std::string Printable(std::string_view s, size_t limit) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  size_t i = 0;
  while (i < s.size() && i < limit) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Valid UTF-8 is shown as is; stray bytes as \xNN.
      size_t valid = ValidUtf8Prefix(s.substr(i, 4));
      size_t len = 1;
      while (len < 4 && i + len < s.size() &&
             (static_cast<unsigned char>(s[i + len]) & 0xc0) == 0x80) {
        ++len;
      }
      if (valid >= len) {
        out.append(s.substr(i, len));
        i += len;
        continue;
      }
    }
    if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  if (s.size() > limit) out += "...";
  return out;
}

}  // namespace

Status FilterError(std::string_view filter, size_t offset, std::string_view token,
                   std::string_view what) {
  std::string m = "filter \"";
  m += Printable(filter, kMaxQuoted);
  m += "\": at offset ";
  m += std::to_string(offset);
  if (token.empty()) {
    m += " (end of input)";
  } else {
    m += " ('";
    m += Printable(token, kMaxTokenQuoted);
    m += "')";
  }
  m += ": ";
  m += what;
  return Status::InvalidArgument(std::move(m));
}

size_t ValidUtf8Prefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t min;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, min = 0x10000;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    uint32_t cp = c & (0x7f >> len);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return i;
}

}  // namespace ark::expr
