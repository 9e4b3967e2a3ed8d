// Constants of the manifest and CURRENT files. Specification:
// docs/formats/manifest.md. Never change a value; add a new version instead.
#pragma once

#include <cstdint>
#include <string_view>

namespace ark::manifest_format {

inline constexpr char kMagic[8] = {'A', 'R', 'K', 'M', 'A', 'N', 'I', 'F'};
// 1: initial. 2: collections carry "indexes" (index definitions).
// 3: collections carry "partitions" and "nextPartitionId".
// 4: "retired" files held for WAL consumers.
// 5: collections carry "properties" and "loadState".
inline constexpr uint32_t kVersion = 5;
inline constexpr uint32_t kMinVersion = 1;  // still read
// magic(8) version(4) flags(4) body_length(8) body_xxh3(8)
inline constexpr uint32_t kHeaderSize = 32;
// MANIFEST-<version as 16 decimal digits>
inline constexpr std::string_view kFilePrefix = "MANIFEST-";
inline constexpr std::string_view kCurrentFile = "CURRENT";
inline constexpr std::string_view kLockFile = "LOCK";
inline constexpr std::string_view kFilesDir = "files";  // content-addressed files
inline constexpr std::string_view kWalDir = "wal";

}  // namespace ark::manifest_format
