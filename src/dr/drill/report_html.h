// The people's view of a drill: report.json (docs/formats/drill-report.md,
// version 1) rendered as one self-contained HTML5 page — inline CSS, an
// inline SVG timeline, no JavaScript and no external resources, so it can be
// attached to a ticket or opened from a file share years later.
//
// The renderer trusts nothing in the document: every string from it is
// HTML-escaped (collection names and error messages are user-provided), and
// a key that is missing or of the wrong type is shown as "—" or left out,
// never thrown on. A failed drill's report may lack whole sections; the page
// shows what is there. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ark::dr {

// The whole page for one report. Never throws on any JSON value (not even a
// non-object); keys it does not know are ignored, as the format asks.
std::string RenderDrillReportHtml(const nlohmann::json& report);

// A span in milliseconds in the largest units that matter to a person:
// "850 ms", "4.2 s", "22 s", "12 min 5 s", "1 h 12 min", "2 d 3 h";
// negative spans keep their sign. nullopt (a `null` measurement) is "—".
// Shared so the Markdown report can say the same thing the same way.
std::string FormatDrillDuration(std::optional<double> ms);

// Microseconds since the Unix epoch as UTC ISO-8601:
// "2026-12-06T23:05:12Z", with ".mmm" only when the milliseconds are not 0.
std::string FormatDrillTimeUtc(int64_t micros);

}  // namespace ark::dr
