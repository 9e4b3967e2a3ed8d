#include "core/hash.h"

#include <openssl/evp.h>
#include <xxhash.h>

namespace ark {

Sha256Digest Sha256(const void* data, size_t size) {
  Sha256Hasher h;
  h.Update(data, size);
  return h.Finish();
}

std::string ToHex(const void* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string ToHex(const Sha256Digest& d) { return ToHex(d.data(), d.size()); }

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (HexValue(c) < 0) return false;
  }
  return true;
}

Result<Sha256Digest> Sha256FromHex(std::string_view hex) {
  if (!IsSha256Hex(hex)) {
    // Built with append: GCC 12 at -O3 reports a false -Wrestrict for
    // "literal" + std::string here.
    std::string message = "'";
    message.append(hex.substr(0, 80));
    message.append("' is not a SHA-256 (64 lowercase hex characters)");
    return Status::InvalidArgument(std::move(message));
  }
  Sha256Digest d;
  for (size_t i = 0; i < 32; ++i) {
    d[i] = static_cast<uint8_t>(HexValue(hex[2 * i]) << 4 | HexValue(hex[2 * i + 1]));
  }
  return d;
}

struct Sha256Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256Hasher::Update(const void* data, size_t size) {
  EVP_DigestUpdate(impl_->ctx, data, size);
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, d.data(), &len);
  return d;
}

uint64_t Xxh3_64(const void* data, size_t size, uint64_t seed) {
  return XXH3_64bits_withSeed(data, size, seed);
}

}  // namespace ark
