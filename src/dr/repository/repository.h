// Repository: a backup repository in an ObjectStore (docs/formats/backup-repository.md).
//
//   ark-repo.json            descriptor: format version, compression, encryption
//                            parameters (never the key), a key check
//   blobs/<id[0:2]>/<id>     content-addressed blobs (chunked, zstd or raw,
//                            optionally AES-256-GCM)
//   backups/<name>.json      one document per backup, written last: the commit point
//   locks/<owner>.json       leases (backup in progress / prune) with an expiry
//                            (the records of dr/lease/lease.h; RepositoryLeaseTable)
//   wal/                     archived WAL (a later issue)
//
// A blob's *content hash* is the SHA-256 of its plaintext (the same hex name
// the engine gives the file in its data directory, so a backup uploads only
// what the repository lacks). Its *blob id* is that hash when the repository
// is not encrypted, and HMAC-SHA256(name key, hash) when it is — so an
// encrypted repository does not reveal which known files it holds.
//
// Every read is checked: the blob header, each chunk's length, the GCM tag
// when encrypted, and the SHA-256 of the whole plaintext against the content
// hash asked for. A failed check is Corruption naming the store, the blob id
// and the content hash; nothing is written to the destination then.
//
// Local files (blobs read for upload, downloads, a key file) and the clock
// (the descriptor's creation time) go through the Env given to Init/Open,
// which the Repository keeps: backup, prune and verify take their clock from
// repo->env() too.
//
// Thread-safety: after Open, every method may be called from several threads
// at once (backup uploads blobs in parallel).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dr/lease/lease.h"
#include "storage/env.h"
#include "storage/object_store.h"

namespace ark::dr {

// Where the encryption key comes from. At most one of the two is set; both
// empty = no key (an encrypted repository then fails to open with a message
// saying it is encrypted and which option supplies the key).
struct EncryptionKey {
  std::string key_file;    // 32 raw bytes, or 64 hex characters (+ optional newline)
  std::string passphrase;  // stretched with scrypt (salt and cost in the descriptor)
  bool empty() const { return key_file.empty() && passphrase.empty(); }
};

struct RepositoryInitOptions {
  std::string compression = "zstd";  // "zstd" or "none"
  int zstd_level = 3;                // 1..19
  uint32_t chunk_size = 4u << 20;    // plaintext bytes per chunk (64 KiB .. 64 MiB)
  bool encrypt = false;              // requires a key (EncryptionKey not empty)
  // scrypt cost for a passphrase (N a power of two; r, p >= 1).
  uint64_t scrypt_n = 1u << 15;
  uint32_t scrypt_r = 8;
  uint32_t scrypt_p = 1;
};

struct RepositoryDescriptor {
  uint32_t format_version = 1;
  std::string repository_id;      // 32 random hex characters
  uint64_t created_micros = 0;
  std::string compression;        // "zstd" | "none"
  int zstd_level = 3;
  uint32_t chunk_size = 0;
  std::string encryption;         // "none" | "aes-256-gcm"
  std::string key_derivation;     // "" | "key-file" | "scrypt"
  uint64_t scrypt_n = 0;
  uint32_t scrypt_r = 0;
  uint32_t scrypt_p = 0;
  std::string salt_hex;           // scrypt salt (32 hex chars)
  std::string key_check_hex;      // HMAC proving a key is the right one (not the key)
};

// Result of storing one blob.
struct BlobStat {
  std::string content_hash;  // SHA-256 hex of the plaintext
  std::string blob_id;       // object name under blobs/
  uint64_t size = 0;         // plaintext bytes
  uint64_t stored_size = 0;  // bytes in the store (after compression/encryption)
  bool existed = false;      // already present: nothing uploaded
};

// Progress and cancellation for long transfers. on_bytes is called with the
// plaintext bytes processed since the last call; cancelled, when set and
// true, makes the transfer stop with Status::Cancelled (nothing becomes
// visible).
struct TransferControl {
  std::function<void(uint64_t)> on_bytes;
  const std::atomic<bool>* cancelled = nullptr;
};

// Backup names: 1..128 characters of [A-Za-z0-9._-], not starting with '.'
// or '-' (so a name can never leave the backups/ prefix). InvalidArgument
// naming the problem otherwise.
Status ValidateBackupName(std::string_view name);

class Repository {
 public:
  // Creates a repository in `store`: writes ark-repo.json (if-absent where the
  // store supports it). AlreadyExists if a descriptor is there already;
  // InvalidArgument for bad options (encrypt without a key, a key with
  // encrypt=false, bad level/chunk/scrypt cost, unreadable or malformed key file).
  // `env` (files: the key file; the clock) must outlive the call.
  static Status Init(Env* env, ObjectStore* store, const RepositoryInitOptions& options,
                     const EncryptionKey& key);
  // Reads and validates the descriptor (Corruption naming the field if it is
  // malformed; NotSupported for a newer format version; NotFound "no
  // repository at <store>" if absent), derives the keys and checks them
  // against key_check (PermissionDenied "wrong encryption key for <store>").
  // `env` and `store` must outlive the Repository.
  static Result<std::unique_ptr<Repository>> Open(Env* env, ObjectStore* store, const EncryptionKey& key);

