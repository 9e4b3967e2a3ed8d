#include "dr/backup/backup_manifest.h"

#include <fmt/format.h>

#include <set>
#include <stdexcept>

#include "core/hash.h"
#include "engine/json_number.h"

namespace ark::dr {
namespace {

using nlohmann::json;

const std::set<std::string>& Kinds() {
  static const std::set<std::string> kinds{"manifest", "wal", "segment", "tombstone", "index"};
  return kinds;
}

json PositionJson(const Position& p) { return {{"epoch", p.epoch}, {"lsn", p.lsn}}; }

// Field readers: throw std::invalid_argument("<field>: <problem>"), turned
// into one Corruption at the top.
const json& Field(const json& j, const char* name) {
  if (!j.is_object()) throw std::invalid_argument(fmt::format("expected an object holding '{}'", name));
  auto it = j.find(name);
  if (it == j.end()) throw std::invalid_argument(fmt::format("missing field '{}'", name));
  return *it;
}

template <typename T>
T Unsigned(const json& j, const char* name) {
  try {
    return JsonUnsigned<T>(Field(j, name));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("'{}': {}", name, e.what()));
  }
}

std::string String(const json& j, const char* name) {
  const json& v = Field(j, name);
  if (!v.is_string()) throw std::invalid_argument(fmt::format("'{}': expected a string", name));
  return v.get<std::string>();
}

Position PositionField(const json& j, const char* name) {
  const json& v = Field(j, name);
  try {
    return Position{Unsigned<uint64_t>(v, "epoch"), Unsigned<uint64_t>(v, "lsn")};
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("'{}': {}", name, e.what()));
  }
}

const json& Array(const json& j, const char* name) {
  const json& v = Field(j, name);
  if (!v.is_array()) throw std::invalid_argument(fmt::format("'{}': expected an array", name));
  return v;
}

}  // namespace

const BackupBlobRef* BackupManifest::Find(const std::string& kind) const {
  for (const auto& b : blobs) {
    if (b.kind == kind) return &b;
  }
  return nullptr;
}

json BackupManifestToJson(const BackupManifest& m) {
  json collections = json::array();
  for (const auto& c : m.collections) {
    json cj = {{"id", c.id},           {"database", c.database},       {"name", c.name}, {"rows", c.rows},
               {"segments", c.segments}, {"indexFiles", c.index_files}, {"bytes", c.bytes}};
    if (!c.checksum.empty()) cj["checksum"] = c.checksum;
    collections.push_back(std::move(cj));
  }
  json blobs = json::array();
  for (const auto& b : m.blobs) {
    blobs.push_back({{"kind", b.kind}, {"hash", b.hash}, {"size", b.size}, {"storedSize", b.stored_size}});
  }
  return {
      {"formatVersion", m.format_version},
      {"name", m.name},
      {"startedMicros", m.started_micros},
      {"completedMicros", m.completed_micros},
      {"arkVersion", m.ark_version},
      {"source", m.source},
      {"position", PositionJson(m.position)},
      {"positionMicros", m.position_micros},
      {"checkpoint", PositionJson(m.checkpoint)},
      {"walRecords", m.wal_records},
      {"collections", collections},
      {"blobs", blobs},
      {"parent", m.parent},
      {"stats",
       {{"totalBytes", m.stats.total_bytes},
        {"newBytes", m.stats.new_bytes},
        {"newStoredBytes", m.stats.new_stored_bytes},
        {"reusedBytes", m.stats.reused_bytes},
        {"newBlobs", m.stats.new_blobs},
        {"reusedBlobs", m.stats.reused_blobs},
        {"seconds", m.stats.seconds}}},
  };
}

