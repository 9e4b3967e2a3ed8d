#include "dr/replication/stream_format.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cstring>

#include "core/coding.h"
#include "core/hash.h"
#include "engine/dr_seam.h"

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

Result<StreamPositions> DecodeStreamPositions(StreamMessageType type, std::string_view payload) {
  const std::string what = std::string(StreamMessageTypeName(type)) + " message";
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("a " + what + " that is not a JSON object");
  auto text = [&](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto last = Position::Parse(text("last"));
  auto durable = Position::Parse(text("durable"));
  if (!last.ok() || !durable.ok()) return Status::Corruption("a " + what + " without \"last\" and \"durable\" positions");
  StreamPositions out;
  out.last = *last;
  out.durable = *durable;
  auto now = j.find("nowMicros");
  if (now != j.end() && now->is_number_unsigned()) out.now_micros = now->get<uint64_t>();
  out.mode = text("mode");
  return out;
}

Status DecodeRecordsPayload(std::string_view payload, uint64_t* next_lsn,
                            const std::function<Result<bool>(const WalRecord&)>& on_record) {
  std::string_view rest = payload;
  while (!rest.empty()) {
    if (rest.size() < 4) return Status::Corruption("a RECORDS message ends inside a frame header");
    const size_t frame = 32 + static_cast<size_t>(LoadLe32(rest.data()));
    if (rest.size() < frame) return Status::Corruption("a RECORDS message ends inside a record");
    ARK_ASSIGN_OR_RETURN(WalRecord record, DecodeFramedRecord(rest.substr(0, frame), "the replication stream"));
    if (record.position.lsn != *next_lsn) {
      return Status::Corruption(fmt::format("the stream sent lsn {} where {} was next (a gap or a repeat)",
                                            record.position.lsn, *next_lsn));
    }
    ARK_ASSIGN_OR_RETURN(bool more, on_record(record));
    ++*next_lsn;
    rest.remove_prefix(frame);
    if (!more) break;
  }
  return Status::OK();
}

StreamEnd DecodeStreamEnd(std::string_view payload) {
  StreamEnd out;
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object()) {
    out.message = std::string(payload.substr(0, 4096));
    return out;
  }
  auto message = j.find("message");
  out.message = message != j.end() && message->is_string() ? message->get<std::string>() : std::string(payload.substr(0, 4096));
  auto action = j.find("action");
  if (action != j.end() && action->is_string()) out.action = action->get<std::string>();
  return out;
}

}  // namespace ark::dr
