// Hashing: SHA-256 names content-addressed files; XXH3-64 checksums records
// and columns (fast, not cryptographic).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ark {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(const void* data, size_t size);
inline Sha256Digest Sha256(std::string_view s) { return Sha256(s.data(), s.size()); }
// 64 lowercase hex characters.
std::string ToHex(const Sha256Digest& digest);
std::string ToHex(const void* data, size_t size);
// Parses 64 hex characters; InvalidArgument otherwise.
Result<Sha256Digest> Sha256FromHex(std::string_view hex);
// True if `s` is 64 lowercase hex characters (a valid content address).
bool IsSha256Hex(std::string_view s);

// Incremental SHA-256 for streams. Not thread-safe.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  Sha256Digest Finish();  // the hasher may not be used afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

uint64_t Xxh3_64(const void* data, size_t size, uint64_t seed = 0);
inline uint64_t Xxh3_64(std::string_view s) { return Xxh3_64(s.data(), s.size()); }

}  // namespace ark