Result<BackupManifest> BackupManifestFromJson(const json& j, const std::string& where) {
  BackupManifest m;
  try {
    m.format_version = Unsigned<uint32_t>(j, "formatVersion");
    if (m.format_version > kBackupManifestVersion) {
      return Status::NotSupported(fmt::format(
          "{}: backup manifest format version {}, this build reads up to version {}", where,
          m.format_version, kBackupManifestVersion));
    }
    if (m.format_version == 0) throw std::invalid_argument("'formatVersion': 0 is not a version");
    m.name = String(j, "name");
    m.started_micros = Unsigned<uint64_t>(j, "startedMicros");
    m.completed_micros = Unsigned<uint64_t>(j, "completedMicros");
    m.ark_version = String(j, "arkVersion");
    m.source = String(j, "source");
    m.position = PositionField(j, "position");
    m.checkpoint = PositionField(j, "checkpoint");
    // Added with WAL archiving (optional: older manifests lack it; the
    // completion time is then an upper bound on the position's time).
    m.position_micros = j.contains("positionMicros") ? Unsigned<uint64_t>(j, "positionMicros") : m.completed_micros;
    if (m.position < m.checkpoint) {
      throw std::invalid_argument("'position' lies before 'checkpoint'");
    }
    m.wal_records = Unsigned<uint64_t>(j, "walRecords");
    for (const auto& c : Array(j, "collections")) {
      BackupCollection bc;
      bc.id = Unsigned<uint64_t>(c, "id");
      bc.database = String(c, "database");
      bc.name = String(c, "name");
      bc.rows = Unsigned<uint64_t>(c, "rows");
      bc.segments = Unsigned<uint64_t>(c, "segments");
      bc.index_files = Unsigned<uint64_t>(c, "indexFiles");
      bc.bytes = Unsigned<uint64_t>(c, "bytes");
      if (c.contains("checksum")) {
        bc.checksum = String(c, "checksum");
        if (bc.checksum.rfind("v", 0) != 0 || bc.checksum.find(':') == std::string::npos) {
          throw std::invalid_argument("collection '" + bc.name + "': 'checksum' is not a content checksum (v<N>:<hex>)");
        }
      }
      m.collections.push_back(std::move(bc));
    }
    std::set<std::string> seen;
    for (const auto& b : Array(j, "blobs")) {
      BackupBlobRef ref;
      ref.kind = String(b, "kind");
      if (!Kinds().count(ref.kind)) {
        throw std::invalid_argument(fmt::format("blob kind '{}' is not one of manifest, wal, segment, "
                                                "tombstone, index", ref.kind.substr(0, 32)));
      }
      ref.hash = String(b, "hash");
      if (!IsSha256Hex(ref.hash)) {
        throw std::invalid_argument(fmt::format("blob hash '{}' is not 64 lowercase hex characters",
                                                ref.hash.substr(0, 80)));
      }
      ref.size = Unsigned<uint64_t>(b, "size");
      ref.stored_size = Unsigned<uint64_t>(b, "storedSize");
      if (!seen.insert(ref.hash).second) {
        throw std::invalid_argument(fmt::format("blob {} is listed twice", ref.hash));
      }
      m.blobs.push_back(std::move(ref));
    }
    if (m.blobs.empty() || m.blobs.front().kind != "manifest") {
      throw std::invalid_argument("'blobs' must start with the engine manifest blob");
    }
    m.parent = String(j, "parent");
    const json& s = Field(j, "stats");
    m.stats.total_bytes = Unsigned<uint64_t>(s, "totalBytes");
    m.stats.new_bytes = Unsigned<uint64_t>(s, "newBytes");
    m.stats.new_stored_bytes = Unsigned<uint64_t>(s, "newStoredBytes");
    m.stats.reused_bytes = Unsigned<uint64_t>(s, "reusedBytes");
    m.stats.new_blobs = Unsigned<uint64_t>(s, "newBlobs");
    m.stats.reused_blobs = Unsigned<uint64_t>(s, "reusedBlobs");
    const json& secs = Field(s, "seconds");
    if (!secs.is_number()) throw std::invalid_argument("'seconds': expected a number");
    m.stats.seconds = secs.get<double>();
  } catch (const std::invalid_argument& e) {
    return Status::Corruption(fmt::format("{}: backup manifest: {}", where, e.what()));
  } catch (const json::exception& e) {
    return Status::Corruption(fmt::format("{}: backup manifest: {}", where, e.what()));
  }
  return m;
}

}  // namespace ark::dr
