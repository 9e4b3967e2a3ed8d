// ReplicationConfig: `replication:` in the server's YAML file (and the
// `--standby-of` / `--standby-name` flags). docs/replication.md.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace ark::dr {

struct ReplicationConfig {
  // ---- standby side ----
  std::string primary;          // URL of the primary; non-empty = this server is a standby
  std::string name = "standby"; // its slot name on the primary
  std::string token;            // the replication credential it presents
  std::string token_file;       // or a file holding it
  std::string ca_file;          // PEM CA bundle to verify an https primary (default: the system's)
  // The primary's WAL archive (a repository URL, as archive.repo): read when
  // the standby is behind the primary's retained WAL, instead of needing a
  // re-bootstrap. Optional key for an encrypted repository.
  std::string archive_repo;
  std::string archive_key_file;
  std::string archive_passphrase_file;
  // ---- primary side ----
  std::string mode = "async";           // async | sync | periodic
  uint64_t sync_timeout_ms = 5000;      // sync: wait this long for a standby's ack...
  std::string sync_policy = "degrade";  // ...then "degrade" to async, or "block" (keep waiting)
  double period_seconds = 60;           // periodic: ship every N seconds
  uint64_t max_slot_bytes = 4ull << 30; // WAL a standby's slot may hold (0 = unbounded)
  double bootstrap_pin_seconds = 3600;  // a bootstrap's files stay this long at most

  bool is_standby() const { return !primary.empty(); }
  Status Validate() const;
};

// 1-59 characters of A-Z a-z 0-9 . _ - (its slot is "repl." + name).
Status ValidateStandbyName(const std::string& name);

}  // namespace ark::dr
