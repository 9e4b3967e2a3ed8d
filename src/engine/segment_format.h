// Constants of the segment and tombstone file formats.
// Byte-by-byte specification: docs/formats/segment.md. Never change a value;
// add a new version instead.
#pragma once

#include <cstdint>
#include <string_view>

namespace ark::segment_format {

// ---- segment file ---------------------------------------------------------
// "ARKSEG\0\1" read as a little-endian u64.
inline constexpr char kMagic[8] = {'A', 'R', 'K', 'S', 'E', 'G', '\0', '\1'};
inline constexpr char kFooterMagic[8] = {'A', 'R', 'K', 'S', 'E', 'G', 'F', 'T'};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint32_t kHeaderSize = 64;
inline constexpr uint32_t kFooterSize = 32;
// Every column's data starts at a multiple of this (vector columns can be
// mmapped and read with aligned SIMD loads).
inline constexpr uint32_t kColumnAlignment = 64;
// Name of the system column holding each row's insert lsn (u64).
inline constexpr std::string_view kLsnColumnName = "$lsn";
// Header field offsets.
inline constexpr uint32_t kHeaderVersionOffset = 8;
inline constexpr uint32_t kHeaderChecksumOffset = 56;  // xxh3-64 of bytes [0, 56)

// ---- tombstone file -------------------------------------------------------
inline constexpr char kTombstoneMagic[8] = {'A', 'R', 'K', 'T', 'O', 'M', 'B', '\1'};
inline constexpr uint32_t kTombstoneVersion = 1;
inline constexpr uint32_t kTombstoneHeaderSize = 32;
inline constexpr uint32_t kTombstoneTrailerSize = 8;  // xxh3-64 of every byte before it

}  // namespace ark::segment_format
