// WalRecord: one entry of the write-ahead log.
//
// The WAL knows the frame (position, time, operation code, collection id) but
// not the body: the engine encodes and decodes bodies (engine/wal_codec.h).
// The byte layout is specified in docs/formats/wal.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/position.h"

namespace ark {

// Operation codes. Values are part of the on-disk format: never renumber.
enum class WalOp : uint16_t {
  kCreateCollection = 1,
  kDropCollection = 2,
  kRenameCollection = 3,
  kInsert = 4,
  kUpsert = 5,
  kDelete = 6,
  kSeal = 7,           // a growing segment became a sealed file (body: engine-defined)
  kCheckpoint = 8,     // a manifest version was committed
  kEpochStart = 9,     // first record of a new epoch (promotion)
  kCreateIndex = 10,
  kDropIndex = 11,
  kEngineDefined = 100,  // 100.. reserved for later engine operations
};

std::string_view WalOpName(uint16_t op);

struct WalRecord {
  Position position;
  uint64_t timestamp_micros = 0;  // wall clock when appended (UTC)
  uint16_t op = 0;                // a WalOp value
  uint64_t collection_id = 0;     // 0 when the record is not about one collection
  std::string body;
};

}  // namespace ark
