// Position: one point in the history of the data.
//
// `lsn` is a 64-bit counter that only grows across the life of a database
// (it never restarts at a new epoch); `epoch` is the timeline and grows by one
// at every promotion. Positions order first by epoch, then by lsn.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace ark {

struct Position {
  uint64_t epoch = 0;
  uint64_t lsn = 0;

  auto operator<=>(const Position&) const = default;
  bool operator==(const Position&) const = default;

  // "3/1024"
  std::string ToString() const;
  // Parses "EPOCH/LSN"; InvalidArgument names the text on failure.
  static Result<Position> Parse(std::string_view text);
};

// One entry of a database's epoch history (oldest first): epoch `epoch`
// began at position `first` (its first record, a kEpochStart record for every
// epoch after the first).
struct EpochStart {
  uint64_t epoch = 0;
  Position first;  // first position of the epoch
  bool operator==(const EpochStart&) const = default;
};

}  // namespace ark
