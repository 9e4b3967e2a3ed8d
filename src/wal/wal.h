// Wal: the write-ahead log of one database directory.
//
// CONTRACT (the engine and, later, the DR layer rely on this):
//
//   Open() scans the segment files in `dir`, truncates a torn tail (a record
//   cut short by a crash, or zero-filled space after the last record), and
//   fails with Corruption naming the file and offset if a record in the middle
//   is damaged. It never skips a damaged record silently.
//
//   Append() assigns the next lsn, frames the record and puts it in an
//   in-memory buffer. It does not wait for the disk. Positions are assigned in
//   the order Append() calls happen; a caller that needs "apply order == log
//   order" holds its own lock around Append() + apply.
//
//   WaitDurable(p) blocks until every record up to p is on disk according to
//   the sync policy (group commit: the first waiter becomes the leader, writes
//   everything buffered so far and syncs once; the others wait for it).
//   A failed write or sync is sticky: this and every later Append() /
//   WaitDurable() return the same error until the Wal is reopened.
//
//   A failed round never leaves its records to be replayed: the leader cuts
//   the segment file back to its size after the last successful round
//   (Env::TruncateFile, then fsync) before it fails the round's waiters, so a
//   reopen finds exactly the acknowledged records. Only if that cut fails too
//   (the disk refuses every change) can the failed records still be in the
//   file; the error then says their outcome is unknown (they may be replayed
//   at the next Open, like records of a write cut short by a crash before its
//   reply), and the cut is tried once more when the Wal is destroyed.
//
//   Thread-safety: all methods are thread-safe. Destroying the Wal does not
//   write buffered records: call Flush() first (records never made durable
//   were never acknowledged, so dropping them is allowed).
//
//   Positions compare by lsn inside the WAL (lsn never restarts at a new
//   epoch). Format and recovery rules: docs/formats/wal.md.
//
//   Tail reading (OpenTailReader, wal/wal_tail_reader.h) serves archiving and
//   streaming: records after a position as they become durable, in their
//   exact on-disk framing. Slots (CreateSlot...) are named retain floors that
//   survive a restart (<dir>/SLOTS, docs/formats/slots.md) with a size bound
//   past which they are invalidated instead of filling the disk.
//   AppendReplicated writes a primary's record unchanged into a standby's log.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/position.h"
#include "core/status.h"
#include "storage/env.h"
#include "wal/wal_record.h"
#include "wal/wal_tail_reader.h"

namespace ark {

enum class WalSyncMode {
  kEveryCommit,  // default: WaitDurable returns after fdatasync
  kBatched,      // the leader waits up to batch_window_micros to gather more records
  kNone,         // write() to the OS only; a power loss may drop acknowledged records
};

struct WalOptions {
  WalSyncMode sync_mode = WalSyncMode::kEveryCommit;
  uint64_t batch_window_micros = 1000;
  uint64_t segment_size_bytes = 64ull << 20;  // rotate when a segment exceeds this
  // Epoch for a brand-new log (no segments yet).
  uint64_t initial_epoch = 1;
  // lsn of the first record of a brand-new log (>= 1). A database restored
  // from a backup whose checkpoint is at lsn C opens its empty WAL with C + 1
  // so that positions never go backwards. Ignored when segments exist.
  uint64_t initial_lsn = 1;
  // Open() reads and checks every record of every segment (true), or only
  // the segment headers plus the last segment (false: faster open of a long
  // retained log; damage in older segments then surfaces in Replay()).
  bool verify_on_open = true;
};

// Statistics for /metrics and benchmarks.
struct WalStats {
  uint64_t records_appended = 0;
  uint64_t bytes_written = 0;
  uint64_t syncs = 0;
  uint64_t sync_micros_total = 0;
  uint64_t write_batches = 0;     // group-commit batches written (one write() each)
  uint64_t segments_created = 0;  // by this Wal object (rotation, StartEpoch, new log)
  uint64_t slots_invalidated = 0;  // by this Wal object (EnforceSlotBounds)
};

// A durable slot: a named retain floor persisted in <wal dir>/SLOTS, for a
// consumer that outlives one process (the archiver, each standby).
struct WalSlotInfo {
  std::string name;
  // The consumer has every record up to and including `restart`; the WAL
  // after it is retained (a retain floor at restart.lsn + 1).
  Position restart;
  uint64_t max_retained_bytes = 0;  // 0 = unbounded
  bool invalidated = false;
  // e.g. "slot 'standby-a' held 2147483648 bytes of WAL, more than its bound
  // of 1073741824"
  std::string invalidated_reason;
  uint64_t invalidated_micros = 0;  // Env::WallMicros() when invalidated
  // Computed by ListSlots / GetSlot: bytes of the WAL segments kept for this
  // slot (0 once invalidated: it holds nothing).
  uint64_t retained_bytes = 0;
};

class Wal {
 public:
  static Result<std::unique_ptr<Wal>> Open(Env* env, const std::string& dir,
                                           const WalOptions& options);
  virtual ~Wal() = default;