  ~Repository();
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;

  ObjectStore* store() const;
  Env* env() const;  // local files and the clock, for everything done on this repository
  const RepositoryDescriptor& descriptor() const;
  bool encrypted() const;

  // The blob id of a content hash (see top) and its object key "blobs/ab/<id>".
  std::string BlobId(const std::string& content_hash) const;
  static std::string BlobKey(const std::string& blob_id);

  // Every blob in the store: blob id -> (stored size, mtime).
  struct StoredBlob {
    uint64_t stored_size = 0;
    uint64_t mtime_micros = 0;
  };
  Result<std::map<std::string, StoredBlob>> ListBlobs();

  // Stores a local file as the blob of `content_hash`, unless a blob with that
  // id is already present (then existed = true and nothing is read). The file
  // is read once, chunk by chunk (memory bounded by a few chunks); its SHA-256
  // is checked against content_hash before the object becomes visible
  // (Corruption naming the path otherwise). Each chunk is stored zstd-compressed
  // if that saves at least 1/32 of it, raw otherwise.
  Result<BlobStat> PutBlobFromFile(const std::string& content_hash, const std::string& local_path,
                                   const TransferControl& control = {});
  // The same for an open file (a database's file by hash, from the DR seam).
  Result<BlobStat> PutBlobFromReader(const std::string& content_hash, std::unique_ptr<RandomAccessFile> file,
                                     const TransferControl& control = {});
  // The same for bytes in memory (WAL tails, small files).
  Result<BlobStat> PutBlob(const std::string& content_hash, std::string_view content,
                           const TransferControl& control = {});

  // Fetches the blob of `content_hash`, checks everything (see top) and writes
  // the plaintext to `local_path` atomically (temp file, fsync, rename, fsync
  // dir). On any error `local_path` is untouched. NotFound naming the blob if absent.
  Status GetBlobToFile(const std::string& content_hash, const std::string& local_path,
                       const TransferControl& control = {});
  Result<std::string> GetBlob(const std::string& content_hash, const TransferControl& control = {});

  // Full: reads and checks the blob as GetBlob does and that its plaintext is
  // `size` bytes. Quick: the object exists and has `stored_size` bytes.
  Status VerifyBlob(const std::string& content_hash, uint64_t size, uint64_t stored_size,
                    bool quick, const TransferControl& control = {});

  Status DeleteBlobs(const std::vector<std::string>& blob_ids);

  // Small JSON documents (backup manifests, leases) at `key`, encrypted and
  // authenticated when the repository is. if_absent: AlreadyExists if the key
  // exists (atomic where the store supports it, else checked with Head first).
  Status PutDocument(const std::string& key, const nlohmann::json& doc, bool if_absent = false);
  // NotFound if absent; Corruption naming the key if it does not decode.
  Result<nlohmann::json> GetDocument(const std::string& key);

  // ---- leases (locks/<owner>.json) -------------------------------------------
  // The storage of lease records (dr/lease/lease.h: acquire, renew and
  // expiry live there; RepositoryLeaseTable adapts these three methods).
  // Backups take kind "backup", prune takes kind "prune"; see docs for the
  // protocol.
  using Lease = LeaseRecord;
  // Writes (or renews) this lease.
  Status PutLease(const Lease& lease);
  Status DeleteLease(const std::string& owner);
  // Every lease, expired ones included (callers compare expires with now).
  Result<std::vector<Lease>> ListLeases();

 private:
  struct Impl;
  explicit Repository(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ark::dr
