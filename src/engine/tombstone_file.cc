#include "engine/tombstone_file.h"

#include <cstring>

#include <fmt/format.h>

#include "core/coding.h"
#include "core/hash.h"
#include "engine/segment_format.h"

namespace ark {

namespace sf = segment_format;

std::string EncodeTombstones(uint64_t collection_id, DataType key_type,
                             const std::vector<Tombstone>& entries) {
  std::string out(sf::kTombstoneMagic, 8);
  PutFixed32(&out, sf::kTombstoneVersion);
  out.push_back(static_cast<char>(key_type));
  out.append(3, '\0');
  PutFixed64(&out, collection_id);
  PutFixed64(&out, entries.size());
  for (const auto& t : entries) {
    if (key_type == DataType::kVarChar) {
      PutBytes32(&out, std::get<std::string>(t.key));
    } else {
      PutFixed64(&out, static_cast<uint64_t>(std::get<int64_t>(t.key)));
    }
    PutFixed64(&out, t.lsn);
  }
  PutFixed64(&out, Xxh3_64(out.data(), out.size()));
  return out;
}

Result<TombstoneContents> DecodeTombstones(std::string_view data, const std::string& name) {
  auto corrupt = [&](uint64_t offset, const std::string& what) {
    return Status::Corruption(fmt::format("tombstone file {} offset {}: {}", name, offset, what));
  };
  if (data.size() < sf::kTombstoneHeaderSize + sf::kTombstoneTrailerSize) {
    return corrupt(0, fmt::format("file is {} bytes, too short", data.size()));
  }
  if (std::memcmp(data.data(), sf::kTombstoneMagic, 8) != 0) {
    return corrupt(0, "bad magic: not a tombstone file");
  }
  TombstoneContents t;
  t.version = DecodeFixed32(data.data() + 8);
  if (t.version != sf::kTombstoneVersion) {
    return Status::NotSupported(fmt::format("tombstone file {}: unknown format version {}", name,
                                            t.version));
  }
  size_t body = data.size() - sf::kTombstoneTrailerSize;
  uint64_t want = DecodeFixed64(data.data() + body);
  uint64_t got = Xxh3_64(data.data(), body);
  if (want != got) {
    return corrupt(body, fmt::format("checksum mismatch: stored {:016x}, computed {:016x}", want, got));
  }
  t.key_type = static_cast<DataType>(static_cast<uint8_t>(data[12]));
  t.collection_id = DecodeFixed64(data.data() + 16);
  uint64_t count = DecodeFixed64(data.data() + 24);
  Decoder d(data.substr(sf::kTombstoneHeaderSize, body - sf::kTombstoneHeaderSize));
  for (uint64_t i = 0; i < count; ++i) {
    Tombstone e;
    bool ok;
    if (t.key_type == DataType::kVarChar) {
      std::string_view s;
      ok = d.GetBytes32(&s);
      e.key = std::string(s);
    } else {
      uint64_t k = 0;
      ok = d.GetFixed64(&k);
      e.key = static_cast<int64_t>(k);
    }
    if (!ok || !d.GetFixed64(&e.lsn)) {
      return corrupt(sf::kTombstoneHeaderSize + d.offset(),
                     fmt::format("entry {} of {} is cut short", i, count));
    }
    t.entries.push_back(std::move(e));
  }
  if (!d.done()) return corrupt(sf::kTombstoneHeaderSize + d.offset(), "trailing bytes");
  return t;
}

}  // namespace ark
