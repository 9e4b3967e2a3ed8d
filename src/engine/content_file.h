// Content-addressed files: immutable files named by the SHA-256 of their bytes.
//
// Segment, tombstone (and later index) files live flat in <data dir>/files/
// under their 64-hex-character name. Because the name is the hash, writing the
// same content twice is a no-op and a copy elsewhere can be verified by
// re-hashing. Thread-safe (stateless).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/env.h"

namespace ark {

// Writes `content` durably as <dir>/<sha256 hex>: write <hex>.tmp, fsync,
// rename, fsync the directory. Returns the hex name. If the file already
// exists with that name, nothing is written.
Result<std::string> WriteContentAddressedFile(Env* env, const std::string& dir,
                                              std::string_view content);

// Reads <path> and checks that its SHA-256 equals its base name; Corruption
// naming the file and both hashes otherwise.
Status VerifyContentAddressedFile(Env* env, const std::string& path);

}  // namespace ark
