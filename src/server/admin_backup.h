// The backup admin API under /ark/v1/ (docs/server.md, docs/backup.md):
//
//   backups/create    {"repo", "name"?, "collections"?, "parallel"?, "keyFile"?, "passphraseFile"?}
//                     -> {"jobId"}: the backup runs as a job while the server keeps serving
//   backups/verify    {"repo", "name", "quick"?}             -> {"jobId"}
//   restores/create   {"repo", "name", "targetDir", "collections"?, "rename"?, "suffix"?}
//                     -> {"jobId"}: restores into a new data directory on the server's host
//   backups/list      {"repo"}                               -> [backup manifest, ...]
//   backups/describe  {"repo", "name"}                       -> backup manifest
//   backups/delete    {"repo", "name"}                       -> {}
//   backups/prune     {"repo", "keepLast"?, "keepDays"?, "keepDaily"?, "keepWeekly"?,
//                      "keepMonthly"?, "dryRun"?, "graceSeconds"?} -> prune report
//   jobs/list {} | jobs/get {"jobId"} | jobs/cancel {"jobId"}
//
// Every route requires the admin credential when one is configured
// (HttpServer). Keys are named by file path on the server's host; a
// passphrase is never accepted in a request body (it would sit in client
// histories and proxies).
#pragma once

#include "dr/jobs/job_manager.h"
#include "engine/database.h"
#include "server/http_server.h"
#include "storage/env.h"

namespace ark::server {

// Repositories are opened with `env` (their local files and clock) and
// restores write through it; jobs run in `jobs`. All must outlive `http`.
void RegisterBackupRoutes(HttpServer& http, Env* env, Database* db, dr::JobManager* jobs);

}  // namespace ark::server
