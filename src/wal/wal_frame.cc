#include "wal/wal_frame.h"

#include <cstring>

#include "core/coding.h"
#include "core/hash.h"

namespace ark {

using namespace wal_format;

std::string EncodeWalSegmentHeader(uint64_t epoch, uint64_t first_lsn) {
  std::string h(kSegmentMagic, sizeof(kSegmentMagic));
  PutFixed32(&h, kFormatVersion);
  PutFixed32(&h, static_cast<uint32_t>(kSegmentHeaderSize));
  PutFixed64(&h, epoch);
  PutFixed64(&h, first_lsn);
  PutFixed64(&h, Xxh3_64(h.data(), h.size()));
  return h;
}

Result<WalSegmentHeader> DecodeWalSegmentHeader(std::string_view b, const std::string& path) {
  if (b.size() < kSegmentHeaderSize) {
    return Status::Corruption(path + " offset 0: segment header is " + std::to_string(b.size()) +
                              " bytes, expected " + std::to_string(kSegmentHeaderSize));
  }
  if (std::memcmp(b.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return Status::Corruption(path + " offset 0: bad magic " + ToHex(b.data(), 8) +
                              ", expected " + ToHex(kSegmentMagic, 8) + " (not an Ark WAL segment)");
  }
  uint64_t stored = DecodeFixed64(b.data() + 32);
  uint64_t actual = Xxh3_64(b.data(), 32);
  if (stored != actual) {
    return Status::Corruption(path + " offset 0: segment header checksum mismatch");
  }
  WalSegmentHeader h;
  h.version = DecodeFixed32(b.data() + 8);
  if (h.version != kFormatVersion) {
    return Status::NotSupported(path + " offset 8: WAL format version " +
                                std::to_string(h.version) + ", this build reads version " +
                                std::to_string(kFormatVersion));
  }
  uint32_t header_size = DecodeFixed32(b.data() + 12);
  if (header_size != kSegmentHeaderSize) {
    return Status::Corruption(path + " offset 12: header size " + std::to_string(header_size) +
                              ", expected " + std::to_string(kSegmentHeaderSize));
  }
  h.epoch = DecodeFixed64(b.data() + 16);
  h.first_lsn = DecodeFixed64(b.data() + 24);
  return h;
}

void AppendWalFrame(std::string* dst, Position position, uint64_t timestamp_micros, uint16_t op,
                    uint64_t collection_id, std::string_view body) {
  size_t frame_start = dst->size();
  dst->resize(frame_start + kWalFrameBodyOffset);
  dst->append(body);
  FinishWalFrame(dst->data() + frame_start, position, timestamp_micros, op, collection_id,
                 body.size());
}

void FinishWalFrame(char* frame, Position position, uint64_t timestamp_micros, uint16_t op,
                    uint64_t collection_id, size_t body_size) {
  const uint32_t payload_length = static_cast<uint32_t>(kPayloadFixedSize + body_size);
  char* p = frame + kFrameHeaderSize;
  EncodeFixed64(p, position.epoch);
  EncodeFixed64(p + 8, position.lsn);
  EncodeFixed64(p + 16, timestamp_micros);
  p[24] = static_cast<char>(op & 0xff);
  p[25] = static_cast<char>(op >> 8);
  p[26] = 0;
  p[27] = 0;
  EncodeFixed64(p + 28, collection_id);
  EncodeFixed32(frame, payload_length);
  frame[4] = static_cast<char>(kFrameTypeRecord & 0xff);
  frame[5] = static_cast<char>(kFrameTypeRecord >> 8);
  frame[6] = 0;
  frame[7] = 0;
  EncodeFixed64(frame + 16, Xxh3_64(p, payload_length));
  SetWalFrameSyncBase(frame, 0);
}

void SetWalFrameSyncBase(char* frame, uint64_t sync_base_lsn) {
  EncodeFixed64(frame + 8, sync_base_lsn);
  EncodeFixed64(frame + 24, Xxh3_64(frame, 24));
}

bool DecodeWalFrameHeader(const char* p, WalFrameHeader* out) {
  if (DecodeFixed64(p + 24) != Xxh3_64(p, 24)) return false;
  out->payload_length = DecodeFixed32(p);
  out->frame_type = DecodeFixed16(p + 4);
  out->sync_base_lsn = DecodeFixed64(p + 8);
  out->payload_check = DecodeFixed64(p + 16);
  return out->frame_type == kFrameTypeRecord && DecodeFixed16(p + 6) == 0 &&
         out->payload_length >= kPayloadFixedSize && out->payload_length <= kMaxPayloadSize;
}

bool DecodeWalPayload(std::string_view payload, WalRecord* out) {
  if (payload.size() < kPayloadFixedSize) return false;
  const char* p = payload.data();
  out->position.epoch = DecodeFixed64(p);
  out->position.lsn = DecodeFixed64(p + 8);
  out->timestamp_micros = DecodeFixed64(p + 16);
  out->op = DecodeFixed16(p + 24);
  out->collection_id = DecodeFixed64(p + 28);
  out->body.assign(p + kPayloadFixedSize, payload.size() - kPayloadFixedSize);
  return true;
}

}  // namespace ark
