// Constants of the index file format (docs/formats/index.md).
//
// An index file is Ark's fixed 80-byte header followed by the library's own
// serialization of the index (the payload). All integers little-endian.
//
//   off size field
//     0    8 magic "ARKINDEX"
//     8    4 format version (kIndexFormatVersion)
//    12    4 header size (kIndexHeaderSize)
//    16    1 index type (IndexType), 17: metric (Metric), 18: library, 19: 0
//    20    4 dimension
//    24    8 row count
//    32   20 params: M, efConstruction, nlist, PQ m, PQ nbits (u32 each)
//    52    4 version 1: reserved, 0; version 2 (HNSW_SQ): sq_type (u8),
//            refine (u8 0/1), refine_type (u8), 0 (u8)
//    56    8 payload size
//    64    8 XXH3-64 of the payload
//    72    8 XXH3-64 of header bytes [0, 72)
//    80    . payload
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ark {

inline constexpr std::string_view kIndexMagic = "ARKINDEX";
// The newest version this binary reads. Writers use the lowest version that
// can express the index (kIndexFormatVersionForSq for HNSW_SQ, 1 otherwise),
// so files of the older types stay byte-identical and readable by older
// binaries.
inline constexpr uint32_t kIndexFormatVersion = 2;
inline constexpr uint32_t kIndexFormatVersionForSq = 2;
inline constexpr uint32_t kIndexHeaderSize = 80;

inline constexpr size_t kIndexOffsetVersion = 8;
inline constexpr size_t kIndexOffsetHeaderSize = 12;
inline constexpr size_t kIndexOffsetType = 16;
inline constexpr size_t kIndexOffsetMetric = 17;
inline constexpr size_t kIndexOffsetLibrary = 18;
inline constexpr size_t kIndexOffsetDim = 20;
inline constexpr size_t kIndexOffsetRows = 24;
inline constexpr size_t kIndexOffsetParams = 32;
inline constexpr size_t kIndexOffsetSqParams = 52;  // version 2
inline constexpr size_t kIndexOffsetPayloadSize = 56;
inline constexpr size_t kIndexOffsetPayloadChecksum = 64;
inline constexpr size_t kIndexOffsetHeaderChecksum = 72;

// Which library wrote the payload (byte 18).
enum class IndexLibrary : uint8_t {
  kFaiss = 1,    // faiss::write_index (FAISS 1.7.3 layout)
  kHnswlib = 2,  // hnswlib 0.6.2 saveIndex layout
};

}  // namespace ark
