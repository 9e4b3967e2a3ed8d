// Showing an untrusted JSON document as HTML text: the drill report page
// (report_html) and the dashboard (server/ui_page) render documents that may
// come from a failed drill, an older or newer writer, or a hand edit.
//
// The readers tolerate a missing key or a value of another type and never
// throw (nlohmann's value()/at()/operator[] would throw or assert instead):
// a page shows "—" for what it cannot read. Escape() makes any byte string
// inert in HTML text and in quoted attribute values. All functions are pure
// and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace ark::dr::html {

// What a page shows for a value it does not have.
inline constexpr std::string_view kDash = "—";

// object[key], or null when `object` is not an object or has no such key.
const nlohmann::json& Member(const nlohmann::json& object, const char* key);
// object[key] when it is an array, else an empty array.
const nlohmann::json& ArrayMember(const nlohmann::json& object, const char* key);

// A string as itself; another non-null value as its JSON text (a wrong type
// is still worth showing); null or missing as "".
std::string Text(const nlohmann::json& value);
std::string Text(const nlohmann::json& object, const char* key);

// A finite number, else nullopt.
std::optional<double> Number(const nlohmann::json& value);
std::optional<double> Number(const nlohmann::json& object, const char* key);

// A number as int64 (unsigned values beyond int64 clamp, doubles round),
// else nullopt.
std::optional<int64_t> Integer(const nlohmann::json& value);
std::optional<int64_t> Integer(const nlohmann::json& object, const char* key);

// A boolean, else nullopt (no truthiness: "yes" and 1 are not booleans).
std::optional<bool> Bool(const nlohmann::json& object, const char* key);

// Escaped for HTML text and quoted attribute values alike (& < > " '). Invalid
// UTF-8 and control characters other than tab and newlines become U+FFFD, so
// no string can break the page.
std::string Escape(std::string_view text);

// Code points, counting each invalid byte as one (as Escape shows it).
size_t CodePoints(std::string_view text);

// At most `limit` code points, the last one "…" when something was cut.
std::string Truncate(std::string_view text, size_t limit);

// 1234567 as "1,234,567"; nullopt as "—".
std::string FormatCount(std::optional<int64_t> count);

}  // namespace ark::dr::html
