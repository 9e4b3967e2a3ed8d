// Fuzz target: the readers of a backup repository (docs/formats/backup-repository.md):
// the backup manifest (dr/backup_manifest.h), the WAL tail blob
// (dr/backup_state.h DecodeTail), the repository descriptor
// (dr/repository_descriptor.h) and the blob decoder (dr/blob_codec.h, the
// unencrypted form; the checksums and SHA-256 must reject anything forged).
//
// Input: byte 0 selects the reader (mod 4), the rest is the object's bytes.
// A manifest or descriptor that decodes must survive encode -> decode equal.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "dr/backup/backup_manifest.h"
#include "dr/backup/backup_state.h"
#include "dr/repository/blob_codec.h"
#include "dr/repository/repository_descriptor.h"
#include "fuzz/fuzz_util.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InputReader in(data, size);
  const uint8_t which = in.Byte() % 4;
  std::string bytes(in.Rest());
  switch (which) {
    case 0: {
      auto j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return 0;
      auto m = dr::BackupManifestFromJson(j, "backups/fuzz.json");
      if (!m.ok()) return 0;
      auto again = dr::BackupManifestFromJson(dr::BackupManifestToJson(*m), "again");
      ARK_FUZZ_CHECK(again.ok(), again.status().ToString());
      ARK_FUZZ_CHECK(*again == *m, "backup manifest differs after re-encoding");
      return 0;
    }
    case 1: {
      auto tail = dr::DecodeTail(bytes, "wal blob");
      if (!tail.ok()) return 0;
      auto again = dr::DecodeTail(dr::EncodeTail(*tail), "again");
      ARK_FUZZ_CHECK(again.ok() && again->size() == tail->size(), "WAL tail differs after re-encoding");
      return 0;
    }
    case 2: {
      auto j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return 0;
      auto d = dr::ParseDescriptor("ark-repo.json", j);
      if (!d.ok()) return 0;
      auto again = dr::ParseDescriptor("again", dr::DescriptorToJson(*d));
      ARK_FUZZ_CHECK(again.ok(), again.status().ToString());
      return 0;
    }
    default: {
      // The content hash the decoder must match: the first 32 bytes.
      if (bytes.size() < 32) return 0;
      Sha256Digest content{};
      for (size_t i = 0; i < 32; ++i) content[i] = static_cast<uint8_t>(bytes[i]);
      std::string plain;
      dr::BlobDecoder decoder(nullptr, content, "blob fuzz", [&](std::string_view p) {
        plain.append(p);
        return Status::OK();
      });
      std::string_view stored = std::string_view(bytes).substr(32);
      // Fed in two pieces, as a stream would deliver it.
      Status s = decoder.Feed(stored.substr(0, stored.size() / 2));
      if (s.ok()) s = decoder.Feed(stored.substr(stored.size() / 2));
      if (s.ok()) s = decoder.Finish();
      if (s.ok()) ARK_FUZZ_CHECK(Sha256(plain) == content, "a blob decoded although its hash differs");
      return 0;
    }
  }
}
