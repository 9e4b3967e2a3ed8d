// WalTailReader: the durable records of a live Wal after a position, as they
// become durable, in the exact framing of the WAL file (the seam archiving
// and streaming ship bytes through without re-encoding).
//
// CONTRACT:
//   Created by Wal::OpenTailReader (which checks the start position against
//   the database's epoch history; see wal.h). Never returns a record that is
//   not durable, and never reads bytes a group-commit leader is still
//   writing: it reads only below the size each segment had after the last
//   completed round, and only lsns <= Wal::DurableLsn().
//
//   It keeps its segment file open with its byte offset; at a rotation it
//   finds the next segment in the Wal's in-memory segment list (no directory
//   listing, no re-reading). It crosses segment rotations and epoch changes.
//
//   Every record returned is verified: frame-header and payload checksums,
//   the lsn is the previous one + 1, the epoch is its segment's, epochs never
//   go down. Damage is Corruption naming the file and the byte offset. A
//   record whose epoch is not the one the history gives for its lsn is
//   FailedPrecondition (this log and that history diverged). A record that
//   starts an epoch newer than the history's last (a StartEpoch or a
//   replicated promotion after the reader opened) extends the reader's
//   history instead.
//
//   A record removed by retention before the reader reached it is NotFound.
//   A reader bound to a slot fails with FailedPrecondition once the slot is
//   invalidated or dropped. A failed Wal (sticky write error) still serves its
//   durable records, then returns the Wal's error instead of waiting.
//
//   Waiting uses the Wal's condition variable (no polling). The timeout is
//   measured with the Env's clock and capped at one day (so UINT64_MAX
//   "forever" does not overflow).
//
//   Thread-safety: one thread at a time per reader; any number of readers
//   may run at once with the Wal's writers. A reader must not outlive its Wal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/position.h"
#include "core/status.h"
#include "storage/env.h"
#include "wal/wal_record.h"

namespace ark {

class WalTailReader {
 public:
  virtual ~WalTailReader() = default;
  // Next durable record after position(): fills *record (decoded) and
  // *framed (the exact bytes of the record as on disk: 32-byte frame header
  // + payload, checksums included). Waits up to timeout_micros for one to
  // become durable; returns false on timeout (nothing consumed).
  virtual Result<bool> Next(WalRecord* record, std::string* framed, uint64_t timeout_micros) = 0;
  // Appends the framed bytes of as many records as are durable (at most
  // max_bytes, but always at least one if any is durable), waiting up to
  // timeout_micros for the first. Returns the number of records appended to
  // *out (0 on timeout).
  virtual Result<size_t> ReadBatch(std::string* out, size_t max_bytes,
                                   uint64_t timeout_micros) = 0;
  // Last record returned; initially the `after` given at open.
  virtual Position position() const = 0;
};

// OK if `p` lies on `history` (oldest first): its epoch is in it, and its
// lsn is inside that epoch (from the lsn before the epoch's first record to
// the lsn before the next epoch's first). Else FailedPrecondition, e.g.
// "position 1/500 is on a forked history: epoch 2 began at 2/450, so epoch 1
// ends at lsn 449". InvalidArgument if `history` is not ordered. An empty
// history accepts every position.
Status CheckPositionOnHistory(Position p, const std::vector<EpochStart>& history);

// ---- Internal: what a tail reader needs from its Wal (implemented by the
// Wal; not for other callers) ----

// One retained segment as the Wal knows it.
struct WalSegmentInfo {
  std::string path;
  uint64_t epoch = 0;
  uint64_t first_lsn = 0;
  // Bytes of the file written by completed rounds (header included): every
  // byte below it is final; bytes past it may be a leader's write in flight.
  uint64_t size = 0;
};

class WalTailSource {
 public:
  virtual ~WalTailSource() = default;
  // The retained segment holding `lsn` (the newest whose first lsn is <= lsn).
  // NotFound if lsn is older than the oldest retained segment.
  virtual Result<WalSegmentInfo> FindSegment(uint64_t lsn) const = 0;
  // Waits until DurableLsn() > after_lsn, the Wal failed, the slot
  // generation moved past `slot_generation`, or timeout_micros elapsed.
  // Returns the durable lsn.
  virtual uint64_t WaitForTail(uint64_t after_lsn, uint64_t slot_generation,
                               uint64_t timeout_micros) const = 0;
  virtual uint64_t DurableLsn() const = 0;
  // The Wal's sticky error (OK while it works).
  virtual Status Error() const = 0;
  // Grows whenever a slot is invalidated or dropped (read without a lock).
  virtual uint64_t SlotGeneration() const = 0;
  // OK if slot `name` exists and is valid; else FailedPrecondition (with the
  // invalidation reason) or NotFound.
  virtual Status CheckSlot(const std::string& name) const = 0;
};

// Creates the reader once Wal::OpenTailReader has checked the position:
// it will return the records after `after` (lsn start_lsn - 1 is `after`'s
// or, for {0, 0}, the oldest retained record's predecessor).
std::unique_ptr<WalTailReader> NewWalTailReader(Env* env, const WalTailSource* source,
                                                Position after, uint64_t start_lsn,
                                                std::vector<EpochStart> history,
                                                std::string slot);

}  // namespace ark
