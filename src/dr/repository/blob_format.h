// Constants of the blob object format (docs/formats/backup-repository.md,
// "Blob format"). Little-endian throughout.
//
//   header (48 bytes)
//     0  magic "ARKBLOB\n"
//     8  u32 format version (1)
//    12  u32 flags (bit 0: encrypted)
//    16  u32 chunk size (plaintext bytes per chunk but the last)
//    20  u32 reserved (0)
//    24  u64 plaintext size
//    32  12-byte nonce base (zero when not encrypted)
//    44  u32 low 32 bits of XXH3-64(bytes 0..43)
//   chunks, at least one; the last has the "last" flag and ends the object
//     0  u8 mode (0 raw, 1 zstd)
//     1  u8 flags (bit 0: last chunk)
//     2  u16 reserved (0)
//     4  u32 stored length (payload bytes)
//     8  u32 plaintext length
//    12  payload
//     then 16-byte AES-GCM tag (encrypted) or u64 XXH3-64 (seed = chunk
//     index) of the chunk header and payload (not encrypted)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ark::dr {

inline constexpr std::string_view kBlobMagic = "ARKBLOB\n";
inline constexpr uint32_t kBlobFormatVersion = 1;
inline constexpr uint32_t kBlobFlagEncrypted = 1;
inline constexpr size_t kBlobHeaderSize = 48;
inline constexpr size_t kBlobNonceOffset = 32;

inline constexpr uint8_t kChunkModeRaw = 0;
inline constexpr uint8_t kChunkModeZstd = 1;
inline constexpr uint8_t kChunkFlagLast = 1;
inline constexpr size_t kChunkHeaderSize = 12;
inline constexpr size_t kChunkChecksumSize = 8;  // unencrypted chunks

// Chunk sizes a repository (and a blob header) may use.
inline constexpr uint32_t kMinChunkSize = 64u << 10;
inline constexpr uint32_t kMaxChunkSize = 64u << 20;

// Encrypted documents: magic, 12-byte nonce, ciphertext, 16-byte tag.
inline constexpr std::string_view kDocumentMagic = "ARKDOC1\n";

}  // namespace ark::dr
