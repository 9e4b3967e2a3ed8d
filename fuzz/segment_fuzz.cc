// Fuzz target: sealed segment files (engine/segment_file.h), read at every
// recovery and by `ark inspect segment`.
//
// Input: byte 0 = flags, then the file. Flag bit 0 "fix checksums": before
// decoding, recompute the header checksum, the directory checksum in the
// footer and each in-bounds column block's checksum, so mutations reach the
// directory and column decoders. Decoded segments are also checked against
// a fixed schema (CheckSegmentMatchesSchema) and re-encoded: a segment that
// decodes and matches the schema must re-encode to bytes that decode to the
// same rows.
#include <cstdint>
#include <cstring>
#include <string>

#include "core/coding.h"
#include "core/hash.h"
#include "engine/segment_file.h"
#include "engine/segment_format.h"
#include "fuzz/fuzz_util.h"

using namespace ark;
namespace sf = ark::segment_format;

namespace {

void FixChecksums(std::string* file) {
  if (file->size() < sf::kHeaderSize + sf::kFooterSize) return;
  char* p = file->data();
  EncodeFixed64(p + sf::kHeaderChecksumOffset, Xxh3_64(p, sf::kHeaderChecksumOffset));
  size_t footer = file->size() - sf::kFooterSize;
  uint64_t dir_offset = DecodeFixed64(p + footer), dir_length = DecodeFixed64(p + footer + 8);
  if (dir_offset > footer || dir_length != footer - dir_offset) return;
  // Column checksums live in the directory, so fix them before the directory's own.
  size_t d = dir_offset;
  while (d <= footer && footer - d >= 32) {
    uint16_t name_len = DecodeFixed16(p + d + 2);
    uint64_t off = DecodeFixed64(p + d + 8), len = DecodeFixed64(p + d + 16);
    if (off <= dir_offset && len <= dir_offset - off) EncodeFixed64(p + d + 24, Xxh3_64(p + off, len));
    d += 32 + name_len;
  }
  EncodeFixed64(p + footer + 16, Xxh3_64(p + dir_offset, dir_length));
}

FieldSchema Field(const char* name, DataType type, uint32_t max_length = 0, uint32_t dim = 0) {
  FieldSchema f;
  f.name = name;
  f.type = type;
  f.is_primary_key = std::string_view(name) == "id";
  f.max_length = max_length;
  f.dim = dim;
  return f;
}

const CollectionSchema& FixedSchema() {
  static const CollectionSchema* schema = [] {
    auto* s = new CollectionSchema;
    s->fields = {Field("id", DataType::kInt64),        Field("flag", DataType::kBool),
                 Field("small", DataType::kInt8),      Field("mid", DataType::kInt32),
                 Field("score", DataType::kFloat),     Field("weight", DataType::kDouble),
                 Field("title", DataType::kVarChar, 64), Field("doc", DataType::kJson),
                 Field("vec", DataType::kFloatVector, 0, 4)};
    s->enable_dynamic_field = true;
    return s;
  }();
  return *schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InputReader in(data, size);
  uint8_t flags = in.Byte();
  std::string file(in.Rest());
  if (flags & 1) FixChecksums(&file);

  auto layout = DecodeSegmentLayout(file, "fuzz.seg");
  auto seg = DecodeSegment(file, "fuzz.seg");
  if (!seg.ok()) return 0;
  ARK_FUZZ_CHECK(layout.ok(), "DecodeSegment accepted a file DecodeSegmentLayout rejects");
  ARK_FUZZ_CHECK(seg->lsns.size() == seg->num_rows, "lsn column size");
  for (const auto& c : seg->rows.columns) ARK_FUZZ_CHECK(c.size() == seg->num_rows, "column size");
  if (!CheckSegmentMatchesSchema(*seg, FixedSchema(), "fuzz.seg").ok()) return 0;
  std::string again = EncodeSegment(FixedSchema(), seg->collection_id, seg->rows, seg->lsns);
  auto seg2 = DecodeSegment(again, "again.seg");
  ARK_FUZZ_CHECK(seg2.ok(), seg2.status().ToString());
  ARK_FUZZ_CHECK(EncodeSegment(FixedSchema(), seg2->collection_id, seg2->rows, seg2->lsns) == again,
                 "segment re-encoding is not stable");
  return 0;
}
