// `ark drill run restore-check` (docs/drills.md): the non-disruptive drill.
// Restores the newest backup (or, with to_latest, the end of the WAL archive)
// into a scratch directory, starts a real `ark serve` on it, verifies every
// collection (rows against what the backup recorded; sample searches: a
// stored row's own vector must find it), measures RTO (drill start → every
// collection answering a correct search) and RPO (the disaster is taken to be
// the drill's start: it loses what came after the last recovered record),
// judges them against each database's tier (dr/drill/tiers.h), and tears the
// scratch instance down. Touches nothing but the scratch directory: safe to
// schedule weekly in production.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "dr/drill/drill_report.h"
#include "dr/repository/repository.h"
#include "storage/env.h"

namespace ark::dr {

struct RestoreCheckOptions {
  std::string repo_description;  // for the report (the repository's URL)
  std::string backup;            // "" = the newest
  bool to_latest = false;        // point-in-time restore to the end of the archive
  std::string work_dir;          // scratch: must not exist or be empty; removed afterwards unless keep
  bool keep = false;
  std::string ark_binary;        // for the scratch `ark serve`
  int samples = 5;               // sample searches per collection
  int parallelism = 4;
  uint64_t ready_timeout_ms = 30 * 60 * 1000;
};

// The restore steps, shared with site-loss. What a recovery restored: each
// collection with the rows the source recorded (the backup's count, or the
// replayed database's for a point in time), and the time of the last
// record recovered.
struct RecoveredCollection {
  std::string database, name;
  uint64_t rows = 0;
  // The content checksum the backup recorded for exactly the state restored
  // (docs/formats/content-checksum.md); "" when there is none to compare:
  // an older backup, or archived records replayed after it.
  std::string checksum;
};
struct Recovery {
  std::vector<RecoveredCollection> expected;
  uint64_t recovered_until_micros = 0;
};
// Picks the backup (options.backup or the newest), restores it (to the end
// of the archive with options.to_latest) into data_dir; events, source and
// restoreMs go into the report.
Result<Recovery> RecoverInto(Env* env, Repository* repo, const RestoreCheckOptions& options,
                             const std::string& data_dir, DrillReport* report);
// Starts `ark serve` on data_dir (log in options.work_dir) and waits until ready.
class ScratchServer;
Status StartScratchServer(const RestoreCheckOptions& options, const std::string& data_dir, ScratchServer* server,
                          DrillReport* report);

// Runs the drill, recording everything in `report`. A failed step is recorded
// (report->Fail) and ends the drill; the scratch instance is torn down either
// way. The returned status is the drill's outcome: OK only if it passed.
Status RunRestoreCheck(Env* env, Repository* repo, const RestoreCheckOptions& options, DrillReport* report);

}  // namespace ark::dr
