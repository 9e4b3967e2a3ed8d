// Fuzz target: the engine's WAL record bodies (engine/wal_codec.h), decoded
// during recovery from records whose checksums are already verified. The
// decoders must reject every malformed body with Corruption, never crash.
//
// Input: byte 0 selects the decoder (mod 4): create-collection, rename,
// rows (insert/upsert), keys (delete); the rest is the body.
// Invariant: decoding is canonical — a body that decodes re-encodes to bytes
// that decode and re-encode to the same bytes again.
#include <cstdint>
#include <string>

#include "engine/wal_codec.h"
#include "fuzz/fuzz_util.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InputReader in(data, size);
  uint8_t which = in.Byte() % 4;
  std::string_view body = in.Rest();
  Position at{1, 42};
  switch (which) {
    case 0: {
      auto b = DecodeCreateCollection(body, at);
      if (!b.ok()) return 0;
      std::string once = EncodeCreateCollection(*b);
      auto b2 = DecodeCreateCollection(once, at);
      ARK_FUZZ_CHECK(b2.ok(), b2.status().ToString());
      ARK_FUZZ_CHECK(EncodeCreateCollection(*b2) == once, "create-collection not canonical");
      break;
    }
    case 1: {
      auto b = DecodeRenameCollection(body, at);
      if (!b.ok()) return 0;
      std::string once = EncodeRenameCollection(*b);
      auto b2 = DecodeRenameCollection(once, at);
      ARK_FUZZ_CHECK(b2.ok(), b2.status().ToString());
      ARK_FUZZ_CHECK(EncodeRenameCollection(*b2) == once, "rename not canonical");
      break;
    }
    case 2: {
      auto rows = DecodeRows(body, at);
      if (!rows.ok()) return 0;
      std::string once = EncodeRows(*rows);
      auto rows2 = DecodeRows(once, at);
      ARK_FUZZ_CHECK(rows2.ok(), rows2.status().ToString());
      ARK_FUZZ_CHECK(EncodeRows(*rows2) == once, "rows not canonical");
      break;
    }
    case 3: {
      auto keys = DecodeKeys(body, at);
      if (!keys.ok()) return 0;
      if (keys->empty()) return 0;  // the key type of an empty list is not recoverable
      DataType type = keys->front().index() == 0 ? DataType::kInt64 : DataType::kVarChar;
      std::string once = EncodeKeys(type, *keys);
      auto keys2 = DecodeKeys(once, at);
      ARK_FUZZ_CHECK(keys2.ok(), keys2.status().ToString());
      ARK_FUZZ_CHECK(*keys2 == *keys, "keys differ after re-encoding");
      break;
    }
  }
  return 0;
}
