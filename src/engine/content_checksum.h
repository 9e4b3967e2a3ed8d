// ContentChecksum: an order-independent fingerprint of a collection's rows
// (docs/formats/content-checksum.md).
//
// Two copies of a collection — the source and a restored, replicated or
// promoted copy — hold the same rows exactly when their checksums are equal
// (up to a 2^-128 accident), however their rows are laid out: segment
// boundaries, compaction, seal order and index files do not enter it. Drills
// compare it across servers; it is not a defence against someone forging
// rows (the row hashes are XXH3, not a cryptographic hash).
//
// Each visible row is encoded canonically (every column in schema order,
// the partition by name) and hashed with two independently seeded XXH3-64
// lanes; the lanes are summed modulo 2^64 over the rows. The seeds come from
// the schema (field names, types, dims), so the same values under another
// schema give another checksum.
#pragma once

#include <cstdint>
#include <string>

#include "engine/collection_snapshot.h"

namespace ark {

inline constexpr uint32_t kContentChecksumVersion = 1;

struct ContentChecksum {
  uint64_t rows = 0;      // visible rows hashed
  uint64_t lsn = 0;       // the snapshot's position (its lsn)
  std::string checksum;   // "v1:" + 32 lowercase hex characters (lane 0, then lane 1)
  // Not OK when a segment column could not be read (a damaged file:
  // Corruption naming it); checksum is then "unreadable", matching nothing.
  Status status;
};

// Never blocks writers. The first checksum of a sealed segment hashes all
// its rows; the sums are then cached per segment file (immutable, named by
// its content), so later checksums hash only the growing rows and the rows
// not visible in the snapshot (deleted, or written after it). A snapshot
// restricted to partitions hashes what it shows. Thread-safe.
ContentChecksum ComputeContentChecksum(const CollectionSnapshot& snapshot);

}  // namespace ark
