// Failback: a former primary rejoins as a standby of the new one
// (docs/failover.md, "Failback").
//
// A primary that lost a failover may hold records the new primary never got:
// written after the fork (the first position of the new primary's epoch) —
// acknowledged in async mode before the lease lapsed, or durable but never
// acknowledged. They are on a history that ended. Rejoining:
//   1. asks the new primary for its epoch history and finds the fork: the
//      first epoch start the two histories do not share;
//   2. lists every record of this directory at or past the fork (position,
//      time, operation, collection, primary keys): the report, which is the
//      measured RPO of an async failover;
//   3. moves the directory aside whole (nothing is deleted) and makes a new,
//      empty standby directory in its place holding hard links to the old
//      content-addressed files, so the bootstrap that follows fetches only
//      the files the new primary has that this server lacks (a rewind by
//      hash), then writes the report beside both.
// The server is then started as a standby of the new primary (ark serve
// --standby-of), by hand or by `failover.rejoin: auto`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "dr/failover/http_json.h"
#include "storage/env.h"

namespace ark::dr {

struct RejoinOptions {
  std::string data_dir;     // the former primary's (stopped: its lock is taken)
  std::string primary_url;  // the new primary
  HttpCallOptions http;     // admin credential for the new primary's status
  bool dry_run = false;     // report only; change nothing
};

// The report (also written to <data_dir>/FAILBACK-<stamp>.json and into the
// directory set aside): fork, discarded records, files kept, paths.
Result<nlohmann::json> RejoinAsStandby(Env* env, const RejoinOptions& options);

}  // namespace ark::dr
