// Monitor: `ark monitor`'s failover loop (docs/failover.md, "Automatic
// failover").
//
// Every check interval it reads the leader record at the witness and probes
// the leader's /primary. After `failures` consecutive failed probes it
// confirms the failure the only way that is safe:
//   1. waits until the leader's lease has expired on the witness (the old
//      primary has stopped acknowledging writes by then, by its own clock);
//   2. asks every other node for its state and picks the standby with the
//      highest durable position in the leader's epoch (with sync replication,
//      only a standby the primary last reported as synchronous);
//   3. claims the lease at the witness for it in epoch + 1 (compare-and-set:
//      if the old primary renewed meanwhile, nothing happens);
//   4. promotes it (POST /ark/v1/failover/promote {epoch}) — it claims the
//      same lease itself before taking writes;
//   5. switches traffic: a DNS dynamic update (RFC 2136) and/or the operator
//      hook, and waits for the new primary's /primary to answer 200.
// Every step is an event with a wall-clock timestamp in the timeline
// (<data_dir>/timeline.jsonl and the status route): the RTO, step by step.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dr/failover/dns_update.h"
#include "dr/failover/http_json.h"
#include "dr/failover/witness.h"
#include "storage/env.h"

namespace ark::dr {

struct MonitorNode {
  std::string name;       // the server's failover.name
  std::string url;        // its API base URL (http://HOST:PORT)
  std::string dns_value;  // what DNS publishes when it leads (default: the URL's host)
};

struct MonitorConfig {
  std::string data_dir = "./ark-monitor";
  std::vector<MonitorNode> nodes;
  uint64_t check_interval_ms = 1000;
  uint32_t failures = 3;             // consecutive failed checks before failing over
  uint64_t check_timeout_ms = 1000;
  bool auto_failover = true;         // false: detect and report only
  std::string node_token;            // admin credential presented to the servers
  std::string node_ca_file;
  // Run after a promotion: HOOK failover NEW_NAME NEW_URL OLD_NAME OLD_URL EPOCH
  std::string hook;
  uint64_t hook_timeout_ms = 30000;
  std::optional<DnsUpdateConfig> dns;

  Status Validate() const;
};

class Monitor {
 public:
  // `witness` outlives the monitor (a LocalWitness it serves, or etcd).
  Monitor(Env* env, Witness* witness, MonitorConfig config);
  ~Monitor();

  Status Open();   // creates data_dir, opens the timeline
  // One check (what the loop does each interval); public for tests.
  void CheckOnce();
  void Start();
  void Stop();
  nlohmann::json StatusJson();
  // How long the loop waits before the next check: the check interval, or
  // less while a failed leader's lease is about to expire (the monitor acts
  // when the lease ends, not at the next check after it).
  uint64_t NextCheckDelayMs();
  // Every event since start (the timeline), oldest first.
  nlohmann::json Timeline();

 private:
  struct NodeState {
    std::string last_probe;      // "ok", or why not
    uint64_t last_probe_micros = 0;
  };
  void Event(const std::string& kind, nlohmann::json details);
  void FailOver(const LeaderRecord& leader);
  void SwitchTraffic(const MonitorNode& node, const LeaderRecord& old, uint64_t epoch);
  Status RunHook(const MonitorNode& node, const LeaderRecord& old, uint64_t epoch);
  const MonitorNode* FindNode(const std::string& name) const;
  HttpCallOptions CallOptions() const;

  Env* env_;
  Witness* witness_;
  MonitorConfig config_;

  std::mutex mu_;
  uint32_t consecutive_failures_ = 0;   // GUARDED_BY(mu_)
  std::string leader_name_;             // GUARDED_BY(mu_): whom the failures are about
  uint64_t leader_epoch_ = 0;           // GUARDED_BY(mu_)
  std::string phase_ = "starting";      // GUARDED_BY(mu_)
  nlohmann::json last_primary_status_;  // GUARDED_BY(mu_): the leader's replication status when healthy
  // Standbys the leader (this holder and epoch) has reported connected in
  // any status while healthy: sync mode promotes only one of these. Sticky,
  // because the last status may predate a standby's connection (a status
  // call that timed out under load left an old one).
  std::set<std::string> seen_connected_;  // GUARDED_BY(mu_)
  nlohmann::json timeline_ = nlohmann::json::array();  // GUARDED_BY(mu_)
  nlohmann::json last_failover_;        // GUARDED_BY(mu_)
  uint64_t failovers_ = 0;              // GUARDED_BY(mu_)
  uint64_t incident_start_micros_ = 0;  // GUARDED_BY(mu_): first failed check of this incident
  uint64_t next_check_ms_ = 0;          // GUARDED_BY(mu_): 0 = the check interval
  // Repeated outcomes of a failover that cannot proceed (no candidate, the
  // claim refused) are logged once per incident, again only when they
  // change or every kRepeatEventMs: the timeline stays readable.
  bool lease_expired_logged_ = false;   // GUARDED_BY(mu_)
  std::string last_repeat_event_;       // GUARDED_BY(mu_): kind + details of the last one
  uint64_t last_repeat_event_micros_ = 0;  // GUARDED_BY(mu_)
  // Logs `kind` unless it repeats the last repeated event within kRepeatEventMs.
  void RepeatableEvent(const std::string& kind, nlohmann::json details);
  void ResetIncidentLocked();
  std::unique_ptr<WritableFile> timeline_file_;  // GUARDED_BY(mu_)

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // GUARDED_BY(thread_mu_)
  std::thread thread_;
};

}  // namespace ark::dr
