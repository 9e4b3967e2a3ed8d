#include "dr/drill/html_text.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace ark::dr::html {
namespace {

using nlohmann::json;

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char second_low = 0x80, second_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;
    if (lead == 0xED) second_high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;
    if (lead == 0xF4) second_high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    const unsigned char low = k == 1 ? second_low : 0x80;
    const unsigned char high = k == 1 ? second_high : 0xBF;
    if (c < low || c > high) return 0;
  }
  return length;
}

// What one ASCII byte becomes in HTML text and quoted attribute values.
std::string_view EscapeAscii(const char& c) {
  constexpr std::pair<char, std::string_view> kEntities[] = {
      {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"}};
  for (const auto& [plain, entity] : kEntities) {
    if (c == plain) return entity;
  }
  const bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
  if (control && c != '\t' && c != '\n' && c != '\r') return "\uFFFD";
  return std::string_view(&c, 1);
}

}  // namespace

const json& Member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

const json& ArrayMember(const json& object, const char* key) {
  static const json kEmpty = json::array();
  const json& value = Member(object, key);
  return value.is_array() ? value : kEmpty;
}

std::string Text(const json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>();
  if (value.is_null() || value.is_discarded()) return "";
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}
std::string Text(const json& object, const char* key) { return Text(Member(object, key)); }

std::optional<double> Number(const json& value) {
  if (!value.is_number()) return std::nullopt;
  const double number = value.get<double>();
  if (!std::isfinite(number)) return std::nullopt;
  return number;
}
std::optional<double> Number(const json& object, const char* key) {
  return Number(Member(object, key));
}

std::optional<int64_t> Integer(const json& value) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (value.is_number_unsigned()) {
    const uint64_t number = value.get<uint64_t>();
    return number > static_cast<uint64_t>(kMax) ? kMax : static_cast<int64_t>(number);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  const std::optional<double> number = Number(value);
  if (!number) return std::nullopt;
  // Clamped first: llround of a double beyond int64 is unspecified.
  return std::llround(std::clamp(*number, -9.2e18, 9.2e18));
}
std::optional<int64_t> Integer(const json& object, const char* key) {
  return Integer(Member(object, key));
}

std::optional<bool> Bool(const json& object, const char* key) {
  const json& value = Member(object, key);
  if (!value.is_boolean()) return std::nullopt;
  return value.get<bool>();
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 1) {
      out += EscapeAscii(text[i]);
    } else if (length == 0) {
      out += "\uFFFD";
    } else {
      out.append(text, i, length);
    }
    i += std::max<size_t>(length, 1);
  }
  return out;
}

size_t CodePoints(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    i += std::max<size_t>(1, Utf8SequenceLength(text, i));
  }
  return count;
}

std::string Truncate(std::string_view text, size_t limit) {
  if (CodePoints(text) <= limit) return std::string(text);
  size_t i = 0;
  for (size_t kept = 0; kept + 1 < limit && i < text.size(); ++kept) {
    i += std::max<size_t>(1, Utf8SequenceLength(text, i));
  }
  return std::string(text.substr(0, i)) + "…";
}

std::string FormatCount(std::optional<int64_t> count) {
  if (!count) return std::string(kDash);
  const uint64_t magnitude =
      *count < 0 ? 0 - static_cast<uint64_t>(*count) : static_cast<uint64_t>(*count);
  std::string digits = std::to_string(magnitude);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) digits.insert(at, ",");
  return *count < 0 ? "-" + digits : digits;
}

}  // namespace ark::dr::html
