// Witness: the consistent store that says who leads a cluster, in which
// epoch, and until when. The primary holds a leader lease in it and stops
// taking writes before the lease could have expired (LeaseKeeper); failover
// (ark monitor) promotes a standby only after the lease has expired on the
// witness's clock, and records the new leader and epoch here first, so the
// old primary's next renewal is refused: it is fenced.
//
// Two implementations behind this interface:
//   * MonitorWitness: the lease table kept by `ark monitor` (one small process,
//     ideally at a third site), reached over HTTP; inside the monitor the same
//     table is a LocalWitness (durable in the monitor's directory).
//   * EtcdWitness: etcd v3 through its JSON gateway (etcd leases: the TTL is
//     judged by etcd's clock).
//
// The one rule every implementation enforces atomically (compare-and-set):
//
//   Claim(holder, epoch, ttl) is granted iff
//     (a) there is no record, or
//     (b) the record's holder and epoch are the caller's (renewal; also after
//         the record expired, as long as nobody took it meanwhile), or
//     (c) the record has expired (on the witness's clock) and epoch > the
//         record's epoch (a promotion: a new leader in a new epoch).
//   A claim with epoch < the record's epoch is refused forever: the caller
//   leads an old history (fenced). Otherwise refused while the record is live.
//
// On a grant the record becomes {holder, url, epoch, expires = now + ttl}
// (now on the witness's clock). Every answer carries the record as the witness
// sees it, including how long it has left, so the caller can name the holder.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace ark::dr {

struct LeaderClaim {
  std::string holder;     // the server's name (unique in the cluster)
  std::string url;        // where clients and standbys reach it
  uint64_t epoch = 0;     // the epoch it leads (its database's current epoch)
  uint64_t ttl_ms = 0;    // lease length, > 0
};

struct LeaderRecord {
  bool exists = false;    // false: nobody has ever led (a released record stays, expired)
  std::string holder;
  std::string url;
  uint64_t epoch = 0;
  uint64_t ttl_ms = 0;
  // Time left on the witness's clock when it answered; 0 = expired.
  uint64_t remaining_ms = 0;
  bool live() const { return exists && remaining_ms > 0; }
};

struct ClaimAnswer {
  bool granted = false;
  // Set when refused: the claim's epoch is below the record's (permanent).
  bool superseded = false;
  LeaderRecord record;    // after the claim (granted: the caller's record)
};

// Checks a claim's fields (names the bad one): holder 1-128 of [A-Za-z0-9._-],
// epoch >= 1, ttl 1 ms..24 h.
Status ValidateLeaderClaim(const LeaderClaim& claim);

// "b (http://10.0.0.2:19530) leads epoch 3, 1200 ms left" — for messages.
std::string LeaderRecordDescription(const LeaderRecord& r);

class Witness {
 public:
  virtual ~Witness() = default;
  // The compare-and-set above. An error Status means the witness could not
  // be asked (unreachable, malformed answer): the caller knows nothing new.
  virtual Result<ClaimAnswer> Claim(const LeaderClaim& claim) = 0;
  // The current record, without changing it.
  virtual Result<LeaderRecord> Read() = 0;
  // Gives the lease up (planned switchover, clean shutdown) if the record is
  // still holder's in epoch: it expires at once. OK if it is not (no-op).
  virtual Status Release(const std::string& holder, uint64_t epoch) = 0;
  // Names the witness in messages: "monitor http://10.0.0.9:19600".
  virtual std::string Describe() const = 0;
};

}  // namespace ark::dr
