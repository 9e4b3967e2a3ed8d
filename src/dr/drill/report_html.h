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
#include <string_view>

namespace ark::dr {

// The whole page for one report. Never throws on any JSON value (not even a
// non-object); keys it does not know are ignored, as the format asks.
std::string RenderDrillReportHtml(const nlohmann::json& report);

// The report's timeline as the page draws it, for other pages to embed (the
// dashboard shows the newest drill's): an inline <svg class="timeline"> with
// one marker per event of `timeline`, coloured by phase, and the RTO band of
// `measured.rtoMs`, followed by its legend (<ul class="legend">). Reads
// `timeline`, `startedMicros` and `measured` only, so a summary holding those
// will do. "" when there is nothing to draw (no events and no RTO). Every
// string is escaped; never throws. Styled by DrillPageCss().
std::string RenderDrillTimelineSvg(const nlohmann::json& report);

// The report page's style sheet (figure cards, pills, tables, the timeline
// and its legend): a page embedding RenderDrillTimelineSvg includes it in
// its <style>, and looks like the report. No url(), no @import.
std::string_view DrillPageCss();

// The CSS class of a verdict's pill ("pass", "fail", "none" for no-target,
// "unmeasured" for not-measured, "other" for anything else): always one of
// these fixed words, never report text.
std::string_view DrillVerdictClass(std::string_view verdict);

// A span in milliseconds in the largest units that matter to a person:
// "850 ms", "4.2 s", "22 s", "12 min 5 s", "1 h 12 min", "2 d 3 h";
// negative spans keep their sign. nullopt (a `null` measurement) is "—".
// Shared so the Markdown report can say the same thing the same way.
std::string FormatDrillDuration(std::optional<double> ms);

// A tier's cell ("critical · < 1 h", "general · ≤ 24 h", "≤ 5 min"), HTML
// escaped, from DrTargets::ToJson(); "—" without tier or target. The
// critical and very-low tiers are met only under their target
// (docs/formats/dr-tiers.md): "<"; the others and custom targets "≤".
std::string TargetCellHtml(const nlohmann::json& targets, const char* tier_key, const char* target_key);

// Microseconds since the Unix epoch as UTC ISO-8601:
// "2026-12-06T23:05:12Z", with ".mmm" only when the milliseconds are not 0.
std::string FormatDrillTimeUtc(int64_t micros);

}  // namespace ark::dr
