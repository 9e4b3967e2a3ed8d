// Encoding and decoding of blob objects (format: blob_format.h and
// docs/formats/backup-repository.md). The codec knows nothing of stores or
// files: BlobEncoder turns plaintext chunks into object bytes, BlobDecoder
// takes object bytes in pieces of any size and hands out checked plaintext.
//
// Both hold at most about one chunk of data. Not thread-safe: one object per
// transfer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "core/status.h"
#include "dr/repository/repository_crypto.h"

namespace ark::dr {

class BlobEncoder {
 public:
  // `data_key` null = not encrypted (not owned; must outlive the encoder).
  // `zstd_level` 0 = store every chunk raw. `size` is the plaintext size.
  static Result<std::unique_ptr<BlobEncoder>> Create(const SecretKey* data_key,
                                                     const Sha256Digest& content,
                                                     uint32_t chunk_size, uint64_t size,
                                                     int zstd_level);
  ~BlobEncoder();

  // The 48-byte header; goes first.
  const std::string& header() const { return header_; }
  // Plaintext bytes the next chunk must hold (0 once every chunk is done,
  // and also for the single chunk of an empty blob).
  uint64_t NextChunkSize() const;
  bool done() const { return done_; }
  // Encodes the next chunk (exactly NextChunkSize() bytes) and appends it to *out.
  Status EncodeChunk(std::string_view plain, std::string* out);

 private:
  BlobEncoder() = default;
  struct ZstdContexts;

  const SecretKey* key_ = nullptr;
  Sha256Digest content_{};
  uint32_t chunk_size_ = 0;
  uint64_t size_ = 0;
  int level_ = 0;
  std::string header_;
  uint64_t index_ = 0;
  uint64_t encoded_ = 0;  // plaintext bytes encoded so far
  bool done_ = false;
  std::unique_ptr<ZstdContexts> zstd_;
  std::string scratch_;
};

class BlobDecoder {
 public:
  // Receives the plaintext of each checked chunk, in order.
  using Sink = std::function<Status(std::string_view plain)>;
  // `what` prefixes every error ("<store>: blob <id> (content <hash>)").
  BlobDecoder(const SecretKey* data_key, const Sha256Digest& content, std::string what, Sink sink);
  ~BlobDecoder();

  // Feeds the next bytes of the object.
  Status Feed(std::string_view bytes);
  // Call after the last byte: Corruption if the object was truncated or its
  // plaintext does not hash to the content hash.
  Status Finish();
  // Plaintext size from the header (valid once the header is read).
  uint64_t size() const { return size_; }

 private:
  Status ParseHeader();
  // Decodes the chunk at the front of buf_ if it is complete (*consumed > 0).
  Status DecodeChunk(size_t* consumed);
  Status Error(uint64_t offset, const std::string& problem) const;

  const SecretKey* key_;
  const Sha256Digest content_;
  const std::string what_;
  Sink sink_;
  Sha256Hasher hasher_;
  struct ZstdContext;
  std::unique_ptr<ZstdContext> zstd_;
  std::string buf_;          // unparsed bytes
  uint64_t buf_offset_ = 0;  // object offset of buf_[0]
  bool have_header_ = false;
  bool last_seen_ = false;
  std::string header_;
  uint32_t chunk_size_ = 0;
  uint64_t size_ = 0;
  uint64_t index_ = 0;
  uint64_t decoded_ = 0;
  std::string plain_;
};

}  // namespace ark::dr
