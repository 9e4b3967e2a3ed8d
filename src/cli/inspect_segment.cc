// `ark inspect segment PATH [--json] [--rows N]`: dump a segment file or a
// tombstone file (told apart by magic): header, column directory with each
// column's checksum verified, the SHA-256 check of the content address, and
// the first rows. Damage is reported with file and offset; exit code 1.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command_registry.h"
#include "core/hash.h"
#include "engine/segment_file.h"
#include "engine/segment_format.h"
#include "engine/tombstone_file.h"
#include "storage/env.h"

namespace ark::cli {
namespace {

using nlohmann::json;

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

json RowPreview(const SegmentContents& seg, size_t row) {
  json o = json::object();
  o["$lsn"] = seg.lsns[row];
  for (size_t i = 0; i < seg.rows.columns.size(); ++i) {
    const Column& c = seg.rows.columns[i];
    const std::string& name = seg.columns[i].name;
    switch (c.type) {
      case DataType::kFloatVector: {
        json v = json::array();
        for (uint32_t d = 0; d < std::min<uint32_t>(c.dim, 4); ++d) v.push_back(c.floats[row * c.dim + d]);
        if (c.dim > 4) v.push_back("... (" + std::to_string(c.dim) + " dims)");
        o[name] = v;
        break;
      }
      case DataType::kVarChar:
      case DataType::kJson:
        o[name] = c.strings[row].size() > 60 ? c.strings[row].substr(0, 57) + "..." : c.strings[row];
        break;
      case DataType::kFloat:
      case DataType::kDouble:
        o[name] = c.doubles[row];
        break;
      default:
        o[name] = c.ints[row];
    }
  }
  return o;
}

Status InspectTombstones(const std::string& path, std::string_view data, bool as_json, size_t max_rows) {
  ARK_ASSIGN_OR_RETURN(TombstoneContents t, DecodeTombstones(data, path));
  json entries = json::array();
  for (size_t i = 0; i < t.entries.size() && i < max_rows; ++i) {
    entries.push_back({{"key", PrimaryKeyToString(t.entries[i].key)}, {"lsn", t.entries[i].lsn}});
  }
  if (as_json) {
    std::printf("%s\n", json{{"path", path}, {"kind", "tombstones"}, {"version", t.version},
                             {"collection_id", t.collection_id},
                             {"key_type", DataTypeName(t.key_type)}, {"count", t.entries.size()},
                             {"entries", entries}}.dump(2).c_str());
    return Status::OK();
  }
  std::printf("tombstone file %s\n  version %u  collection %llu  key type %s  entries %zu\n", path.c_str(),
              t.version, static_cast<unsigned long long>(t.collection_id),
              std::string(DataTypeName(t.key_type)).c_str(), t.entries.size());
  for (const auto& e : entries) {
    std::printf("  delete key %s at lsn %llu\n", e["key"].get<std::string>().c_str(),
                static_cast<unsigned long long>(e["lsn"].get<uint64_t>()));
  }
  return Status::OK();
}

Status Inspect(const std::string& path, bool as_json, size_t max_rows) {
  std::string data;
  ARK_RETURN_IF_ERROR(Env::Default()->ReadFileToString(path, &data));
  std::string sha = ToHex(Sha256(data));
  std::string base = BaseName(path);
  if (data.size() >= 8 && std::memcmp(data.data(), segment_format::kTombstoneMagic, 8) == 0) {
    return InspectTombstones(path, data, as_json, max_rows);
  }
  // Layout first so that a damaged column still shows the directory.
  ARK_ASSIGN_OR_RETURN(SegmentContents layout, DecodeSegmentLayout(data, path));
  auto full = DecodeSegment(data, path);
  json cols = json::array();
  for (const auto& c : layout.columns) {
    uint64_t got = Xxh3_64(data.data() + c.offset, c.length);
    cols.push_back({{"name", c.name}, {"type", DataTypeName(c.type)}, {"dim", c.dim},
                    {"offset", c.offset}, {"length", c.length},
                    {"checksum", Hex64(c.checksum)}, {"checksum_ok", got == c.checksum}});
  }
  json rows = json::array();
  if (full.ok()) {
    for (size_t r = 0; r < full->num_rows && r < max_rows; ++r) rows.push_back(RowPreview(*full, r));
  }
  bool named_by_hash = IsSha256Hex(base);
  if (as_json) {
    json out = {{"path", path}, {"kind", "segment"}, {"version", layout.version},
                {"collection_id", layout.collection_id}, {"rows", layout.num_rows},
                {"min_lsn", layout.min_lsn}, {"max_lsn", layout.max_lsn}, {"bytes", data.size()},
                {"sha256", sha}, {"name_matches_sha256", named_by_hash ? json(base == sha) : json(nullptr)},
                {"columns", cols}, {"first_rows", rows}};
    if (!full.ok()) out["error"] = full.status().ToString();
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("segment file %s\n  version %u  collection %llu  rows %llu  lsn %llu..%llu  %zu bytes\n",
                path.c_str(), layout.version, static_cast<unsigned long long>(layout.collection_id),
                static_cast<unsigned long long>(layout.num_rows),
                static_cast<unsigned long long>(layout.min_lsn),
                static_cast<unsigned long long>(layout.max_lsn), data.size());
    std::printf("  sha256 %s%s\n", sha.c_str(),
                !named_by_hash ? "" : base == sha ? "  (matches the file name)" : "  (DOES NOT match the file name)");
    std::printf("  %-20s %-12s %6s %10s %10s  %-16s\n", "column", "type", "dim", "offset", "length", "xxh3");
    for (const auto& c : cols) {
      std::printf("  %-20s %-12s %6u %10llu %10llu  %s%s\n", c["name"].get<std::string>().c_str(),
                  c["type"].get<std::string>().c_str(), c["dim"].get<uint32_t>(),
                  static_cast<unsigned long long>(c["offset"].get<uint64_t>()),
                  static_cast<unsigned long long>(c["length"].get<uint64_t>()),
                  c["checksum"].get<std::string>().c_str(), c["checksum_ok"].get<bool>() ? "" : "  MISMATCH");
    }
    for (const auto& r : rows) std::printf("  row %s\n", r.dump().c_str());
  }
  if (!full.ok()) return full.status();
  if (named_by_hash && base != sha) {
    return Status::Corruption(path + ": content hashes to " + sha + ", not to its name");
  }
  return Status::OK();
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_INSPECT(segment) {
  auto* cmd = inspect.add_subcommand("segment", "Dump a segment or tombstone file (files/<sha256>)");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto rows = std::make_shared<size_t>(3);
  cmd->add_option("PATH", *path, "a segment or tombstone file")->required();
  cmd->add_flag("--json", *json, "print JSON instead of text");
  cmd->add_option("--rows", *rows, "how many rows (or tombstones) to show (default 3)")
      ->check(CLI::Range(0, 1000000000));  // else "-1" wraps into a huge unsigned count
  cmd->callback([path, json, rows] {
    ark::Status s = ark::cli::Inspect(*path, *json, *rows);
    if (!s.ok()) ark::cli::Fail(s);
  });
}
