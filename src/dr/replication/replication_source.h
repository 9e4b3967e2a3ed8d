// ReplicationSource: the primary's side of replication
// (docs/formats/replication-stream.md, docs/replication.md).
//
// It answers a standby's bootstrap (a pinned consistent cut and a durable
// slot at its checkpoint), serves its WAL stream (a tail reader bound to the
// slot, framed records shipped unchanged once durable), takes its feedback
// (the slot advances to what the standby has durably), reports status and
// lag, and in sync mode gates every write's acknowledgement on a standby's
// durable feedback (Database::SetCommitGate).
//
// Transport-free: the HTTP routes (server/admin_replication.cc) call it and
// give a stream session a `write` callback. Works on a follower too (a
// standby feeding another: cascading), since it only reads the WAL.
//
// Thread-safety: every method may be called from any thread; Stop() ends
// every session and wakes every waiting write.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "core/position.h"
#include "core/status.h"
#include "dr/replication/replication_config.h"
#include "engine/database.h"
#include "engine/dr_seam.h"
#include "storage/env.h"

namespace ark::dr {

// Why a stream was refused, and what the standby must do about it.
struct StreamRefusal {
  int http_status = 400;
  std::string action;  // "bootstrap" | "rebootstrap" | "retry" | ""
  Status status;
};

class ReplicationSource;

// One standby's stream. Run() writes messages until the write fails (the
// standby went away), the stream is superseded by a newer one for the same
// name, the source stops, or the WAL fails; then it returns.
class StreamSession {
 public:
  ~StreamSession();
  void Run(const std::function<bool(std::string_view)>& write);

 private:
  friend class ReplicationSource;
  StreamSession() = default;
  ReplicationSource* source_ = nullptr;
  std::string name_;
  uint64_t generation_ = 0;
  std::unique_ptr<WalTailReader> reader_;
};

class ReplicationSource {
 public:
  ReplicationSource(Env* env, Database* db, ReplicationConfig config);
  ~ReplicationSource();
  ReplicationSource(const ReplicationSource&) = delete;
  ReplicationSource& operator=(const ReplicationSource&) = delete;

  // Installs the commit gate when mode is sync.
  void Start();
  void Stop();

  Result<nlohmann::json> Bootstrap(const std::string& name);
  Status FinishBootstrap(const std::string& name);
  // nullptr and *refusal filled when the stream is refused.
  std::unique_ptr<StreamSession> OpenStream(const std::string& name, Position after,
                                            const std::vector<EpochStart>& standby_epochs,
                                            StreamRefusal* refusal);
  Result<nlohmann::json> Feedback(const std::string& name, Position written, Position durable,
                                  Position applied);
  // Positions, lag, slots, sync state (the status route, `ark replication status`).
  nlohmann::json GetStatus() const;
  void AddMetrics(MetricsRegistry* metrics);
  // Sync mode: returns once a standby has `pos` durably (or per the policy).
  Status CommitGate(Position pos);

  const ReplicationConfig& config() const { return config_; }

 private:
  friend class StreamSession;
  struct Sent {
    uint64_t lsn;              // last record of a RECORDS message
    uint64_t first_micros;     // timestamp of its first record
    uint64_t cumulative_bytes; // bytes sent up to and including it
  };
  struct StandbyState {
    uint64_t generation = 0;   // of the connected session; 0 = none
    bool connected = false;
    std::string peer;
    uint64_t connected_micros = 0;
    Position sent, written, durable, applied;
    uint64_t sent_bytes = 0, acked_bytes = 0;
    uint64_t feedback_micros = 0;
    std::deque<Sent> in_flight;  // sent, not yet durable on the standby
  };
  bool Write(StreamSession* s, const std::function<bool(std::string_view)>& write, int type,
             std::string_view payload);
  bool SessionCurrent(const StreamSession* s) const;
  void EndSession(const StreamSession* s);
  nlohmann::json PositionsJson() const;
  double LagSecondsLocked(const StandbyState& st, uint64_t now_micros) const;

  Env* const env_;
  Database* const db_;
  DrSeam seam_;
  const ReplicationConfig config_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // feedback arrived, a session ended, stop
  std::map<std::string, StandbyState> standbys_;
  uint64_t next_generation_ = 1;
  bool stopping_ = false;
  bool degraded_ = false;          // sync mode fell back to async
  uint64_t degraded_since_ = 0;
  uint64_t sync_waits_ = 0, sync_timeouts_ = 0;
};

// Base64 (RFC 4648, with padding) for the bootstrap's manifest bytes.
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace ark::dr
