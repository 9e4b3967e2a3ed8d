// The disruptive drills on a replicated cluster (docs/drills.md):
//   primary-crash — the primary is killed (an operator-given command, e.g.
//                   `kill -9`, `systemctl kill -s KILL`, `kubectl delete pod
//                   --grace-period=0`); automatic failover must recover;
//   network-partition — the primary is cut from the witness (and the
//                   monitor) but not from clients by an operator-given fault
//                   command; it must stop acknowledging writes before the
//                   standby is promoted (no write acknowledged on two
//                   histories), and after the heal command it stays fenced;
//   switchover    — a planned switchover to a standby (`ark failover
//                   switchover`); nothing may be lost.
// A probe (probe.h) writes markers and searches for them throughout; the
// figures come from it and, when a monitor is given, from the monitor's
// own timeline (detection, promotion, traffic switch).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "dr/drill/drill_report.h"
#include "storage/env.h"

namespace ark::dr {

struct FailoverDrillOptions {
  std::string scenario;                // primary-crash | network-partition | switchover
  std::vector<std::string> endpoints;  // every server of the cluster (base URLs)
  std::string monitor;                 // `ark monitor` URL ("" = none: no detection/promotion figures)
  // primary-crash: kills the primary; network-partition: cuts it from the
  // witness. Run by /bin/sh -c, with $ARK_DRILL_PRIMARY = the primary's URL.
  std::string kill_command;
  std::string heal_command;            // network-partition: undoes the cut (required)
  std::string to;                      // switchover: the standby to promote ("" = the first other endpoint)
  std::string ark_binary;              // switchover runs `ark failover switchover`
  std::string token;                   // Milvus API credential
  std::string admin_token;             // admin credential (replication status, switchover)
  uint32_t warmup_markers = 50;        // acknowledged before the disaster
  uint32_t after_markers = 20;         // acknowledged after the recovery, before the end
  bool quiesce = false;                // pause writes and wait for every standby before the disaster
  uint64_t timeout_ms = 120000;        // for the recovery
  uint32_t interval_ms = 20;           // probe write interval
  bool keep_probe = false;             // keep the probe collection afterwards
  // Checksum every collection (but the probe's) and run sample searches on
  // the primary before the disaster, and compare on the new primary after
  // (data_check.h). Off when other clients write during the drill.
  bool verify_content = true;
};

// Runs the drill into `report`; OK only if it passed.
Status RunFailoverDrill(Env* env, const FailoverDrillOptions& options, DrillReport* report);

}  // namespace ark::dr
