// Fuzz target: tombstone files (engine/tombstone_file.h), read at recovery.
//
// Input: byte 0 = flags, then the file. Flag bit 0 "fix checksum": rewrite
// the trailing XXH3 so mutations reach the entry decoder. A file that decodes
// must re-encode to the same bytes when its key type is Int64 or VarChar.
#include <cstdint>
#include <string>

#include "core/coding.h"
#include "core/hash.h"
#include "engine/segment_format.h"
#include "engine/tombstone_file.h"
#include "fuzz/fuzz_util.h"

using namespace ark;
namespace sf = ark::segment_format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InputReader in(data, size);
  uint8_t flags = in.Byte();
  std::string file(in.Rest());
  if ((flags & 1) && file.size() >= sf::kTombstoneTrailerSize) {
    size_t body = file.size() - sf::kTombstoneTrailerSize;
    EncodeFixed64(file.data() + body, Xxh3_64(file.data(), body));
  }
  auto t = DecodeTombstones(file, "fuzz.tomb");
  if (!t.ok()) return 0;
  if (t->key_type != DataType::kInt64 && t->key_type != DataType::kVarChar) return 0;
  std::string again = EncodeTombstones(t->collection_id, t->key_type, t->entries);
  auto t2 = DecodeTombstones(again, "again.tomb");
  ARK_FUZZ_CHECK(t2.ok(), t2.status().ToString());
  ARK_FUZZ_CHECK(t2->entries == t->entries && t2->collection_id == t->collection_id,
                 "tombstones differ after re-encoding");
  return 0;
}
