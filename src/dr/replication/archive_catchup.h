// A standby behind the primary's retained WAL catches up from the WAL archive
// (docs/replication.md, "Behind the retained WAL"): the archived records
// after its durable position, on the archive's newest history, written in
// order through the replicated append — the same path the stream uses, so a
// record is never applied twice or skipped. Afterwards it streams again from
// where the archive ended (the primary re-arms its slot there).
//
// Thread-safety: call from the one thread that appends to the follower.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/position.h"
#include "core/status.h"
#include "dr/repository/repository.h"
#include "engine/database.h"

namespace ark::dr {

struct ArchiveCatchUpReport {
  Position from;         // the follower's durable position before
  Position reached;      // and after (== from when the archive had nothing after it)
  Position archive_end;  // the newest archived position on the history followed
  uint64_t ranges = 0, records = 0;
  std::string gap;       // the hole that stopped it, if any ("records 1/501..1/733 of epoch 1")
};

// Reads the archive index of `repo` and applies to `follower` every archived
// record after its durable position, contiguous on the archive's newest
// history, one range at a time (memory: one range's records). A file-change
// record's files come through the follower's fetch_file. FailedPrecondition
// when the follower is not on that history (it forked: it must
// re-bootstrap); Cancelled when `stop` is set between ranges.
Result<ArchiveCatchUpReport> CatchUpFromArchive(Repository* repo, Database* follower,
                                                const std::atomic<bool>* stop = nullptr);

}  // namespace ark::dr
