// Reading and writing the WAL slots file (<wal dir>/SLOTS): the durable
// slots of one WAL directory. Layout: docs/formats/slots.md; constants:
// wal/slots_format.h. Used by the Wal only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/env.h"
#include "wal/wal.h"

namespace ark {

// True for 1..64 characters of [A-Za-z0-9._-].
bool IsValidWalSlotName(std::string_view name);

// The file's bytes for `slots` (retained_bytes is not stored).
std::string EncodeWalSlotsFile(const std::vector<WalSlotInfo>& slots);
// Corruption naming `path` (and the offset where it applies) for a bad magic,
// length, checksum, JSON or field; NotSupported for a newer version.
Result<std::vector<WalSlotInfo>> DecodeWalSlotsFile(std::string_view bytes,
                                                    const std::string& path);

// Reads <dir>/SLOTS; no file = no slots.
Result<std::vector<WalSlotInfo>> ReadWalSlotsFile(Env* env, const std::string& dir);
// Replaces <dir>/SLOTS: SLOTS.tmp, fsync, rename, fsync the directory.
Status WriteWalSlotsFile(Env* env, const std::string& dir,
                         const std::vector<WalSlotInfo>& slots);

}  // namespace ark
