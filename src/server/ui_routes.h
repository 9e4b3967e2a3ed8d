// The dashboard's routes (docs/drills.md#dashboard, docs/server.md):
//
//   GET /ui                             the DR dashboard (server/ui_page.h),
//                                       drawn from a fresh DR status document
//                                       on every request
//   GET /ui/drills/<id>/report.html     that drill's report page, as the
//                                       drill wrote it (report.html), or drawn
//                                       from its report.json when the page is
//                                       missing
//
// Both are HttpServer pages: the admin credential when authentication is
// configured, as `Authorization: Bearer` or `?token=` (carried on to the
// dashboard's links); inline styles only, no script. A drill id is
// [0-9A-Za-z-]{1,128} (ui_page.h IsValidDrillId): anything else — a dot, a
// slash, an encoded one — and any other path under /ui/drills/ answer 404
// without touching the disk.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "server/http_server.h"
#include "storage/env.h"

namespace ark::server {

// `status` returns the DR status document (docs/formats/dr-status.md; what
// server::DrStatusJson builds); it is called on a worker thread for each
// request to /ui and must be thread-safe. `drill_report_dir` holds one
// directory per drill (<dir>/<id>/report.{html,json}), read through `env`
// (which must outlive `http`). When the newest drill in the document carries
// no `timeline`, /ui reads it from that drill's report.json to draw it.
void RegisterUiRoutes(HttpServer& http, std::function<nlohmann::json()> status,
                      std::string drill_report_dir, Env* env = Env::Default());

}  // namespace ark::server
