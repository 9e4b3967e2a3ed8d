// FailoverConfig: `failover:` in `ark serve`'s YAML (docs/failover.md).
// With a witness configured, a primary holds the leader lease there and
// refuses writes without it; a standby claims it when promoted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "dr/failover/witness.h"

namespace ark::dr {

struct FailoverConfig {
  // "http://HOST:PORT" of `ark monitor`, or "etcd://HOST:PORT" (also
  // "etcd+http://", "etcd+https://"); empty: no witness (no lease, no fence).
  std::string witness;
  std::string name;            // this server's name in the cluster (the lease holder)
  std::string advertise_url;   // where clients reach it; default http://HOST:PORT of listen
  std::string witness_token;   // bearer credential for the monitor
  std::string witness_token_file;
  std::string witness_ca_file; // https monitor: PEM bundle
  std::string etcd_prefix = "/ark/cluster/default";
  uint64_t lease_ttl_ms = 5000;
  uint64_t renew_interval_ms = 0;  // 0: ttl / 5
  uint64_t margin_ms = 0;          // 0: ttl / 5
  uint32_t witness_timeout_ms = 0; // 0: the renew interval (a renewal never outlasts it)
  // A fenced former primary: "manual" (stays fenced until `ark failover
  // rejoin`) or "auto" (rejoins the new leader as its standby at once: the
  // report of discarded records is written, the old directory kept whole).
  std::string rejoin = "manual";

  bool enabled() const { return !witness.empty(); }
  Status Validate() const;
};

// The witness the config names (monitor or etcd), with its credential read.
Result<std::unique_ptr<Witness>> OpenWitness(const FailoverConfig& config);
// The credential for an `ark monitor` witness: witness_token, or the first
// line of witness_token_file.
Result<std::string> WitnessToken(const FailoverConfig& config);

}  // namespace ark::dr
