#include "dr/repository/repository_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>

#include "storage/env.h"

namespace ark::dr {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

}  // namespace

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<SecretKey> ReadKeyFile(Env* env, const std::string& path) {
  std::string content;
  Status s = env->ReadFileToString(path, &content);
  auto wipe = [&] { OPENSSL_cleanse(content.data(), content.size()); };
  if (!s.ok()) {
    // The read error names the path and the cause; it holds no key bytes.
    return Status::InvalidArgument("cannot read key file " + path + ": " + s.message());
  }
  SecretKey key;
  if (content.size() == kKeySize) {
    std::memcpy(key.data(), content.data(), kKeySize);
    wipe();
    return key;
  }
  std::string_view hex(content);
  if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
  bool ok = hex.size() == 2 * kKeySize;
  for (size_t i = 0; ok && i < kKeySize; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) ok = false;
    else key.data()[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  size_t size = content.size();
  wipe();
  if (!ok) {
    return Status::InvalidArgument("key file " + path +
                                   ": expected 32 raw bytes or 64 hex characters (optionally "
                                   "followed by a newline), found " +
                                   std::to_string(size) + " bytes of another form");
  }
  return key;
}

Result<SecretKey> ScryptKey(std::string_view passphrase, std::string_view salt, uint64_t n,
                            uint32_t r, uint32_t p) {
  SecretKey key;
  // scrypt needs about 128 * r * N * p bytes; allow that plus slack instead
  // of OpenSSL's 32 MiB default, which the default cost (N=2^15, r=8) exceeds.
  uint64_t maxmem = 128ull * r * (n + p) + (64ull << 20);
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n, r, p,
                     maxmem, key.data(), kKeySize) != 1) {
    return Status::InvalidArgument("scrypt refused the cost N=" + std::to_string(n) +
                                   " r=" + std::to_string(r) + " p=" + std::to_string(p));
  }
  return key;
}

namespace {

Status Hkdf(const SecretKey& master, std::string_view salt, std::string_view info,
            SecretKey* out) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  size_t len = kKeySize;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), reinterpret_cast<const unsigned char*>(salt.data()),
                                  static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), master.data(), kKeySize) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const unsigned char*>(info.data()),
                                  static_cast<int>(info.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), out->data(), &len) != 1 || len != kKeySize) {
    return Status::Internal("HKDF-SHA256 failed for \"" + std::string(info) + "\"");
  }
  return Status::OK();
}

}  // namespace

Result<RepositoryKeys> DeriveRepositoryKeys(const SecretKey& master, std::string_view salt) {
  RepositoryKeys keys;
  ARK_RETURN_IF_ERROR(Hkdf(master, salt, "ark blob data v1", &keys.data));
  ARK_RETURN_IF_ERROR(Hkdf(master, salt, "ark blob name v1", &keys.name));
  ARK_RETURN_IF_ERROR(Hkdf(master, salt, "ark key check v1", &keys.check));
  ARK_RETURN_IF_ERROR(Hkdf(master, salt, "ark document v1", &keys.document));
  return keys;
}

std::string HmacSha256(const SecretKey& key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), kKeySize, reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Status::Internal("the random number generator failed");
  }
  return out;
}

Status AesGcmSeal(const SecretKey& key, const uint8_t nonce[kNonceSize], std::string_view aad,
                  std::string_view plain, std::string* out) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  size_t start = out->size();
  out->resize(start + plain.size() + kTagSize);
  auto* dst = reinterpret_cast<unsigned char*>(out->data() + start);
  int len = 0, final_len = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) == 1;
  ok = ok && (aad.empty() ||
              EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                                reinterpret_cast<const unsigned char*>(aad.data()),
                                static_cast<int>(aad.size())) == 1);
  ok = ok && EVP_EncryptUpdate(ctx.get(), dst, &len,
                               reinterpret_cast<const unsigned char*>(plain.data()),
                               static_cast<int>(plain.size())) == 1;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), dst + len, &final_len) == 1 &&
       static_cast<size_t>(len + final_len) == plain.size();
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                                 dst + plain.size()) == 1;
  if (!ok) {
    out->resize(start);
    return Status::Internal("AES-256-GCM encryption failed");
  }
  return Status::OK();
}

bool AesGcmOpen(const SecretKey& key, const uint8_t nonce[kNonceSize], std::string_view aad,
                std::string_view ciphertext, const uint8_t tag[kTagSize], std::string* out) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  size_t start = out->size();
  out->resize(start + ciphertext.size());
  auto* dst = reinterpret_cast<unsigned char*>(out->data() + start);
  int len = 0, final_len = 0;
  unsigned char tag_copy[kTagSize];
  std::memcpy(tag_copy, tag, kTagSize);
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) == 1;
  ok = ok && (aad.empty() ||
              EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                                reinterpret_cast<const unsigned char*>(aad.data()),
                                static_cast<int>(aad.size())) == 1);
  ok = ok && EVP_DecryptUpdate(ctx.get(), dst, &len,
                               reinterpret_cast<const unsigned char*>(ciphertext.data()),
                               static_cast<int>(ciphertext.size())) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag_copy) == 1;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), dst + len, &final_len) == 1;
  if (!ok) {
    // Never hand out plaintext that failed authentication.
    OPENSSL_cleanse(dst, ciphertext.size());
    out->resize(start);
  }
  return ok;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ark::dr