  virtual Result<Position> Append(WalOp op, uint64_t collection_id, std::string_view body) = 0;
  // Append() without a body copy: `fill` writes the body, exactly body_size
  // bytes, straight into the record's place in the WAL's buffer. It runs
  // under the Wal's lock (it must not call the Wal) and only if the append
  // succeeds. Same contract and same bytes on disk as Append().
  virtual Result<Position> AppendInPlace(WalOp op, uint64_t collection_id, size_t body_size,
                                         const std::function<void(char* body)>& fill) {
    std::string body(body_size, '\0');
    if (body_size > 0) fill(body.data());
    return Append(op, collection_id, body);
  }
  virtual Status WaitDurable(Position upto) = 0;

  // Last position assigned / last position known durable. A new empty log
  // reports {initial_epoch, 0} for both.
  virtual Position LastPosition() const = 0;
  virtual Position DurablePosition() const = 0;
  // DurablePosition().lsn without taking the Wal's mutex (read paths use it
  // as their visibility horizon).
  virtual uint64_t DurableLsn() const = 0;
  // The sticky error of a failed write or sync; OK while the log works.
  virtual Status Error() const = 0;
  virtual uint64_t CurrentEpoch() const = 0;

  // Starts epoch `epoch` (> current): writes a kEpochStart record in a new
  // segment and makes it durable. Used by promotion.
  virtual Result<Position> StartEpoch(uint64_t epoch) = 0;

  // Calls fn for every durable record with position > after, in log order.
  // Stops early and returns fn's Status if fn fails.
  virtual Status Replay(Position after,
                        const std::function<Status(const WalRecord&)>& fn) const = 0;

  // Blocks until DurablePosition() > after or timeout_micros elapse; returns
  // the durable position (the tail-reader seam for archiving and streaming).
  virtual Position WaitForDurableAfter(Position after, uint64_t timeout_micros) const = 0;

  // Retention. A named floor ("retain from position P") holds every record at
  // or after P; RemoveObsoleteSegments(checkpoint) deletes whole segment files
  // whose records all lie before min(checkpoint, every floor). Slots are
  // floors named "slot/<name>"; RemoveObsoleteSegments first calls
  // EnforceSlotBounds and persists slot positions moved by AdvanceSlot.
  virtual void SetRetainFloor(const std::string& name, Position from) = 0;
  virtual void ClearRetainFloor(const std::string& name) = 0;
  virtual Status RemoveObsoleteSegments(Position checkpoint) = 0;

