// Index files on disk: VectorIndex::Serialize() bytes written durably through
// Env, and read back with full verification (docs/formats/index.md).
//
// Index files are content-addressed: the caller names the file by the SHA-256
// of its bytes (IndexFileName) and lists it in the manifest, so a file is
// written once and never changes. Thread-safe (Env is).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "index/vector_index.h"
#include "storage/env.h"

namespace ark {

// "<sha256 hex of bytes>.idx": the content address of serialized index bytes.
std::string IndexFileName(std::string_view bytes);

// Writes `bytes` (from VectorIndex::Serialize) to `path`: temp file, fsync,
// rename, fsync of the directory. Readers see the whole file or none.
Status WriteIndexFile(Env* env, const std::string& path, std::string_view bytes);

// Reads and loads the index at `path`. Corruption naming the path (and offset)
// for a bad magic, checksum or payload; NotFound if it does not exist.
Result<std::unique_ptr<VectorIndex>> ReadIndexFile(Env* env, const std::string& path);

}  // namespace ark
