#include "engine/manifest.h"

#include <cstring>

#include <fmt/format.h>

#include "core/coding.h"
#include "core/hash.h"
#include "engine/json_number.h"
#include "engine/manifest_format.h"

namespace ark {

namespace mf = manifest_format;
using nlohmann::json;

namespace {

json PositionToJson(Position p) { return json{{"epoch", p.epoch}, {"lsn", p.lsn}}; }
Position PositionFromJson(const json& j) {
  return Position{JsonUnsigned<uint64_t>(j.at("epoch")), JsonUnsigned<uint64_t>(j.at("lsn"))};
}

// A collection's "properties" and "loadState" (version 5; absent: none, and
// fully loaded). A message naming what is wrong otherwise.
Status CollectionStateFromJson(const json& cj, ManifestCollection* c) {
  const std::string where = "collection '" + c->name + "': ";
  if (auto p = cj.find("properties"); p != cj.end()) {
    if (!p->is_object()) return Status::Corruption(where + "properties is not an object");
    for (auto it = p->begin(); it != p->end(); ++it) {
      if (!it.value().is_string()) return Status::Corruption(where + "property '" + it.key() + "' is not a string");
      c->properties[it.key()] = it.value().get<std::string>();
    }
  }
  auto l = cj.find("loadState");
  if (l == cj.end()) return Status::OK();
  if (!l->is_object() || !l->contains("released") || !(*l)["released"].is_boolean() ||
      !l->contains("partitions") || !(*l)["partitions"].is_array()) {
    return Status::Corruption(where + "loadState is not {released: bool, partitions: [name]}");
  }
  c->load.released = (*l)["released"].get<bool>();
  for (const auto& p : (*l)["partitions"]) {
    const std::string name = p.is_string() ? p.get<std::string>() : std::string();
    if (name != kDefaultPartition && !c->partitions.count(name)) {
      return Status::Corruption(where + "loadState names " + p.dump() + ", which is not a partition");
    }
    c->load.partitions.insert(name);
  }
  if (c->load.released && !c->load.partitions.empty()) {
    return Status::Corruption(where + "loadState is released yet lists loaded partitions");
  }
  return Status::OK();
}

}  // namespace

std::set<std::string> Manifest::LiveFiles() const {
  std::set<std::string> files;
  for (const auto& c : collections) {
    for (const auto& s : c.segments) {
      files.insert(s.file);
      for (const auto& [field, idx] : s.index_files) files.insert(idx.begin(), idx.end());
    }
    files.insert(c.tombstone_files.begin(), c.tombstone_files.end());
  }
  return files;
}

std::string ManifestFileName(uint64_t version) {
  return fmt::format("{}{:016d}", mf::kFilePrefix, version);
}

json ManifestToJson(const Manifest& m) {
  json j;
  j["version"] = m.version;
  j["createdMicros"] = m.created_micros;
  j["applied"] = PositionToJson(m.applied);
  j["checkpoint"] = PositionToJson(m.checkpoint);
  j["nextCollectionId"] = m.next_collection_id;
  auto& epochs = j["epochs"] = json::array();
  for (const auto& e : m.epochs) {
    epochs.push_back({{"epoch", e.epoch}, {"first", PositionToJson(e.first)}});
  }
  j["databases"] = m.databases;
  auto& aliases = j["aliases"] = json::array();
  for (const auto& a : m.aliases) {
    aliases.push_back({{"database", a.database}, {"alias", a.alias}, {"collectionId", a.collection_id}});
  }
  if (!m.database_properties.empty()) j["databaseProperties"] = m.database_properties;
  if (!m.retired.empty()) {
    auto& retired = j["retired"] = json::array();
    for (const auto& [file, at] : m.retired) retired.push_back({{"file", file}, {"at", PositionToJson(at)}});
  }
  auto& cols = j["collections"] = json::array();
  for (const auto& c : m.collections) cols.push_back(ManifestCollectionToJson(c));
  return j;
}

json ManifestCollectionToJson(const ManifestCollection& c) {
  json cj;
  cj["id"] = c.id;
  cj["database"] = c.database;
  cj["name"] = c.name;
  cj["schema"] = c.schema.ToJson();
  cj["created"] = PositionToJson(c.created);
  cj["flushed"] = PositionToJson(c.flushed);
  cj["nextAutoId"] = c.next_auto_id;
  auto& segs = cj["segments"] = json::array();
  for (const auto& s : c.segments) {
    segs.push_back(ManifestSegmentToJson(s));
  }
  cj["tombstoneFiles"] = c.tombstone_files;
  auto& indexes = cj["indexes"] = json::array();
  for (const auto& d : c.indexes) indexes.push_back(d.ToJson());
  if (!c.partitions.empty() || c.next_partition_id != 1) {
    cj["partitions"] = c.partitions;
    cj["nextPartitionId"] = c.next_partition_id;
  }
  if (!c.properties.empty()) cj["properties"] = c.properties;
  if (!c.load.FullyLoaded()) {
    cj["loadState"] = {{"released", c.load.released}, {"partitions", c.load.partitions}};
  }
  return cj;
}

Result<ManifestCollection> ManifestCollectionFromJson(const json& cj) {
  try {
    ManifestCollection c;
    c.id = JsonUnsigned<uint64_t>(cj.at("id"));
    c.database = cj.at("database").get<std::string>();
    c.name = cj.at("name").get<std::string>();
    ARK_ASSIGN_OR_RETURN(c.schema, CollectionSchema::FromJson(cj.at("schema")));
    c.created = PositionFromJson(cj.at("created"));
    c.flushed = PositionFromJson(cj.at("flushed"));
    c.next_auto_id = JsonInt64(cj.at("nextAutoId"));
    for (const auto& sj : cj.at("segments")) {
      auto seg = ManifestSegmentFromJson(sj);
      if (!seg.ok()) return Status::Corruption(seg.status().message());
      c.segments.push_back(std::move(seg).value());
    }
    c.tombstone_files = cj.at("tombstoneFiles").get<std::vector<std::string>>();
    for (const auto& fj : cj.value("indexes", json::array())) {
      auto d = IndexDefinition::FromJson(fj);
      if (!d.ok()) return Status::Corruption(d.status().message());
      c.indexes.push_back(std::move(d).value());
    }
    if (cj.contains("partitions")) {
      const json& pj = cj.at("partitions");
      if (!pj.is_object()) return Status::Corruption("collection '" + c.name + "': partitions is not an object");
      for (auto it = pj.begin(); it != pj.end(); ++it) {
        const int64_t id = JsonInt64(it.value());
        if (id <= 0 || it.key().empty() || it.key() == "_default") {
          return Status::Corruption("collection '" + c.name + "': bad partition '" + it.key() + "'");
        }
        c.partitions[it.key()] = id;
      }
      c.next_partition_id = JsonInt64(cj.at("nextPartitionId"));
    }
    if (Status s = CollectionStateFromJson(cj, &c); !s.ok()) return Status::Corruption(s.message());
    for (const auto& s : c.segments) {
      for (const auto& [field, files] : s.index_files) {
        for (const auto& f : files) {
          if (!IsSha256Hex(f)) return Status::Corruption("index file name '" + f + "' is not a SHA-256 hex name");
        }
      }
    }
    return c;
  } catch (const json::exception& e) {
    return Status::Corruption(fmt::format("bad collection entry: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    return Status::Corruption(fmt::format("bad collection entry: {}", e.what()));
  }
}

nlohmann::json ManifestSegmentToJson(const ManifestSegment& s) {
  json idx = json::object();
  for (const auto& [field, files] : s.index_files) idx[field] = files;
  json j = {{"file", s.file},   {"rows", s.rows},       {"bytes", s.bytes},
            {"minLsn", s.min_lsn}, {"maxLsn", s.max_lsn}, {"indexFiles", idx}};
  if (s.row_lsn != 0) j["rowLsn"] = s.row_lsn;  // version 6: an imported segment
  return j;
}

Result<ManifestSegment> ManifestSegmentFromJson(const nlohmann::json& sj) {
  try {
    ManifestSegment s;
    s.file = sj.at("file").get<std::string>();
    s.rows = JsonUnsigned<uint64_t>(sj.at("rows"));
    s.bytes = JsonUnsigned<uint64_t>(sj.at("bytes"));
    s.min_lsn = JsonUnsigned<uint64_t>(sj.at("minLsn"));
    s.max_lsn = JsonUnsigned<uint64_t>(sj.at("maxLsn"));
    if (auto r = sj.find("rowLsn"); r != sj.end()) s.row_lsn = JsonUnsigned<uint64_t>(*r);
    for (auto it = sj.at("indexFiles").begin(); it != sj.at("indexFiles").end(); ++it) {
      s.index_files[it.key()] = it.value().get<std::vector<std::string>>();
      for (const auto& f : s.index_files[it.key()]) {
        if (!IsSha256Hex(f)) return Status::Corruption("index file name '" + f + "' is not a SHA-256 hex name");
      }
    }
    if (!IsSha256Hex(s.file)) return Status::Corruption("segment file name '" + s.file + "' is not a SHA-256 hex name");
    return s;
  } catch (const json::exception& e) {
    return Status::Corruption(fmt::format("bad segment entry: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    return Status::Corruption(fmt::format("bad segment entry: {}", e.what()));
  }
}

std::string EncodeManifest(const Manifest& m) {
  std::string body = ManifestToJson(m).dump(1);
  std::string out(mf::kMagic, 8);
  PutFixed32(&out, mf::kVersion);
  PutFixed32(&out, 0);  // flags
  PutFixed64(&out, body.size());
  PutFixed64(&out, Xxh3_64(body.data(), body.size()));
  out += body;
  return out;
}

Result<Manifest> DecodeManifest(std::string_view data, const std::string& name) {
  auto corrupt = [&](uint64_t off, const std::string& what) {
    return Status::Corruption(fmt::format("manifest {} offset {}: {}", name, off, what));
  };
  if (data.size() < mf::kHeaderSize) return corrupt(0, fmt::format("file is {} bytes, too short", data.size()));
  if (std::memcmp(data.data(), mf::kMagic, 8) != 0) return corrupt(0, "bad magic: not a manifest");
  uint32_t version = DecodeFixed32(data.data() + 8);
  if (version < mf::kMinVersion || version > mf::kVersion) {
    return Status::NotSupported(fmt::format("manifest {}: unknown format version {} (expected {} to {})",
                                            name, version, mf::kMinVersion, mf::kVersion));
  }
  uint64_t len = DecodeFixed64(data.data() + 16);
  if (len != data.size() - mf::kHeaderSize) {
    return corrupt(16, fmt::format("body length {} but {} bytes follow the header", len,
                                   data.size() - mf::kHeaderSize));
  }
  std::string_view body = data.substr(mf::kHeaderSize);
  uint64_t want = DecodeFixed64(data.data() + 24);
  uint64_t got = Xxh3_64(body.data(), body.size());
  if (want != got) {
    return corrupt(mf::kHeaderSize,
                   fmt::format("body checksum mismatch: stored {:016x}, computed {:016x}", want, got));
  }
  try {
    json j = json::parse(body);
    Manifest m;
    m.version = JsonUnsigned<uint64_t>(j.at("version"));
    m.created_micros = j.value("createdMicros", uint64_t{0});
    m.applied = PositionFromJson(j.at("applied"));
    m.checkpoint = PositionFromJson(j.at("checkpoint"));
    m.next_collection_id = JsonUnsigned<uint64_t>(j.at("nextCollectionId"));
    for (const auto& e : j.at("epochs")) {
      m.epochs.push_back({JsonUnsigned<uint64_t>(e.at("epoch")), PositionFromJson(e.at("first"))});
    }
    m.databases = j.value("databases", std::vector<std::string>{});
    for (const auto& aj : j.value("aliases", json::array())) {
      m.aliases.push_back({aj.at("database").get<std::string>(), aj.at("alias").get<std::string>(),
                           JsonUnsigned<uint64_t>(aj.at("collectionId"))});
    }
    if (j.contains("databaseProperties")) {
      m.database_properties =
          j.at("databaseProperties").get<std::map<std::string, std::map<std::string, std::string>>>();
    }
    for (const auto& rj : j.value("retired", json::array())) {
      std::string file = rj.at("file").get<std::string>();
      if (!IsSha256Hex(file)) return corrupt(mf::kHeaderSize, "retired file name '" + file + "' is not a SHA-256 hex name");
      m.retired[file] = PositionFromJson(rj.at("at"));
    }
    for (const auto& cj : j.at("collections")) {
      auto c = ManifestCollectionFromJson(cj);
      if (!c.ok()) return corrupt(mf::kHeaderSize, c.status().message());
      m.collections.push_back(std::move(c).value());
    }
    return m;
  } catch (const json::exception& e) {
    return corrupt(mf::kHeaderSize, fmt::format("bad JSON body: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    return corrupt(mf::kHeaderSize, fmt::format("bad JSON body: {}", e.what()));
  }
}

Status CommitManifest(Env* env, const std::string& dir, const Manifest& m) {
  std::string name = ManifestFileName(m.version);
  ARK_RETURN_IF_ERROR(env->WriteFileAtomic(JoinPath(dir, name), EncodeManifest(m)));
  return env->WriteFileAtomic(JoinPath(dir, mf::kCurrentFile), name + "\n");
}

Result<Manifest> LoadCurrentManifest(Env* env, const std::string& dir, std::string* file_name) {
  std::string current_path = JoinPath(dir, mf::kCurrentFile);
  if (!env->FileExists(current_path)) {
    return Status::NotFound(fmt::format("{}: no CURRENT file", dir));
  }
  std::string current;
  ARK_RETURN_IF_ERROR(env->ReadFileToString(current_path, &current));
  while (!current.empty() && (current.back() == '\n' || current.back() == '\r')) current.pop_back();
  if (current.rfind(mf::kFilePrefix, 0) != 0 || current.find('/') != std::string::npos) {
    return Status::Corruption(fmt::format("{}: does not name a manifest: '{}'", current_path,
                                          current.substr(0, 64)));
  }
  std::string path = JoinPath(dir, current);
  std::string data;
  Status s = env->ReadFileToString(path, &data);
  if (!s.ok()) {
    return Status::Corruption(fmt::format("{} names {}, which cannot be read: {}", current_path,
                                          current, s.ToString()));
  }
  if (file_name) *file_name = current;
  return DecodeManifest(data, path);
}

}  // namespace ark
