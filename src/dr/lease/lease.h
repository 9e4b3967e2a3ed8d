// Lease: a time-bounded claim, "a <kind> by <owner> runs until <expiry>",
// written to a shared LeaseTable so that other processes (other machines)
// can see it and hold off. The backup repository's locks/ (a backup holds
// off a prune, a prune holds off a backup) is one use; the primary's lease
// that failover waits out is meant to be another.
//
// What it promises:
//   * Acquire writes the holder's record first, then lists the table, and
//     fails with Unavailable (naming the holder and how long it has left) if
//     another owner holds an unexpired lease of a conflicting kind; it then
//     removes its own record. With a table that has read-after-write
//     consistency, of two holders that race, at least one sees the other and
//     backs off (both may: retry later).
//   * A lease is live until expires_micros on the wall clock of the injected
//     Env, compared by whoever reads it. Nothing is judged by a clock other
//     than that Env's, so a test moves time with a FakeClockEnv.
//   * Renew() moves the expiry to now + ttl. A holder whose own lease has
//     already expired by its clock (it was paused, or stalled past its ttl)
//     re-checks for conflicts as Acquire does before renewing: if another
//     conflicting holder has taken over meanwhile, Renew fails with
//     Unavailable and the caller must stop — it no longer holds the lease.
//     MaybeRenew() renews only once a third of the ttl has passed, so it is
//     cheap to call after every unit of work.
//   * Release() (and the destructor) deletes the record; a lease that is
//     never released (a crash) stops counting at its expiry.
//
// Clock skew: expiries are wall-clock instants, written by one machine and
// judged by another. If a reader's clock runs S ahead of the holder's, it
// sees the lease expire S early. Choose ttl >> the skew you tolerate (the
// repository uses an hour), and renew at a third of the ttl. A wall-clock step
// on the holder is harmless up to the remaining two thirds of the ttl. A
// lease is a courtesy between cooperating processes, not a fence: work that
// must never overlap also needs a fencing token checked by the resource.
//
// Thread-safety: a Lease may be renewed and read from several threads at
// once; Release and the destructor must not race with a Renew. LeaseTable
// implementations must be thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/env.h"

namespace ark::dr {

// One lease as stored.
struct LeaseRecord {
  std::string owner;            // unique per holder (random hex)
  std::string kind;             // e.g. "backup" | "prune"
  std::string description;      // e.g. the backup name, for messages
  uint64_t expires_micros = 0;  // wall clock, UTC µs
};

// Where leases are kept (a prefix of a backup repository; later a witness).
class LeaseTable {
 public:
  virtual ~LeaseTable() = default;
  // Writes (or overwrites: renewal) the record of lease.owner.
  virtual Status PutLease(const LeaseRecord& lease) = 0;
  // Removes owner's record; OK if it is absent.
  virtual Status DeleteLease(const std::string& owner) = 0;
  // Every record, expired ones included.
  virtual Result<std::vector<LeaseRecord>> ListLeases() = 0;
  // Names the table in messages ("local:/backups/ark").
  virtual std::string Describe() const = 0;
};

struct LeaseOptions {
  std::string kind;                      // this lease's kind
  std::vector<std::string> conflicts;    // kinds whose unexpired leases refuse this one
  std::string description;
  uint64_t ttl_micros = 3600ull * 1000000;
  std::string owner;                     // empty: 24 random hex characters
};

class Lease {
 public:
  // `table` and `env` must outlive the Lease. Unavailable if a conflicting
  // holder is live (see top); the table's errors otherwise.
  static Result<std::unique_ptr<Lease>> Acquire(LeaseTable* table, Env* env, LeaseOptions options);

  ~Lease();  // Release(), errors ignored (the record then expires by itself)
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  Status Renew();
  Status MaybeRenew();
  // Deletes the record. Idempotent.
  Status Release();

  const std::string& owner() const { return owner_; }
  uint64_t expires_micros() const;
  // True once the Env's wall clock reached the expiry (or after Release).
  bool Expired() const;

  // The first unexpired lease in `leases` of a kind in `kinds` held by
  // another owner than `self`, judged at `now_micros`; nullptr if none.
  static const LeaseRecord* FindConflict(const std::vector<LeaseRecord>& leases,
                                         const std::vector<std::string>& kinds, const std::string& self,
                                         uint64_t now_micros);

 private:
  Lease(LeaseTable* table, Env* env, LeaseOptions options);
  Status CheckConflicts();   // lists the table; Unavailable naming a live conflicting holder
  Status RenewLocked();      // mu_ held

  LeaseTable* const table_;
  Env* const env_;
  const LeaseOptions options_;
  const std::string owner_;
  mutable std::mutex mu_;
  LeaseRecord record_;  // GUARDED_BY(mu_)
  bool held_ = false;   // GUARDED_BY(mu_)
};

}  // namespace ark::dr
