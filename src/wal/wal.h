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
};

class Wal {
 public:
  static Result<std::unique_ptr<Wal>> Open(Env* env, const std::string& dir,
                                           const WalOptions& options);
  virtual ~Wal() = default;

  virtual Result<Position> Append(WalOp op, uint64_t collection_id, std::string_view body) = 0;
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
  // whose records all lie before min(checkpoint, every floor).
  virtual void SetRetainFloor(const std::string& name, Position from) = 0;
  virtual void ClearRetainFloor(const std::string& name) = 0;
  virtual Status RemoveObsoleteSegments(Position checkpoint) = 0;

  // Paths of the segment files, oldest first (for archiving and inspection).
  virtual std::vector<std::string> SegmentFiles() const = 0;
  virtual WalStats Stats() const = 0;

  // Writes and syncs whatever is buffered (used at shutdown).
  virtual Status Flush() = 0;
};

}  // namespace ark
