// Tombstone files: deletes of rows that were already sealed into segment files.
//
// An entry (primary key, delete lsn) deletes every row of the collection with
// that key whose insert lsn is smaller than the delete lsn. Because entries
// name keys and positions, not segments, a tombstone stays right however the
// segments are later compacted. An upsert at lsn L is "delete key at L" plus an
// insert at L, so the new row (lsn == L) survives its own tombstone.
// Layout: docs/formats/segment.md ("Tombstone files"). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "engine/row_batch.h"

namespace ark {

struct Tombstone {
  PrimaryKey key;
  uint64_t lsn = 0;
  bool operator==(const Tombstone&) const = default;
};

struct TombstoneContents {
  uint32_t version = 0;
  uint64_t collection_id = 0;
  DataType key_type = DataType::kInt64;
  std::vector<Tombstone> entries;
};

std::string EncodeTombstones(uint64_t collection_id, DataType key_type,
                             const std::vector<Tombstone>& entries);
// Verifies magic, version and checksum; Corruption naming `name` and the offset.
Result<TombstoneContents> DecodeTombstones(std::string_view data, const std::string& name);

}  // namespace ark
