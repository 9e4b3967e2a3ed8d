// Constants of the WAL slots file (<wal dir>/SLOTS). Specification:
// docs/formats/slots.md. Never change a value; add a new version instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ark::slots_format {

inline constexpr char kMagic[8] = {'A', 'R', 'K', 'S', 'L', 'O', 'T', 'S'};
// 1: initial.
inline constexpr uint32_t kVersion = 1;
// magic(8) version(4) flags(4) body_length(8) body_xxh3(8)
inline constexpr size_t kHeaderSize = 32;
// Not a segment name, so the WAL's segment listing ignores both.
inline constexpr std::string_view kFileName = "SLOTS";
inline constexpr std::string_view kTempFileName = "SLOTS.tmp";
// Slot names: 1..kMaxNameLength characters of [A-Za-z0-9._-].
inline constexpr size_t kMaxNameLength = 64;

}  // namespace ark::slots_format