  // ---- Tail reading ----
  // Opens a reader of the durable records after `after` (see
  // wal/wal_tail_reader.h), checked against `history` (the database's epoch
  // list, oldest first; empty = no timeline check). `after` = {0, 0} reads
  // from the oldest retained record. Errors:
  //   FailedPrecondition: after.epoch is not in `history`; `after` lies past
  //     the end of its epoch ("position 1/500 is on a forked history: epoch 2
  //     began at 2/450, so epoch 1 ends at lsn 449") or before its start;
  //     `after` is ahead of LastPosition() ("position X is ahead of this log,
  //     which ends at Y"); `slot` is invalidated (the message has its reason).
  //   NotFound: records after `after` were removed by retention (the message
  //     names the oldest retained lsn); `slot` does not exist.
  //   InvalidArgument: `history` is not ordered.
  // `slot`: if not empty, the reader fails with FailedPrecondition once that
  // slot is invalidated or dropped. The reader must not outlive the Wal.
  virtual Result<std::unique_ptr<WalTailReader>> OpenTailReader(
      Position after, std::vector<EpochStart> history, std::string slot = {}) const = 0;

  // ---- Durable slots (persisted in <dir>/SLOTS; docs/formats/slots.md) ----
  // Slot names: 1 to 64 characters of [A-Za-z0-9._-].
  //
  // Persistence rule (PostgreSQL's: slot positions reach the disk at
  // checkpoints): CreateSlot, DropSlot and invalidation write the file before
  // they return. AdvanceSlot moves the floor in memory at once and the file
  // follows at the next RemoveObsoleteSegments (before it deletes anything)
  // or Flush(). So after a crash a slot may be back at an older position
  // (the consumer re-receives records it had, never misses one), never past
  // what the consumer confirmed, and the WAL after its persisted position is
  // always still on disk.
  //
  // CreateSlot: AlreadyExists; InvalidArgument for a bad name; NotFound if
  // the WAL after `restart` is already gone; FailedPrecondition if `restart`
  // is ahead of the log.
  virtual Status CreateSlot(const std::string& name, Position restart,
                            uint64_t max_retained_bytes) = 0;
  // Moves the slot forward (a lower position is a no-op). NotFound;
  // FailedPrecondition if invalidated (the message has the reason) or if
  // `restart` is ahead of the log.
  virtual Status AdvanceSlot(const std::string& name, Position restart) = 0;
  virtual Status DropSlot(const std::string& name) = 0;  // NotFound
  virtual std::vector<WalSlotInfo> ListSlots() const = 0;  // by name
  virtual Result<WalSlotInfo> GetSlot(const std::string& name) const = 0;  // NotFound
  // Invalidates every valid slot whose retained bytes exceed its bound:
  // persisted, its floor released so RemoveObsoleteSegments can free the
  // space, tail readers bound to it fail. Returns their names.
  // RemoveObsoleteSegments calls it first; the engine may also call it on a timer.
  virtual Result<std::vector<std::string>> EnforceSlotBounds() = 0;

  // ---- Replication ----
  // Appends `record` (a primary's record) at its own position with its own
  // timestamp, op, collection id and body: the payload bytes written are
  // byte-identical to the primary's (the frame's sync base lsn may differ).
  // record.position.lsn must be exactly the next lsn (else
  // FailedPrecondition "expected lsn N, got M") and its epoch >= the current
  // epoch (else FailedPrecondition); a higher epoch starts a new segment for
  // it, as StartEpoch does. Does not wait for durability: call WaitDurable.
  virtual Result<Position> AppendReplicated(const WalRecord& record) = 0;

  // Paths of the segment files, oldest first (for archiving and inspection).
  virtual std::vector<std::string> SegmentFiles() const = 0;
  // The lsn of the oldest record still on disk (the first of the oldest
  // retained segment): a consumer starting from scratch can begin after
  // OldestRetainedLsn() - 1.
  virtual uint64_t OldestRetainedLsn() const = 0;
  virtual WalStats Stats() const = 0;

  // Writes and syncs whatever is buffered, and persists slot positions moved
  // by AdvanceSlot (used at shutdown).
  virtual Status Flush() = 0;
};

}  // namespace ark
