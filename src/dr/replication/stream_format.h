// The replication stream's messages (docs/formats/replication-stream.md):
// a 16-byte header (magic "ARKR", type, zero bytes, payload length, low 32
// bits of the payload's XXH3-64) and the payload. Pure encode/decode, plus an
// incremental parser for a byte stream that arrives in arbitrary pieces.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ark::dr {

inline constexpr uint32_t kReplicationProtocolVersion = 1;
inline constexpr char kStreamMagic[4] = {'A', 'R', 'K', 'R'};
inline constexpr size_t kStreamHeaderBytes = 16;
inline constexpr uint32_t kMaxStreamPayload = 256u << 20;
inline constexpr char kStreamContentType[] = "application/x-ark-replication; version=1";

enum class StreamMessageType : uint8_t { kHello = 1, kRecords = 2, kStatus = 3, kEnd = 4 };

std::string_view StreamMessageTypeName(StreamMessageType type);

// Appends one message to *out.
void AppendStreamMessage(StreamMessageType type, std::string_view payload, std::string* out);

struct StreamMessage {
  StreamMessageType type = StreamMessageType::kStatus;
  std::string payload;
};

// Feed() bytes as they arrive; Next() returns the complete messages in order.
// Any damage (bad magic, reserved bytes, unknown type, length over the bound,
// checksum mismatch) is Corruption naming the stream offset of the message,
// and the parser stays failed.
class StreamParser {
 public:
  void Feed(std::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }
  // true and *message filled when a whole message is buffered; false if more
  // bytes are needed.
  Result<bool> Next(StreamMessage* message);
  // Bytes buffered but not yet returned as a message.
  size_t Pending() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  size_t consumed_ = 0;   // bytes of buffer_ already returned
  uint64_t offset_ = 0;   // stream offset of buffer_[consumed_]
  Status failed_;
};

}  // namespace ark::dr
