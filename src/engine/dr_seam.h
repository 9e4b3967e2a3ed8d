// DrSeam: the one interface between the storage engine and the DR layer.
//
// Backups, WAL archiving, point-in-time restore, standbys and failover need a
// few things from a database and nothing else (docs/engine.md, "DR seams"):
//
//   * a consistent cut: a manifest and a position P such that its files plus
//     the WAL up to P are exactly the database at P;
//   * holds: pins (in memory, with a TTL) for one copy, durable slots (on
//     disk, with a size bound) for consumers that outlive a restart;
//   * the WAL as framed record bytes from any position (a tail reader);
//   * files by their SHA-256 name;
//   * the epoch history, and starting a new epoch (promotion);
//   * on a follower, a replicated append (a primary's or an archive's record
//     written at its own position and applied through the one apply path);
//   * for a restore into a new directory: where a file goes and how the
//     directory is sealed into a database that opens.
//
// DR code (src/dr/) uses only this class: it never holds the Wal object,
// never builds a path inside a data directory, and never names the
// directories ("files", "wal") of the layout — LevelDB keeps a small public
// include/ for the same reason. A DrSeam is a thin view over an open Database
// (not owned; it must outlive the seam) and is thread-safe as the Database is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/position.h"
#include "core/status.h"
#include "engine/database.h"
#include "engine/manifest.h"
#include "storage/env.h"
#include "wal/wal.h"
#include "wal/wal_record.h"
#include "wal/wal_tail_reader.h"

namespace ark {

class DrSeam {
 public:
  explicit DrSeam(Database* db) : db_(db) {}

  // Names the database in reports ("the data directory /var/lib/ark").
  std::string Describe() const { return db_->dir(); }

  // ---- the cut and holds on files and WAL ----------------------------------
  // Database::GetConsistentCut: with a pin name, the cut's files and the WAL
  // from its checkpoint are pinned until ReleasePin or the TTL.
  Result<ConsistentCut> GetConsistentCut(const std::string& pin_name, uint64_t ttl_micros);
  Status ReleasePin(const std::string& name);
  // Durable slots (wal.h): the WAL after `restart`, and every file a record
  // after it names, stay until the slot advances past them, across restarts.
  Status CreateSlot(const std::string& name, Position restart, uint64_t max_retained_bytes);
  Status AdvanceSlot(const std::string& name, Position restart);
  Status DropSlot(const std::string& name);
  std::vector<WalSlotInfo> ListSlots() const;
  Result<WalSlotInfo> GetSlot(const std::string& name) const;

  // ---- the WAL ---------------------------------------------------------------
  Position LastPosition() const;
  Position DurablePosition() const;
  // The lsn of the oldest WAL record still on disk.
  uint64_t OldestRetainedLsn() const;
  // A reader of the framed records after `after`, checked against this
  // database's epoch history (FailedPrecondition naming the fork for a
  // position on another history; NotFound if the records were removed). With
  // `slot`, the reader fails once that slot is invalidated.
  Result<std::unique_ptr<WalTailReader>> OpenTailReader(Position after, const std::string& slot = {}) const;
  // Calls fn for every record in (after, upto], decoded and framed, in order
  // (upto must be durable). NotFound if some were removed.
  Status ReadRecords(Position after, Position upto,
                     const std::function<Status(const WalRecord& record, std::string_view framed)>& fn) const;
  // Writes and syncs whatever the WAL holds in memory (before a close).
  Status FlushWal();

  // Database::SetWritesBlocked (an archiver whose spool is full).
  void SetWritesBlocked(const std::string& reason) { db_->SetWritesBlocked(reason); }

  // ---- files by hash -----------------------------------------------------------
  // A live, retired or pinned content-addressed file, or one a logged file
  // change names ahead of its manifest commit; NotFound otherwise.
  Result<std::unique_ptr<RandomAccessFile>> OpenFile(const std::string& sha256_hex) const;
  Result<uint64_t> FileSize(const std::string& sha256_hex) const;

  // ---- epochs ---------------------------------------------------------------------
  uint64_t CurrentEpoch() const { return db_->CurrentEpoch(); }
  std::vector<EpochStart> EpochHistory() const { return db_->EpochHistory(); }
  Result<Position> StartEpoch(uint64_t epoch) { return db_->StartEpoch(epoch); }

  // ---- a follower's replicated append ---------------------------------------------
  // `framed` is one record exactly as a tail reader returns it: both
  // checksums are verified (Corruption otherwise), then Database::
  // AppendReplicated writes and applies it.
  Result<Position> AppendReplicated(std::string_view framed);
  Result<Position> AppendReplicated(const WalRecord& record) { return db_->AppendReplicated(record); }

  // ---- new data directories (restore) ------------------------------------------------
  // A restore builds a database in a directory nothing has open: Prepare it,
  // put every file the manifest names at FileDestination (hash-checked by the
  // caller), then Seed it: the WAL gets `tail` (records after the manifest's
  // checkpoint, contiguous, written through the WAL's replicated append, so
  // they keep their positions and timestamps) and the manifest is committed
  // last. Database::Open then recovers it like any crash.
  static Status PrepareDirectory(Env* env, const std::string& dir);
  static std::string FileDestination(const std::string& dir, const std::string& sha256_hex);
  static Status SeedDirectory(Env* env, const std::string& dir, const Manifest& manifest,
                              const std::vector<WalRecord>& tail);

 private:
  Database* const db_;
};

// Decodes one framed record (frame header + payload, as on disk), verifying
// both checksums. Corruption naming `where` on any damage; the framed bytes
// must be exactly one record.
Result<WalRecord> DecodeFramedRecord(std::string_view framed, const std::string& where);

}  // namespace ark
