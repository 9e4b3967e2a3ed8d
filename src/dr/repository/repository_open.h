// Opening a backup repository from what users type: a URL (a directory,
// file:///path or s3://bucket/prefix?endpoint=..., docs/object-storage.md)
// and where the key comes from (--key-file, --passphrase-file, or the
// ARK_BACKUP_PASSPHRASE environment variable). Shared by the CLI, the
// server's admin API and its schedules.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "dr/repository/repository.h"
#include "storage/env.h"
#include "storage/object_store.h"

namespace ark::dr {

struct OpenedRepository {
  std::unique_ptr<ObjectStore> store;
  std::unique_ptr<Repository> repo;  // refers to *store
};

// The key from a key file or a passphrase file (its first line), else from
// $ARK_BACKUP_PASSPHRASE, else none. InvalidArgument if both files are given
// or the passphrase file is unreadable or empty (the message names the file,
// never its content).
// The passphrase file is read through `env`.
Result<EncryptionKey> KeyFromOptions(Env* env, const std::string& key_file, const std::string& passphrase_file);

// Opens the repository at `url`. With create, a location without a
// repository gets one (`init` options) — the first backup creates it. The
// repository keeps `env` (its local files and clock; it must outlive it).
Result<OpenedRepository> OpenRepositoryUrl(Env* env, const std::string& url, const EncryptionKey& key, bool create,
                                           const RepositoryInitOptions& init = {});

}  // namespace ark::dr
