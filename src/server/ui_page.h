// The DR dashboard (`GET /ui`, docs/drills.md#dashboard): the DR status
// document (docs/formats/dr-status.md, version 1; what
// `POST /ark/v1/dr/status` answers) drawn as one self-contained HTML5 page
// for people — role, epoch and position with a health badge and the reasons
// for it, replication and its standbys, the WAL archive, the backup
// schedules, failover, the tiers per database, and the recent drills with
// the newest one's SVG timeline (dr/drill/report_html's, not a copy).
//
// Server-side rendered: inline CSS, no script, nothing loaded from anywhere;
// it refreshes itself with <meta http-equiv="refresh">. The only links are
// relative ones to each drill's report page (`ui/drills/<id>/report.html`,
// resolving to /ui/drills/... from a page served at /ui).
//
// Like the drill report page it trusts nothing in the document: every string
// from it is HTML-escaped, a drill id becomes a link only when it is a valid
// id (IsValidDrillId), and a missing or wrong-typed key shows as "—" or is
// left out, never thrown on. Pure and thread-safe; no clock is read (ages are
// measured from the document's `nowMicros`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ark::server {

struct DashboardOptions {
  // Added as the query of the page's own links ("token=..." when the page
  // was opened with ?token=, PageRequest::credential_query), so that they
  // authenticate too. Must already be URL-encoded; it is HTML-escaped here.
  std::string link_query;
  // <meta http-equiv="refresh"> every this many seconds; 0: none.
  int refresh_seconds = 10;
};

// The whole page. Never throws on any JSON value (not even a non-object).
std::string RenderDashboardHtml(const nlohmann::json& dr_status,
                                const DashboardOptions& options = {});

// Whether `id` may name a drill in a URL or a path: 1 to 128 characters of
// [0-9A-Za-z-] (ids are "<UTC stamp>-<scenario>"): no dot, no slash, so no
// path traversal.
bool IsValidDrillId(std::string_view id);

}  // namespace ark::server
