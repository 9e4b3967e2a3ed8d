// Key handling of an encrypted backup repository
// (docs/formats/backup-repository.md, "Keys").
//
// A 32-byte master key comes from a key file or from a passphrase stretched
// with scrypt; HKDF-SHA256 turns it into independent subkeys, one per use,
// so that no key ever serves two purposes. Key bytes never appear in a
// Status message; SecretKey wipes itself when destroyed.
//
// Every function here is thread-safe (no shared state).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/env.h"

namespace ark::dr {

inline constexpr size_t kKeySize = 32;    // AES-256, HMAC-SHA256 keys
inline constexpr size_t kNonceSize = 12;  // AES-GCM nonce
inline constexpr size_t kTagSize = 16;    // AES-GCM tag

// 32 secret bytes, wiped (OPENSSL_cleanse) on destruction.
class SecretKey {
 public:
  SecretKey() { bytes_.fill(0); }
  ~SecretKey();
  SecretKey(const SecretKey& other) = default;
  SecretKey& operator=(const SecretKey& other) = default;
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }

 private:
  std::array<uint8_t, kKeySize> bytes_;
};

// The subkeys of a repository (HKDF-SHA256 of the master key, salt = the
// repository's salt, info = the label given for each).
struct RepositoryKeys {
  SecretKey data;      // "ark blob data v1": AES-256-GCM of blob chunks
  SecretKey name;      // "ark blob name v1": HMAC naming blobs
  SecretKey check;     // "ark key check v1": HMAC of the repository id (keyCheckHex)
  SecretKey document;  // "ark document v1": AES-256-GCM of documents
};

// Reads a key file: exactly 32 raw bytes, or 64 hex characters optionally
// followed by one newline. InvalidArgument naming the file (never its
// content) for anything else or if it cannot be read.
Result<SecretKey> ReadKeyFile(Env* env, const std::string& path);

// scrypt(passphrase, salt, n, r, p) -> 32 bytes. InvalidArgument for costs
// OpenSSL refuses.
Result<SecretKey> ScryptKey(std::string_view passphrase, std::string_view salt, uint64_t n,
                            uint32_t r, uint32_t p);

// The subkeys of `master` for a repository with `salt`.
Result<RepositoryKeys> DeriveRepositoryKeys(const SecretKey& master, std::string_view salt);

// HMAC-SHA256(key, data), 32 raw bytes.
std::string HmacSha256(const SecretKey& key, std::string_view data);

// Cryptographically random bytes (OpenSSL RAND_bytes). Internal if the
// generator fails.
Result<std::string> RandomBytes(size_t n);

// AES-256-GCM. Seal appends ciphertext (same length as plain) and the
// 16-byte tag to *out. Open checks the tag and appends the plaintext to
// *out; false if the tag (or anything it covers) does not match.
Status AesGcmSeal(const SecretKey& key, const uint8_t nonce[kNonceSize], std::string_view aad,
                  std::string_view plain, std::string* out);
bool AesGcmOpen(const SecretKey& key, const uint8_t nonce[kNonceSize], std::string_view aad,
                std::string_view ciphertext, const uint8_t tag[kTagSize], std::string* out);

// Constant-time equality of two byte strings of the same length.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace ark::dr
