// `ark drill run site-loss` (docs/drills.md): the primary's whole site is
// lost — its process killed and, by the operator's command, its data
// directory destroyed — and the service is recovered on a fresh instance
// from the newest backup plus the WAL archive (point-in-time restore to the
// archive's end). The probe measures what a client sees: RTO until the new
// instance takes a write and answers a correct search, RPO as the
// acknowledged markers the archive had not yet received.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "dr/drill/drill_report.h"
#include "dr/drill/restore_check.h"
#include "dr/repository/repository.h"
#include "storage/env.h"

namespace ark::dr {

struct SiteLossOptions {
  std::vector<std::string> endpoints;  // the primary (and any other server a client would try)
  std::string kill_command;            // the disaster: kills the primary (and may destroy its data); $ARK_DRILL_PRIMARY
  RestoreCheckOptions restore;         // repository, work_dir (the fresh instance's), ark_binary, keep; to_latest is implied
  std::string token, admin_token;
  uint32_t warmup_markers = 50;
  uint32_t after_markers = 20;
  uint32_t interval_ms = 20;
  uint64_t timeout_ms = 600000;        // for the whole recovery
  // Fingerprint every collection (but the probe's) on the primary before the
  // probe starts, and compare the recovered instance with it (data_check.h).
  // Everything fingerprinted is archived before the disaster (the drill
  // waits for the probe collection's creation, which comes after it).
  bool verify_content = true;
};

// Runs the drill into `report`; OK only if it passed. The fresh instance is
// stopped at the end (its directory kept with restore.keep).
Status RunSiteLoss(Env* env, Repository* repo, const SiteLossOptions& options, DrillReport* report);

}  // namespace ark::dr
