// The replication stream's messages (docs/formats/replication-stream.md):
// a 16-byte header (magic "ARKR", type, zero bytes, payload length, low 32
// bits of the payload's XXH3-64) and the payload. Pure encode/decode, plus an
// incremental parser for a byte stream that arrives in arbitrary pieces.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/position.h"
#include "core/status.h"
#include "wal/wal_record.h"

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

// ---- payloads (what the standby reads) ----------------------------------------

// A HELLO or STATUS payload: the primary's positions.
struct StreamPositions {
  Position last, durable;
  uint64_t now_micros = 0;
  std::string mode;  // HELLO only ("" in a STATUS)
};
// Corruption naming the message when it is not a JSON object with "last"
// and "durable" positions.
Result<StreamPositions> DecodeStreamPositions(StreamMessageType type, std::string_view payload);

// A RECORDS payload: WAL frames back to back, each checked (both
// checksums) and required to be the next lsn after *next_lsn - 1; each is
// handed to on_record, which returns false to stop early. *next_lsn moves
// past every record handed over. Corruption on a torn frame, damage, a gap
// or a repeat; on_record's error is returned as is.
Status DecodeRecordsPayload(std::string_view payload, uint64_t* next_lsn,
                            const std::function<Result<bool>(const WalRecord&)>& on_record);

// An END payload: why the primary ended the stream and what to do
// ("retry", "bootstrap", "rebootstrap"; "" when the payload says nothing).
struct StreamEnd {
  std::string message;
  std::string action;
};
StreamEnd DecodeStreamEnd(std::string_view payload);

}  // namespace ark::dr
