// The WAL archive of a backup repository (docs/formats/backup-repository.md,
// "WAL archive"): what the archiver writes under wal/ and how restore, status,
// verify and prune read it back.
//
//   wal/<epoch:016x>/epoch.json                     the epoch's history
//   wal/<epoch:016x>/<first:020>-<last:020>.json    one archived range
//
// A *range* is a run of consecutive WAL records of one epoch, lsns
// first..last. Its records, framed exactly as in the WAL file (checksums
// included), are one ordinary blob (blobs/, so compressed and encrypted like
// every blob); the range document names that blob and every file the range's
// file-change records add, which are blobs too. The document is written
// if-absent after its blobs: it is the range's commit point.
//
// An *epoch document* records which history an epoch belongs to: its
// EpochStart list (oldest first, ending with the epoch itself), so a restore
// that follows epoch E knows that epoch D's records count only below the lsn
// where D's successor on E's history began. Written if-absent by the archiver
// when it first ships a record of an epoch, and by a restore that starts a new
// epoch (reserving the number before it is used).
//
// ArchiveIndex is the list of both, read with one listing of wal/ plus a
// document per range (read in parallel). Pure value types + codecs here; the
// archiver (archiver.h) and restore (pitr.h) act on them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/position.h"
#include "core/status.h"
#include "dr/backup/backup_manifest.h"
#include "dr/repository/repository.h"
#include "wal/wal_record.h"

namespace ark::dr {

inline constexpr uint32_t kArchiveFormatVersion = 1;
inline constexpr char kArchivePrefix[] = "wal/";

struct ArchiveRange {
  uint32_t format_version = kArchiveFormatVersion;
  uint64_t epoch = 0;
  uint64_t first_lsn = 0;
  uint64_t last_lsn = 0;
  uint64_t first_micros = 0;  // timestamp of the first record (wall clock at append, UTC µs)
  uint64_t last_micros = 0;   // timestamp of the last record
  BackupBlobRef segment;      // kind "wal-range": the framed records
  std::vector<std::string> files;  // SHA-256 of every file the range's file changes add
  uint64_t archived_micros = 0;    // when the archiver wrote it
  std::string source;              // the data directory it came from
  bool operator==(const ArchiveRange&) const = default;

  Position first() const { return {epoch, first_lsn}; }
  Position last() const { return {epoch, last_lsn}; }
  uint64_t records() const { return last_lsn - first_lsn + 1; }
};

struct ArchiveEpoch {
  uint32_t format_version = kArchiveFormatVersion;
  uint64_t epoch = 0;
  std::vector<EpochStart> history;  // oldest first; history.back().epoch == epoch
  uint64_t created_micros = 0;
  std::string origin;  // "archiver of <dir>" | "restore of <repo> into <dir>"
  bool operator==(const ArchiveEpoch&) const = default;
};

std::string ArchiveRangeKey(uint64_t epoch, uint64_t first_lsn, uint64_t last_lsn);
std::string ArchiveEpochKey(uint64_t epoch);

nlohmann::json ArchiveRangeToJson(const ArchiveRange& r);
// Corruption naming `where` and the field; NotSupported for a newer version.
Result<ArchiveRange> ArchiveRangeFromJson(const nlohmann::json& j, const std::string& where);
nlohmann::json ArchiveEpochToJson(const ArchiveEpoch& e);
Result<ArchiveEpoch> ArchiveEpochFromJson(const nlohmann::json& j, const std::string& where);

// A hole in an epoch's ranges on a history: lsns [first, last] of `epoch`
// are not archived.
struct ArchiveGap {
  uint64_t epoch = 0;
  uint64_t first_lsn = 0;
  uint64_t last_lsn = 0;
  std::string ToString() const;  // "records 1/501..1/733 of epoch 1"
};

class ArchiveIndex {
 public:
  // Lists wal/ and reads every document (`parallelism` at a time). A key
  // under wal/ that is not an archive name is skipped; a document that does
  // not decode, or disagrees with its key, is Corruption naming it.
  static Result<ArchiveIndex> Load(Repository* repo, int parallelism = 8);
  // For tests and for the archiver's own bookkeeping.
  void AddRange(ArchiveRange r);
  void AddEpoch(ArchiveEpoch e);

  bool empty() const { return ranges_.empty() && epochs_.empty(); }
  const std::map<uint64_t, ArchiveEpoch>& epochs() const { return epochs_; }
  // Every range, by epoch then first lsn.
  std::vector<ArchiveRange> AllRanges() const;
  uint64_t MaxEpoch() const;  // over ranges and epoch documents; 0 if empty

  // The history of `epoch`: its epoch document's, or for an epoch without
  // one, a single-epoch history starting at its first range. NotFound if the
  // archive knows nothing of it.
  Result<std::vector<EpochStart>> HistoryOf(uint64_t epoch) const;
  // The epoch whose history restores follow by default: the newest one.
  uint64_t LatestEpoch() const { return MaxEpoch(); }

  // The archived records on `history` after `after`, in order, as ranges
  // clipped to the history (a range of epoch D is cut where D's successor
  // began). Stops at the first missing record: `*gap` (if given) then names
  // the hole up to the next archived range on the history, if there is one.
  // Ranges are returned whole (clip_last gives the last lsn to use).
  struct Piece {
    ArchiveRange range;
    uint64_t use_first = 0;  // first lsn of the range to apply (> after)
    uint64_t use_last = 0;   // last lsn of the range to apply (within the history)
  };
  std::vector<Piece> ContiguousAfter(Position after, const std::vector<EpochStart>& history,
                                     std::optional<ArchiveGap>* gap = nullptr) const;
  // Every gap on `history` between its first archived record and its last.
  std::vector<ArchiveGap> Gaps(const std::vector<EpochStart>& history) const;
  // The newest archived position on `history` ({0,0} when none).
  Position EndOnHistory(const std::vector<EpochStart>& history) const;

 private:
  std::map<uint64_t, ArchiveEpoch> epochs_;
  std::map<uint64_t, std::map<uint64_t, ArchiveRange>> ranges_;  // epoch -> first lsn -> range
};

// The lsns of `epoch` that belong to `history`: [lo, hi] (hi = UINT64_MAX
// for the last epoch). False if the epoch is not in the history.
bool EpochSpanOnHistory(const std::vector<EpochStart>& history, uint64_t epoch, uint64_t* lo, uint64_t* hi);
// The records of a range's blob (framed as in the WAL), each checked (both
// checksums); Corruption naming `where` and the offset on any damage.
Result<std::vector<WalRecord>> DecodeArchivedRecords(std::string_view blob, const std::string& where);
// Two records are the same record (position, time, op, collection, body).
bool SameRecord(const WalRecord& a, const WalRecord& b);
// "1@1/1 -> 3@3/501" for messages.
std::string HistoryToString(const std::vector<EpochStart>& history);

}  // namespace ark::dr
