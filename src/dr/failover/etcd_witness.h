// EtcdWitness: the Witness (witness.h) kept in etcd v3, reached through
// etcd's JSON gateway over HTTP (POST /v3/kv/txn, /v3/lease/...; etcd >= 3.4).
// Expiry is judged by etcd's clock: the leader record is a key attached to an
// etcd lease, and it is live exactly while that key exists.
//
// Data model under `prefix` (values are JSON, the same fields in both keys):
//   PREFIX/leader  {"epoch","holder","ttl_ms","url"}  attached to an etcd lease
//                  of ceil(ttl_ms / 1000) s (etcd may raise it to its minimum,
//                  ~2 s by default): etcd keeps it AT LEAST ttl_ms, which is
//                  safe for the holder, who stops writing earlier by its own
//                  clock. Deleted by etcd when the lease expires or is revoked.
//   PREFIX/epoch   the same record without a lease (permanent): the last
//                  leader ever granted. Epochs stay monotonic and old epochs
//                  stay fenced after the leader key has expired or was
//                  released. Read() then answers exists=true, remaining_ms=0.
//
// Claim is one compare-and-set: it reads both keys in one snapshot (a txn of
// two ranges), decides by witness.h's rule, and writes with a kv/txn whose
// compares require both keys to be exactly as read (mod_revision, or
// create_revision == 0 when absent); a txn that loses a race is re-decided on
// a fresh snapshot. A renewal of a live record with the same url and ttl is a
// lease keepalive, confirmed by re-reading that the key is still the one read.
// Release deletes the leader key in a txn guarded by its mod_revision, then
// revokes its lease; the epoch key stays.
//
// remaining_ms of a live record comes from lease/timetolive: whole seconds
// rounded down, capped at the record's ttl_ms, and at least 1 while the key
// exists (etcd still refuses a takeover then).
//
// Thread-safety: every method may be called from any thread (each request
// uses its own HTTP connection). Errors: Unavailable when etcd cannot be
// reached or does not answer in time (naming the endpoint), TimedOut when the
// call's budget (timeout_ms) ran out between its requests, Corruption when a
// reply or a stored value is malformed (naming the field or key),
// InvalidArgument for a malformed claim. An error means the caller learned
// nothing: it is never a refusal. Nothing throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "dr/failover/witness.h"

namespace ark::dr {

struct EtcdWitnessOptions {
  // "http://HOST:PORT" ("etcd://HOST:PORT" means the same; "https://" uses
  // TLS verified against the system's CAs). Port defaults to 2379.
  std::string endpoint;
  // Keys live under PREFIX/ (trailing '/' ignored); several clusters can
  // share one etcd with different prefixes.
  std::string prefix = "/ark/cluster/default";
  // Bounds each Claim/Read/Release as a whole (all its requests together).
  uint32_t timeout_ms = 2000;
};

// Validates the options (names the bad one: InvalidArgument); does not
// contact etcd.
Result<std::unique_ptr<Witness>> OpenEtcdWitness(const EtcdWitnessOptions& options);

}  // namespace ark::dr
