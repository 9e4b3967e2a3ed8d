#include "dr/repository/blob_codec.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "core/coding.h"
#include "dr/repository/blob_format.h"

namespace ark::dr {
namespace {

uint32_t HeaderChecksum(std::string_view header) {
  return static_cast<uint32_t>(Xxh3_64(header.data(), kBlobHeaderSize - 4));
}

// Nonce of chunk `index`: the blob's nonce base with its last 8 bytes XORed
// with the index, so no two chunks of a blob share a nonce.
void ChunkNonce(std::string_view header, uint64_t index, uint8_t nonce[kNonceSize]) {
  std::memcpy(nonce, header.data() + kBlobNonceOffset, kNonceSize);
  for (int i = 0; i < 8; ++i) nonce[4 + i] ^= static_cast<uint8_t>(index >> (8 * i));
}

// The data a chunk's GCM tag covers besides its payload: the whole blob
// header, the content digest the blob must hold (so a chunk, or a whole
// object, moved to another blob fails), the chunk index (reordering) and the
// chunk header (mode, lengths and the "last" flag: truncation).
std::string ChunkAad(std::string_view header, const Sha256Digest& content, uint64_t index,
                     std::string_view chunk_header) {
  std::string aad(header);
  aad.append(reinterpret_cast<const char*>(content.data()), content.size());
  PutFixed64(&aad, index);
  aad.append(chunk_header);
  return aad;
}

}  // namespace

struct BlobEncoder::ZstdContexts {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~ZstdContexts() { ZSTD_freeCCtx(cctx); }
};

struct BlobDecoder::ZstdContext {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~ZstdContext() { ZSTD_freeDCtx(dctx); }
};

BlobEncoder::~BlobEncoder() = default;

Result<std::unique_ptr<BlobEncoder>> BlobEncoder::Create(const SecretKey* data_key,
                                                         const Sha256Digest& content,
                                                         uint32_t chunk_size, uint64_t size,
                                                         int zstd_level) {
  std::unique_ptr<BlobEncoder> e(new BlobEncoder());
  e->key_ = data_key;
  e->content_ = content;
  e->chunk_size_ = chunk_size;
  e->size_ = size;
  e->level_ = zstd_level;
  if (zstd_level > 0) e->zstd_ = std::make_unique<ZstdContexts>();
  std::string& h = e->header_;
  h.append(kBlobMagic);
  PutFixed32(&h, kBlobFormatVersion);
  PutFixed32(&h, data_key ? kBlobFlagEncrypted : 0);
  PutFixed32(&h, chunk_size);
  PutFixed32(&h, 0);
  PutFixed64(&h, size);
  if (data_key) {
    // A fresh random nonce base per blob: the same content uploaded twice
    // never reuses a (key, nonce) pair.
    ARK_ASSIGN_OR_RETURN(std::string nonce, RandomBytes(kNonceSize));
    h.append(nonce);
  } else {
    h.append(kNonceSize, '\0');
  }
  PutFixed32(&h, HeaderChecksum(h));
  return e;
}

uint64_t BlobEncoder::NextChunkSize() const {
  return done_ ? 0 : std::min<uint64_t>(chunk_size_, size_ - encoded_);
}

namespace {
constexpr size_t kProbeBytes = 64 << 10;
}  // namespace

Status BlobEncoder::EncodeChunk(std::string_view plain, std::string* out) {
  if (done_ || plain.size() != NextChunkSize()) {
    return Status::Internal("blob encoder: chunk " + std::to_string(index_) + " of " +
                            std::to_string(plain.size()) + " bytes, expected " +
                            std::to_string(NextChunkSize()));
  }
  const bool last = encoded_ + plain.size() == size_;
  // Keep zstd's output only if it saves at least 1/32 of the chunk: vectors
  // of floats barely compress, and raw chunks decode for free.
  std::string_view payload = plain;
  uint8_t mode = kChunkModeRaw;
  // First a probe: compress the chunk's first 64 KiB; unless that saves at
  // least 1/8, the chunk is stored raw without compressing the rest. Float
  // vectors save 5-10% at a cost of ~3 ns/byte (zstd level 3, about a third
  // of a local backup's throughput, docs/benchmarks/backup.md); JSON, text,
  // tombstones and manifests save far more and are compressed.
  bool worth_trying = zstd_ && !plain.empty();
  if (worth_trying) {
    const size_t probe = std::min(plain.size(), kProbeBytes);
    scratch_.resize(ZSTD_compressBound(probe));
    size_t n = ZSTD_compressCCtx(zstd_->cctx, scratch_.data(), scratch_.size(), plain.data(), probe,
                                 std::min(level_, 1));
    if (ZSTD_isError(n)) {
      return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
    }
    worth_trying = n <= probe - probe / 8;
  }
  if (worth_trying) {
    scratch_.resize(ZSTD_compressBound(plain.size()));
    size_t n = ZSTD_compressCCtx(zstd_->cctx, scratch_.data(), scratch_.size(), plain.data(),
                                 plain.size(), level_);
    if (ZSTD_isError(n)) {
      return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
    }
    if (n <= plain.size() - plain.size() / 32) {
      payload = std::string_view(scratch_.data(), n);
      mode = kChunkModeZstd;
    }
  }
  std::string chunk_header;
  chunk_header.push_back(static_cast<char>(mode));
  chunk_header.push_back(static_cast<char>(last ? kChunkFlagLast : 0));
  PutFixed16(&chunk_header, 0);
  PutFixed32(&chunk_header, static_cast<uint32_t>(payload.size()));
  PutFixed32(&chunk_header, static_cast<uint32_t>(plain.size()));
  size_t start = out->size();
  out->append(chunk_header);
  if (key_) {
    uint8_t nonce[kNonceSize];
    ChunkNonce(header_, index_, nonce);
    ARK_RETURN_IF_ERROR(
        AesGcmSeal(*key_, nonce, ChunkAad(header_, content_, index_, chunk_header), payload, out));
  } else {
    out->append(payload);
    PutFixed64(out, Xxh3_64(out->data() + start, out->size() - start, index_));
  }
  encoded_ += plain.size();
  ++index_;
  done_ = last;
  return Status::OK();
}

BlobDecoder::BlobDecoder(const SecretKey* data_key, const Sha256Digest& content, std::string what,
                         Sink sink)
    : key_(data_key),
      content_(content),
      what_(std::move(what)),
      sink_(std::move(sink)),
      zstd_(std::make_unique<ZstdContext>()) {}

BlobDecoder::~BlobDecoder() = default;

Status BlobDecoder::Error(uint64_t offset, const std::string& problem) const {
  return Status::Corruption(what_ + ": offset " + std::to_string(offset) + ": " + problem);
}

Status BlobDecoder::Feed(std::string_view bytes) {
  buf_.append(bytes);
  auto consume = [&](size_t n) {
    buf_.erase(0, n);
    buf_offset_ += n;
  };
  for (;;) {
    if (!have_header_) {
      if (buf_.size() < kBlobHeaderSize) return Status::OK();
      ARK_RETURN_IF_ERROR(ParseHeader());
      consume(kBlobHeaderSize);
      continue;
    }
    if (buf_.empty()) return Status::OK();
    if (last_seen_) return Error(buf_offset_, "bytes after the last chunk");
    size_t consumed = 0;
    ARK_RETURN_IF_ERROR(DecodeChunk(&consumed));
    if (consumed == 0) return Status::OK();  // wait for the rest of the chunk
    consume(consumed);
  }
}

Status BlobDecoder::ParseHeader() {
  std::string_view h(buf_.data(), kBlobHeaderSize);
  if (h.substr(0, kBlobMagic.size()) != kBlobMagic) return Error(0, "not a blob (bad magic)");
  if (DecodeFixed32(h.data() + 44) != HeaderChecksum(h)) {
    return Error(44, "header checksum mismatch");
  }
  uint32_t version = DecodeFixed32(h.data() + 8);
  if (version != kBlobFormatVersion) {
    return Status::NotSupported(what_ + ": blob format version " + std::to_string(version) +
                                " (this build reads version 1)");
  }
  uint32_t flags = DecodeFixed32(h.data() + 12);
  if ((flags & ~kBlobFlagEncrypted) != 0 || DecodeFixed32(h.data() + 20) != 0) {
    return Error(12, "unknown flags or reserved bits set");
  }
  bool encrypted = (flags & kBlobFlagEncrypted) != 0;
  if (encrypted != (key_ != nullptr)) {
    return Error(12, encrypted ? "blob is encrypted but the repository is not"
                               : "blob is not encrypted but the repository is");
  }
  chunk_size_ = DecodeFixed32(h.data() + 16);
  if (chunk_size_ < kMinChunkSize || chunk_size_ > kMaxChunkSize) {
    return Error(16, "chunk size " + std::to_string(chunk_size_) + " out of range");
  }
  size_ = DecodeFixed64(h.data() + 24);
  header_.assign(h);
  have_header_ = true;
  return Status::OK();
}

Status BlobDecoder::DecodeChunk(size_t* consumed) {
  *consumed = 0;
  if (buf_.size() < kChunkHeaderSize) return Status::OK();
  const char* p = buf_.data();
  const uint64_t at = buf_offset_;
  uint8_t mode = static_cast<uint8_t>(p[0]);
  uint8_t flags = static_cast<uint8_t>(p[1]);
  uint32_t stored = DecodeFixed32(p + 4);
  uint32_t plain_len = DecodeFixed32(p + 8);
  const std::string chunk = "chunk " + std::to_string(index_);
  if ((mode != kChunkModeRaw && mode != kChunkModeZstd) || (flags & ~kChunkFlagLast) != 0 ||
      DecodeFixed16(p + 2) != 0) {
    return Error(at, chunk + ": bad mode, flags or reserved bits");
  }
  // Bound the lengths before buffering: a corrupt length must not make us
  // wait for (or allocate) gigabytes.
  uint64_t expect_plain = std::min<uint64_t>(chunk_size_, size_ - decoded_);
  bool expect_last = decoded_ + expect_plain == size_;
  if (plain_len != expect_plain || stored > chunk_size_ ||
      (mode == kChunkModeRaw && stored != plain_len)) {
    return Error(at, chunk + ": lengths stored " + std::to_string(stored) + " plaintext " +
                         std::to_string(plain_len) + " do not fit (expected plaintext " +
                         std::to_string(expect_plain) + ")");
  }
  if (((flags & kChunkFlagLast) != 0) != expect_last) {
    return Error(at, chunk + ": \"last chunk\" flag is wrong");
  }
  const size_t check = key_ ? kTagSize : kChunkChecksumSize;
  const size_t total = kChunkHeaderSize + stored + check;
  if (buf_.size() < total) return Status::OK();
  std::string_view chunk_header(p, kChunkHeaderSize);
  std::string_view payload(p + kChunkHeaderSize, stored);
  std::string decrypted;
  if (key_) {
    uint8_t nonce[kNonceSize];
    ChunkNonce(header_, index_, nonce);
    if (!AesGcmOpen(*key_, nonce, ChunkAad(header_, content_, index_, chunk_header), payload,
                    reinterpret_cast<const uint8_t*>(p + kChunkHeaderSize + stored),
                    &decrypted)) {
      return Error(at, chunk + ": authentication failed (damaged, or not this blob's data)");
    }
    payload = decrypted;
  } else if (Xxh3_64(p, kChunkHeaderSize + stored, index_) !=
             DecodeFixed64(p + kChunkHeaderSize + stored)) {
    return Error(at, chunk + ": checksum mismatch");
  }
  std::string_view plain = payload;
  if (mode == kChunkModeZstd) {
    plain_.resize(plain_len);
    size_t n = ZSTD_decompressDCtx(zstd_->dctx, plain_.data(), plain_.size(), payload.data(),
                                   payload.size());
    if (ZSTD_isError(n) || n != plain_len) {
      return Error(at, chunk + ": zstd payload does not decompress to " +
                           std::to_string(plain_len) + " bytes");
    }
    plain = plain_;
  }
  hasher_.Update(plain);
  ARK_RETURN_IF_ERROR(sink_(plain));
  decoded_ += plain_len;
  ++index_;
  last_seen_ = expect_last;
  *consumed = total;
  return Status::OK();
}

Status BlobDecoder::Finish() {
  if (!have_header_) {
    return Error(buf_offset_ + buf_.size(), "truncated: the object ends inside its header");
  }
  if (!last_seen_ || !buf_.empty()) {
    return Error(buf_offset_ + buf_.size(), "truncated: the object ends before its last chunk (" +
                                                std::to_string(decoded_) + " of " +
                                                std::to_string(size_) + " bytes)");
  }
  Sha256Digest got = hasher_.Finish();
  if (got != content_) {
    return Error(buf_offset_, "plaintext SHA-256 is " + ToHex(got) + ", not the content hash");
  }
  return Status::OK();
}

}  // namespace ark::dr
