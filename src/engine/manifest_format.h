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
// 6: segments may carry "rowLsn" (imported by a restore into a running server).
inline constexpr uint32_t kVersion = 6;
inline constexpr uint32_t kMinVersion = 1;  // still read
// magic(8) version(4) flags(4) body_length(8) body_xxh3(8)
inline constexpr uint32_t kHeaderSize = 32;
// MANIFEST-<version as 16 decimal digits>
inline constexpr std::string_view kFilePrefix = "MANIFEST-";
// A restore into the running server stages its download in <dir>/restore-staging-<hex>
// (dr/backup/restore_into_server.h); Database::Open removes what a crash left.
inline constexpr std::string_view kRestoreStagingPrefix = "restore-staging-";
inline constexpr std::string_view kCurrentFile = "CURRENT";
inline constexpr std::string_view kLockFile = "LOCK";
inline constexpr std::string_view kFilesDir = "files";  // content-addressed files
inline constexpr std::string_view kWalDir = "wal";

}  // namespace ark::manifest_format
