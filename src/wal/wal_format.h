// WAL on-disk format constants. The byte layout is specified in
// docs/formats/wal.md; every number here is part of the format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ark::wal_format {

// ---- Segment file header (kSegmentHeaderSize bytes at offset 0) ----
//   0  magic          8 bytes  kSegmentMagic
//   8  version        u32      kFormatVersion
//  12  header_size    u32      kSegmentHeaderSize
//  16  epoch          u64      epoch of every record in this segment
//  24  first_lsn      u64      lsn of the first record this segment holds
//  32  header_check   u64      XXH3-64 of bytes [0, 32)
inline constexpr char kSegmentMagic[8] = {'\x89', 'A', 'R', 'K', 'W', 'A', 'L', '\n'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 40;

// ---- Record frame (kFrameHeaderSize bytes, then payload_length bytes) ----
//   0  payload_length u32      bytes of payload that follow the frame header
//   4  frame_type     u16      kFrameTypeRecord (0 is never valid: zero fill)
//   6  reserved       u16      0
//   8  sync_base_lsn  u64      highest lsn known durable when this frame was
//                              written (tells a torn tail from corruption)
//  16  payload_check  u64      XXH3-64 of the payload
//  24  header_check   u64      XXH3-64 of bytes [0, 24) of the frame header
inline constexpr size_t kFrameHeaderSize = 32;
inline constexpr uint16_t kFrameTypeRecord = 1;

// ---- Record payload ----
//   0  epoch              u64
//   8  lsn                u64
//  16  timestamp_micros   u64   wall clock, UTC microseconds
//  24  op                 u16   WalOp
//  26  reserved           u16   0
//  28  collection_id      u64
//  36  body               payload_length - 36 bytes
inline constexpr size_t kPayloadFixedSize = 36;

// Largest payload a frame may carry (256 MiB). Append rejects larger bodies
// with InvalidArgument; a reader treats a larger length as damage.
inline constexpr uint32_t kMaxPayloadSize = 256u << 20;
inline constexpr size_t kMaxBodySize = kMaxPayloadSize - kPayloadFixedSize;

// ---- Segment file names: "<epoch: 16 lowercase hex>-<first lsn: 20 decimal>.wal" ----
// Lexicographic order of names == (epoch, first_lsn) order.
inline constexpr std::string_view kSegmentSuffix = ".wal";
inline constexpr size_t kSegmentNameSize = 16 + 1 + 20 + 4;

struct SegmentName {
  uint64_t epoch = 0;
  uint64_t first_lsn = 0;
};

std::string SegmentFileName(uint64_t epoch, uint64_t first_lsn);
// nullopt if `name` is not a segment file name (other files are ignored).
std::optional<SegmentName> ParseSegmentFileName(std::string_view name);

}  // namespace ark::wal_format
