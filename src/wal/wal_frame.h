// Encoding and decoding of WAL segment headers and record frames, shared by
// the writer (wal.cc), the reader (wal_reader.cc), inspection and tests.
// Layout: docs/formats/wal.md; constants: wal/wal_format.h. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/position.h"
#include "core/status.h"
#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace ark {

struct WalSegmentHeader {
  uint32_t version = 0;
  uint64_t epoch = 0;
  uint64_t first_lsn = 0;
};

std::string EncodeWalSegmentHeader(uint64_t epoch, uint64_t first_lsn);
// Checks magic, header checksum and version. Corruption (magic, checksum,
// size) or NotSupported (a version this build does not read), naming `path`.
Result<WalSegmentHeader> DecodeWalSegmentHeader(std::string_view bytes, const std::string& path);

// Appends one framed record to *dst with sync_base_lsn = 0 (the writer sets
// the real value with SetWalFrameSyncBase just before the bytes hit the file).
// The body must be at most wal_format::kMaxBodySize bytes.
void AppendWalFrame(std::string* dst, Position position, uint64_t timestamp_micros, uint16_t op,
                    uint64_t collection_id, std::string_view body);
// The frame of a body of `body_size` bytes is WalFrameSize(body_size) bytes;
// its body starts kWalFrameBodyOffset bytes into the frame.
inline constexpr size_t kWalFrameBodyOffset = wal_format::kFrameHeaderSize + wal_format::kPayloadFixedSize;
inline constexpr size_t WalFrameSize(size_t body_size) { return kWalFrameBodyOffset + body_size; }
// Completes a frame in place whose body (`body_size` bytes) the caller has
// already written at frame + kWalFrameBodyOffset: writes the header (sync base
// 0, as AppendWalFrame) and the payload's fixed fields, then checksums the
// payload. The bytes are identical to AppendWalFrame's for the same record.
void FinishWalFrame(char* frame, Position position, uint64_t timestamp_micros, uint16_t op,
                    uint64_t collection_id, size_t body_size);
// Rewrites the sync_base_lsn field and the header checksum of the frame that
// starts at `frame` (kFrameHeaderSize writable bytes).
void SetWalFrameSyncBase(char* frame, uint64_t sync_base_lsn);

struct WalFrameHeader {
  uint32_t payload_length = 0;
  uint16_t frame_type = 0;
  uint64_t sync_base_lsn = 0;
  uint64_t payload_check = 0;
};
// Decodes kFrameHeaderSize bytes. Returns false if the header checksum does
// not match, the type is unknown, a reserved field is not zero or the length
// is outside [kPayloadFixedSize, kMaxPayloadSize].
bool DecodeWalFrameHeader(const char* p, WalFrameHeader* out);
// Decodes a payload whose checksum was verified. False if it is too short.
bool DecodeWalPayload(std::string_view payload, WalRecord* out);

}  // namespace ark
