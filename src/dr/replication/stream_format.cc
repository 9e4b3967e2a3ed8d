#include "dr/replication/stream_format.h"

#include <fmt/format.h>

#include <cstring>

#include "core/coding.h"
#include "core/hash.h"

namespace ark::dr {

std::string_view StreamMessageTypeName(StreamMessageType type) {
  switch (type) {
    case StreamMessageType::kHello: return "HELLO";
    case StreamMessageType::kRecords: return "RECORDS";
    case StreamMessageType::kStatus: return "STATUS";
    case StreamMessageType::kEnd: return "END";
  }
  return "unknown";
}

void AppendStreamMessage(StreamMessageType type, std::string_view payload, std::string* out) {
  char header[kStreamHeaderBytes] = {};
  std::memcpy(header, kStreamMagic, 4);
  header[4] = static_cast<char>(type);
  const uint32_t length = static_cast<uint32_t>(payload.size());
  const uint32_t check = static_cast<uint32_t>(Xxh3_64(payload));
  for (int i = 0; i < 4; ++i) {
    header[8 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
    header[12 + i] = static_cast<char>((check >> (8 * i)) & 0xff);
  }
  out->append(header, sizeof(header));
  out->append(payload.data(), payload.size());
}

namespace {
uint32_t LoadLe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
}  // namespace

Result<bool> StreamParser::Next(StreamMessage* message) {
  if (!failed_.ok()) return failed_;
  if (Pending() < kStreamHeaderBytes) return false;
  const char* h = buffer_.data() + consumed_;
  auto fail = [&](const std::string& what) -> Status {
    failed_ = Status::Corruption(fmt::format("replication stream offset {}: {}", offset_, what));
    return failed_;
  };
  if (std::memcmp(h, kStreamMagic, 4) != 0) return fail("bad message magic (expected ARKR)");
  const auto type = static_cast<uint8_t>(h[4]);
  if (h[5] != 0 || h[6] != 0 || h[7] != 0) return fail("nonzero reserved header bytes");
  if (type < 1 || type > 4) return fail(fmt::format("unknown message type {}", type));
  const uint32_t length = LoadLe32(h + 8);
  if (length > kMaxStreamPayload) {
    return fail(fmt::format("message length {} is over the bound of {} bytes", length, kMaxStreamPayload));
  }
  if (Pending() < kStreamHeaderBytes + length) return false;
  std::string_view payload(h + kStreamHeaderBytes, length);
  if (static_cast<uint32_t>(Xxh3_64(payload)) != LoadLe32(h + 12)) {
    return fail(fmt::format("{} message payload checksum mismatch",
                            StreamMessageTypeName(static_cast<StreamMessageType>(type))));
  }
  message->type = static_cast<StreamMessageType>(type);
  message->payload.assign(payload.data(), payload.size());
  consumed_ += kStreamHeaderBytes + length;
  offset_ += kStreamHeaderBytes + length;
  // Drop consumed bytes once they are most of the buffer (amortised O(n)).
  if (consumed_ > (1u << 20) && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return true;
}

}  // namespace ark::dr
