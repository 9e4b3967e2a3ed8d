#include "engine/file_change.h"

#include <fmt/format.h>

#include "core/hash.h"
#include "engine/json_number.h"

namespace ark {

using nlohmann::json;

std::string_view FileChangeKindName(FileChangeKind kind) {
  switch (kind) {
    case FileChangeKind::kSeal:
      return "seal";
    case FileChangeKind::kIndex:
      return "index";
    case FileChangeKind::kCompact:
      return "compact";
    case FileChangeKind::kImport:
      return "import";
  }
  return "?";
}

std::vector<std::string> FileChange::Added() const {
  std::vector<std::string> out;
  auto add_segment = [&](const ManifestSegment& s) {
    out.push_back(s.file);
    for (const auto& [field, files] : s.index_files) out.insert(out.end(), files.begin(), files.end());
  };
  switch (kind) {
    case FileChangeKind::kSeal:
      if (has_segment) add_segment(segment);
      if (!tombstone.empty()) out.push_back(tombstone);
      break;
    case FileChangeKind::kIndex:
      out.push_back(index_file);
      break;
    case FileChangeKind::kCompact:
      for (const auto& s : segments) add_segment(s);
      break;
    case FileChangeKind::kImport:
      for (const auto& s : imported.segments) add_segment(s);
      break;
  }
  return out;
}

std::vector<std::string> FileChange::Removed() const {
  std::vector<std::string> out;
  switch (kind) {
    case FileChangeKind::kSeal:
      break;
    case FileChangeKind::kIndex:
      if (!replaced_index_file.empty()) out.push_back(replaced_index_file);
      break;
    case FileChangeKind::kCompact:
      // The replaced segments' index files go with them; the record names the
      // segments (a consumer drops what its manifest no longer lists).
      out = replaced;
      out.insert(out.end(), dropped_tombstones.begin(), dropped_tombstones.end());
      break;
    case FileChangeKind::kImport:
      break;
  }
  return out;
}

std::string EncodeFileChange(const FileChange& c) {
  json j;
  j["kind"] = FileChangeKindName(c.kind);
  switch (c.kind) {
    case FileChangeKind::kSeal:
      j["sealPoint"] = c.seal_point.ToString();
      if (c.has_segment) j["segment"] = ManifestSegmentToJson(c.segment);
      if (!c.tombstone.empty()) j["tombstone"] = c.tombstone;
      break;
    case FileChangeKind::kIndex:
      j["segment"] = c.index_segment;
      j["field"] = c.field;
      j["index"] = c.index.ToJson();
      j["file"] = c.index_file;
      break;
    case FileChangeKind::kCompact: {
      j["snapshotLsn"] = c.snapshot_lsn;
      j["replaced"] = c.replaced;
      json segs = json::array();
      for (const auto& s : c.segments) segs.push_back(ManifestSegmentToJson(s));
      j["segments"] = std::move(segs);
      j["droppedTombstones"] = c.dropped_tombstones;
      break;
    }
    case FileChangeKind::kImport:
      j["collection"] = ManifestCollectionToJson(c.imported);
      break;
  }
  j["added"] = c.Added();
  j["removed"] = c.Removed();
  return j.dump();
}

namespace {

std::vector<std::string> HexList(const json& j, const char* key) {
  std::vector<std::string> out = j.at(key).get<std::vector<std::string>>();
  for (const auto& h : out) {
    if (!IsSha256Hex(h)) throw std::invalid_argument(fmt::format("{}: '{}' is not a SHA-256 hex name", key, h));
  }
  return out;
}

std::string Hex(const json& j, const char* key) {
  std::string h = j.at(key).get<std::string>();
  if (!IsSha256Hex(h)) throw std::invalid_argument(fmt::format("{}: '{}' is not a SHA-256 hex name", key, h));
  return h;
}

Result<FileChange> DecodeFileChangeJson(const json& j) {
  FileChange c;
  const std::string kind = j.at("kind").get<std::string>();
  if (kind == "seal") {
    c.kind = FileChangeKind::kSeal;
    ARK_ASSIGN_OR_RETURN(c.seal_point, Position::Parse(j.at("sealPoint").get<std::string>()));
    if (j.contains("segment")) {
      ARK_ASSIGN_OR_RETURN(c.segment, ManifestSegmentFromJson(j.at("segment")));
      c.has_segment = true;
    }
    if (j.contains("tombstone")) c.tombstone = Hex(j, "tombstone");
  } else if (kind == "index") {
    c.kind = FileChangeKind::kIndex;
    c.index_segment = Hex(j, "segment");
    c.field = j.at("field").get<std::string>();
    ARK_ASSIGN_OR_RETURN(c.index, IndexDefinition::FromJson(j.at("index")));
    c.index_file = Hex(j, "file");
    std::vector<std::string> removed = HexList(j, "removed");
    if (removed.size() > 1) return Status::Corruption("an index change removes at most one file");
    if (!removed.empty()) c.replaced_index_file = removed.front();
  } else if (kind == "compact") {
    c.kind = FileChangeKind::kCompact;
    c.snapshot_lsn = JsonUnsigned<uint64_t>(j.at("snapshotLsn"));
    c.replaced = HexList(j, "replaced");
    for (const auto& sj : j.at("segments")) {
      ARK_ASSIGN_OR_RETURN(ManifestSegment s, ManifestSegmentFromJson(sj));
      c.segments.push_back(std::move(s));
    }
    c.dropped_tombstones = HexList(j, "droppedTombstones");
  } else if (kind == "import") {
    c.kind = FileChangeKind::kImport;
    ARK_ASSIGN_OR_RETURN(c.imported, ManifestCollectionFromJson(j.at("collection")));
    if (!c.imported.tombstone_files.empty()) {
      return Status::Corruption("an import names no tombstone files (its rows' lsns are the record's)");
    }
  } else {
    return Status::Corruption(fmt::format("unknown kind '{}'", kind));
  }
  // The derived lists must agree with the fields: a consumer that trusts
  // `added` alone fetches exactly what the apply path will open.
  if (HexList(j, "added") != c.Added() || HexList(j, "removed") != c.Removed()) {
    return Status::Corruption("'added'/'removed' disagree with the change they summarise");
  }
  return c;
}

}  // namespace

Result<FileChange> DecodeFileChange(std::string_view body, Position at) {
  auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  auto where = [&](const std::string& what) {
    return Status::Corruption(fmt::format("WAL record at {}: file change: {}", at.ToString(), what));
  };
  if (j.is_discarded() || !j.is_object()) return where("body is not a JSON object");
  try {
    auto c = DecodeFileChangeJson(j);
    if (!c.ok()) return where(c.status().message());
    return c;
  } catch (const json::exception& e) {
    return where(e.what());
  } catch (const std::invalid_argument& e) {
    return where(e.what());
  }
}

}  // namespace ark
