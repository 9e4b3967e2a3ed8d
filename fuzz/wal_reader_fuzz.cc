// Fuzz target: WAL segment files through the real reader (wal/wal_reader.h),
// which decodes segment headers and frames (wal/wal_frame.h).
//
// Input: byte 0 = flags, then the file bytes.
//   bit 0  fix checksums: recompute the segment-header and every frame's
//          checksums before reading, so mutations reach the frame, payload
//          and lsn/epoch logic instead of stopping at a checksum mismatch
//   bit 1  two segments: the next two bytes split the rest into two files
//          (tests the cross-segment lsn and epoch checks)
//   bit 2  read from after_lsn = first header's first_lsn (skipping logic)
// Files are named as the WAL names them, from their header's epoch and first
// lsn, in a directory of an in-memory Env.
//
// Invariants checked beyond "no crash": every record returned re-encodes
// (AppendWalFrame) to exactly the framed bytes the reader returned, apart
// from sync_base_lsn; lsns returned are contiguous; a segment name that
// parses formats back to the same name.
#include <cstdint>
#include <string>
#include <vector>

#include "core/coding.h"
#include "core/hash.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/memory_env.h"
#include "wal/wal_format.h"
#include "wal/wal_frame.h"
#include "wal/wal_reader.h"

namespace {

using namespace ark;
namespace wf = ark::wal_format;

void FixChecksums(std::string* file) {
  if (file->size() < wf::kSegmentHeaderSize) return;
  char* p = file->data();
  EncodeFixed64(p + 32, Xxh3_64(p, 32));
  size_t off = wf::kSegmentHeaderSize;
  while (file->size() - off >= wf::kFrameHeaderSize) {
    char* h = p + off;
    uint64_t len = DecodeFixed32(h);
    if (len > file->size() - off - wf::kFrameHeaderSize) break;
    EncodeFixed64(h + 16, Xxh3_64(h + wf::kFrameHeaderSize, len));
    EncodeFixed64(h + 24, Xxh3_64(h, 24));
    off += wf::kFrameHeaderSize + len;
  }
}

std::string NameFor(const std::string& file, uint64_t fallback) {
  uint64_t epoch = 0, first = fallback;
  if (file.size() >= 32) {
    epoch = DecodeFixed64(file.data() + 16);
    first = DecodeFixed64(file.data() + 24);
  }
  return wf::SegmentFileName(epoch, first);
}

void CheckSegmentName(std::string_view name) {
  auto parsed = wf::ParseSegmentFileName(name);
  if (!parsed) return;
  ARK_FUZZ_CHECK(wf::SegmentFileName(parsed->epoch, parsed->first_lsn) == name, name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InputReader in(data, size);
  uint8_t flags = in.Byte();
  std::vector<std::string> files;
  if (flags & 2) {
    uint16_t split = in.U16();
    std::string_view rest = in.Rest();
    size_t at = rest.empty() ? 0 : split % (rest.size() + 1);
    files.emplace_back(rest.substr(0, at));
    files.emplace_back(rest.substr(at));
  } else {
    files.emplace_back(in.Rest());
  }
  CheckSegmentName(std::string_view(reinterpret_cast<const char*>(data), std::min<size_t>(size, wf::kSegmentNameSize)));

  fuzz::MemoryEnv env;
  uint64_t after_lsn = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    if (flags & 1) FixChecksums(&files[i]);
    if (i == 0 && (flags & 4) && files[i].size() >= 32) after_lsn = DecodeFixed64(files[i].data() + 24);
    std::string name = NameFor(files[i], i);
    if (i > 0 && name <= NameFor(files[0], 0)) name = wf::SegmentFileName(~0ull, i);
    env.AddFile("/wal/" + name, std::move(files[i]));
  }

  auto reader = WalReader::Open(&env, "/wal", after_lsn);
  if (!reader.ok()) return 0;
  WalRecord record;
  bool have_previous = false;
  uint64_t previous_lsn = 0;
  for (int n = 0; n < 100000; ++n) {
    auto next = (*reader)->Next(&record);
    if (!next.ok() || !*next) break;
    ARK_FUZZ_CHECK(record.position.lsn > after_lsn, "record at or before after_lsn returned");
    if (have_previous) ARK_FUZZ_CHECK(record.position.lsn == previous_lsn + 1, "lsn gap");
    have_previous = true;
    previous_lsn = record.position.lsn;

    std::string_view framed = (*reader)->framed_bytes();
    std::string again;
    AppendWalFrame(&again, record.position, record.timestamp_micros, record.op,
                   record.collection_id, record.body);
    ARK_FUZZ_CHECK(framed.size() == again.size(), "re-encoded frame size differs");
    // Frame bytes [8, 16) hold sync_base_lsn and [24, 32) the header checksum
    // over it. The payload's reserved u16 (payload bytes [26, 28)) is ignored
    // by version-1 readers (docs/formats/wal.md, "Compatibility"), so the
    // re-encoding (which writes 0) matches it and the payload checksum only
    // when the stored field is 0.
    const size_t reserved = wf::kFrameHeaderSize + 26;
    ARK_FUZZ_CHECK(framed.substr(0, 8) == std::string_view(again).substr(0, 8), "frame head differs");
    ARK_FUZZ_CHECK(framed.substr(32, 26) == std::string_view(again).substr(32, 26), "payload differs");
    ARK_FUZZ_CHECK(framed.substr(reserved + 2) == std::string_view(again).substr(reserved + 2),
                   "body differs");
    if (framed.substr(reserved, 2) == std::string_view("\0\0", 2)) {
      ARK_FUZZ_CHECK(framed.substr(16, 8) == std::string_view(again).substr(16, 8), "payload check differs");
    }
  }
  return 0;
}
