// Fuzz target: manifest files (engine/manifest.h DecodeManifest), the root of
// every recovery and, later, of every backup.
//
// Input: byte 0 = flags, then the file. Flag bit 0 "fix header": rewrite the
// body length and body checksum so mutations reach the JSON decoding. A
// manifest that decodes must survive EncodeManifest -> DecodeManifest equal.
#include <cstdint>
#include <string>

#include "core/coding.h"
#include "core/hash.h"
#include "engine/manifest.h"
#include "engine/manifest_format.h"
#include "fuzz/fuzz_util.h"

using namespace ark;
namespace mf = ark::manifest_format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InputReader in(data, size);
  uint8_t flags = in.Byte();
  std::string file(in.Rest());
  if ((flags & 1) && file.size() >= mf::kHeaderSize) {
    EncodeFixed64(file.data() + 16, file.size() - mf::kHeaderSize);
    EncodeFixed64(file.data() + 24, Xxh3_64(file.data() + mf::kHeaderSize, file.size() - mf::kHeaderSize));
  }
  auto m = DecodeManifest(file, "MANIFEST-fuzz");
  if (!m.ok()) return 0;
  (void)m->LiveFiles();
  (void)ManifestToJson(*m).dump();
  std::string again = EncodeManifest(*m);
  auto m2 = DecodeManifest(again, "MANIFEST-again");
  ARK_FUZZ_CHECK(m2.ok(), m2.status().ToString());
  ARK_FUZZ_CHECK(*m2 == *m, "manifest differs after re-encoding");
  return 0;
}
