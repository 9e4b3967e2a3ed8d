#include "dr/backup/backup_state.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/coding.h"
#include "core/hash.h"
#include "engine/file_change.h"
#include "engine/schema.h"
#include "engine/wal_codec.h"
#include "wal/wal_format.h"
#include "wal/wal_frame.h"

namespace ark::dr {
namespace {

bool IsNamespaceOp(uint16_t op) { return op >= kOpCreateDatabase && op <= kOpDropAlias; }

WalRecord Filler(const WalRecord& r) {
  WalRecord f;
  f.position = r.position;
  f.timestamp_micros = r.timestamp_micros;
  f.op = static_cast<uint16_t>(WalOp::kCheckpoint);
  return f;
}

// Tracks the collections and aliases through the tail, record by record.
struct NameTracker {
  std::map<uint64_t, CollectionName> live;

  Status Start(const Manifest& m) {
    for (const auto& c : m.collections) live[c.id] = {c.database, c.name};
    return Status::OK();
  }
  Status Apply(const WalRecord& r) {
    switch (static_cast<WalOp>(r.op)) {
      case WalOp::kCreateCollection: {
        ARK_ASSIGN_OR_RETURN(auto body, DecodeCreateCollection(r.body, r.position));
        live[r.collection_id] = {body.database, body.name};
        break;
      }
      case WalOp::kRenameCollection: {
        ARK_ASSIGN_OR_RETURN(auto body, DecodeRenameCollection(r.body, r.position));
        live[r.collection_id] = {body.database, body.name};
        break;
      }
      case WalOp::kDropCollection:
        live.erase(r.collection_id);
        break;
      default:
        if (r.op == kOpFileChange) {  // an import (restore into a running server) creates one
          ARK_ASSIGN_OR_RETURN(FileChange change, DecodeFileChange(r.body, r.position));
          if (change.kind == FileChangeKind::kImport) {
            live[r.collection_id] = {change.imported.database, change.imported.name};
          }
        }
        break;
    }
    return Status::OK();
  }
};

}  // namespace

Result<CollectionName> ParseCollectionName(std::string_view text) {
  CollectionName n;
  auto dot = text.find('.');
  if (dot == std::string_view::npos) {
    n.name = std::string(text);
  } else {
    n.database = std::string(text.substr(0, dot));
    n.name = std::string(text.substr(dot + 1));
  }
  Status db = ValidateName("database name", n.database);
  Status name = ValidateName("collection name", n.name);
  if (!db.ok() || !name.ok()) {
    return Status::InvalidArgument(fmt::format("'{}' is not a collection name (\"name\" or \"database.name\"): {}",
                                               text.substr(0, 300), (!db.ok() ? db : name).message()));
  }
  return n;
}

Result<std::map<uint64_t, CollectionName>> CollectionsAtPosition(const BackupState& state) {
  NameTracker t;
  ARK_RETURN_IF_ERROR(t.Start(state.manifest));
  for (const auto& r : state.tail) ARK_RETURN_IF_ERROR(t.Apply(r));
  return t.live;
}

Result<BackupState> FilterState(const BackupState& in, const StateFilter& filter) {
  ARK_ASSIGN_OR_RETURN(auto at_position, CollectionsAtPosition(in));
  // Which ids to keep and the names they end with.
  std::map<CollectionName, uint64_t> by_name;
  for (const auto& [id, n] : at_position) by_name[n] = id;
  std::map<uint64_t, CollectionName> keep;
  if (filter.select.empty()) {
    keep = at_position;
  } else {
    for (const auto& n : filter.select) {
      auto it = by_name.find(n);
      if (it == by_name.end()) {
        return Status::NotFound(fmt::format("collection {} does not exist at position {}", n.ToString(),
                                            in.position.ToString()));
      }
      keep[it->second] = n;
    }
  }
  for (const auto& [from, to] : filter.rename) {
    auto it = by_name.find(from);
    if (it == by_name.end() || !keep.count(it->second)) {
      return Status::InvalidArgument(fmt::format("cannot rename {}: it is not among the collections restored",
                                                 from.ToString()));
    }
  }
  std::map<uint64_t, CollectionName> target;
  std::set<CollectionName> taken;
  for (const auto& [id, n] : keep) {
    CollectionName t = n;
    if (auto r = filter.rename.find(n); r != filter.rename.end()) {
      t = r->second;
    } else if (!filter.suffix.empty()) {
      t.name += filter.suffix;
    }
    ARK_RETURN_IF_ERROR(ValidateName("collection name", t.name));
    ARK_RETURN_IF_ERROR(ValidateName("database name", t.database));
    if (!taken.insert(t).second) {
      return Status::InvalidArgument(fmt::format("two collections would be restored as {}", t.ToString()));
    }
    target[id] = t;
  }
  const bool renaming = !filter.rename.empty() || !filter.suffix.empty();

  BackupState out;
  out.position = in.position;
  out.manifest = in.manifest;
  out.manifest.collections.clear();
  for (const auto& c : in.manifest.collections) {
    auto it = target.find(c.id);
    if (it == target.end()) continue;
    ManifestCollection mc = c;
    mc.database = it->second.database;
    mc.name = it->second.name;
    out.manifest.collections.push_back(std::move(mc));
  }
  // Target databases exist (a rename may move a collection to a new one).
  std::set<std::string> databases(in.manifest.databases.begin(), in.manifest.databases.end());
  for (const auto& [id, t] : target) {
    if (t.database != kDefaultDatabase) databases.insert(t.database);
  }
  out.manifest.databases.assign(databases.begin(), databases.end());
  // Aliases: only of kept collections, and only where the collection stays
  // in the alias's database.
  out.manifest.aliases.clear();
  std::set<std::pair<std::string, std::string>> aliases;
  for (const auto& a : in.manifest.aliases) {
    auto it = target.find(a.collection_id);
    bool in_manifest = false;
    for (const auto& c : in.manifest.collections) in_manifest |= c.id == a.collection_id;
    if (it == target.end() || !in_manifest) continue;
    if (it->second.database != a.database) continue;
    out.manifest.aliases.push_back(a);
    aliases.insert({a.database, a.alias});
  }

  out.tail.reserve(in.tail.size());
  for (const auto& r : in.tail) {
    const auto op = static_cast<WalOp>(r.op);
    if (IsNamespaceOp(r.op)) {
      if (r.op == kOpCreateDatabase || r.op == kOpDropDatabase) {
        // A database dropped later in the tail would fail if a renamed
        // collection now lives in it; renames into a database only happen
        // at restore, where the database is in the manifest: keep the drop
        // only if nothing kept targets it.
        if (r.op == kOpDropDatabase) {
          auto body = nlohmann::json::parse(r.body, nullptr, false);
          bool targeted = false;
          if (body.is_object() && body.contains("database") && body["database"].is_string()) {
            for (const auto& [id, t] : target) targeted |= t.database == body["database"].get<std::string>();
          }
          if (targeted && renaming) {
            out.tail.push_back(Filler(r));
            continue;
          }
        }
        out.tail.push_back(r);
        continue;
      }
      auto body = nlohmann::json::parse(r.body, nullptr, false);
      if (!body.is_object() || !body.contains("database") || !body.contains("alias") ||
          !body["database"].is_string() || !body["alias"].is_string()) {
        return Status::Corruption(fmt::format("WAL record at {}: alias body is not valid", r.position.ToString()));
      }
      std::pair<std::string, std::string> key{body["database"].get<std::string>(), body["alias"].get<std::string>()};
      if (r.op == kOpSetAlias) {
        if (!body.contains("collectionId") || !body["collectionId"].is_number_unsigned()) {
          return Status::Corruption(fmt::format("WAL record at {}: alias body has no collectionId", r.position.ToString()));
        }
        auto it = target.find(body["collectionId"].get<uint64_t>());
        if (it != target.end() && it->second.database == key.first) {
          aliases.insert(key);
          out.tail.push_back(r);
        } else {
          // Re-pointing a kept alias at a collection not kept: the alias goes.
          if (aliases.erase(key)) {
            WalRecord drop = r;
            drop.op = kOpDropAlias;
            drop.collection_id = 0;
            drop.body = nlohmann::json{{"database", key.first}, {"alias", key.second}}.dump();
            out.tail.push_back(std::move(drop));
          } else {
            out.tail.push_back(Filler(r));
          }
        }
      } else {  // kOpDropAlias
        if (aliases.erase(key)) {
          out.tail.push_back(r);
        } else {
          out.tail.push_back(Filler(r));
        }
      }
      continue;
    }
    if (r.collection_id == 0 || !target.count(r.collection_id)) {
      // Another collection's record (or a dropped one's): a filler keeps the
      // position. Records without a collection (epoch starts, checkpoints) stay.
      out.tail.push_back(r.collection_id == 0 ? r : Filler(r));
      continue;
    }
    const CollectionName& t = target.at(r.collection_id);
    if (op == WalOp::kCreateCollection && renaming) {
      ARK_ASSIGN_OR_RETURN(auto body, DecodeCreateCollection(r.body, r.position));
      body.database = t.database;
      body.name = t.name;
      WalRecord w = r;
      w.body = EncodeCreateCollection(body);
      out.tail.push_back(std::move(w));
    } else if (r.op == kOpFileChange && renaming) {
      ARK_ASSIGN_OR_RETURN(FileChange change, DecodeFileChange(r.body, r.position));
      WalRecord w = r;
      if (change.kind == FileChangeKind::kImport) {
        change.imported.database = t.database;
        change.imported.name = t.name;
        w.body = EncodeFileChange(change);
      }
      out.tail.push_back(std::move(w));
    } else if (op == WalOp::kRenameCollection && renaming) {
      // The collection is created (or listed in the manifest) under its
      // final name already; intermediate names do not matter.
      out.tail.push_back(Filler(r));
    } else {
      out.tail.push_back(r);
    }
  }
  return out;
}

std::string EncodeTail(const std::vector<WalRecord>& tail) {
  std::string out;
  for (const auto& r : tail) {
    size_t start = out.size();
    AppendWalFrame(&out, r.position, r.timestamp_micros, r.op, r.collection_id, r.body);
    // Everything before this record is durable in a restored log.
    SetWalFrameSyncBase(out.data() + start, r.position.lsn - 1);
  }
  return out;
}

Result<std::vector<WalRecord>> DecodeTail(std::string_view bytes, const std::string& where) {
  std::vector<WalRecord> out;
  size_t offset = 0;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < wal_format::kFrameHeaderSize) {
      return Status::Corruption(fmt::format("{} offset {}: truncated WAL frame header", where, offset));
    }
    WalFrameHeader h;
    if (!DecodeWalFrameHeader(bytes.data() + offset, &h)) {
      return Status::Corruption(fmt::format("{} offset {}: bad WAL frame header", where, offset));
    }
    size_t payload = offset + wal_format::kFrameHeaderSize;
    if (bytes.size() - payload < h.payload_length) {
      return Status::Corruption(fmt::format("{} offset {}: truncated WAL record", where, offset));
    }
    std::string_view p = bytes.substr(payload, h.payload_length);
    if (Xxh3_64(p.data(), p.size()) != h.payload_check) {
      return Status::Corruption(fmt::format("{} offset {}: WAL record checksum mismatch", where, offset));
    }
    WalRecord r;
    if (!DecodeWalPayload(p, &r)) {
      return Status::Corruption(fmt::format("{} offset {}: WAL record too short", where, offset));
    }
    if (!out.empty() && (r.position.lsn != out.back().position.lsn + 1 ||
                         r.position.epoch < out.back().position.epoch)) {
      return Status::Corruption(fmt::format("{} offset {}: record {} does not follow {}", where, offset,
                                            r.position.ToString(), out.back().position.ToString()));
    }
    out.push_back(std::move(r));
    offset = payload + h.payload_length;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> EncodeWalSegments(const BackupState& state) {
  std::vector<std::pair<std::string, std::string>> out;
  if (state.tail.empty()) {
    uint64_t epoch = std::max(state.position.epoch, state.manifest.CurrentEpoch());
    out.emplace_back(wal_format::SegmentFileName(epoch, state.position.lsn + 1),
                     EncodeWalSegmentHeader(epoch, state.position.lsn + 1));
    return out;
  }
  size_t i = 0;
  while (i < state.tail.size()) {
    const uint64_t epoch = state.tail[i].position.epoch;
    const uint64_t first = state.tail[i].position.lsn;
    std::string bytes = EncodeWalSegmentHeader(epoch, first);
    std::vector<WalRecord> group;
    while (i < state.tail.size() && state.tail[i].position.epoch == epoch) group.push_back(state.tail[i++]);
    bytes += EncodeTail(group);
    out.emplace_back(wal_format::SegmentFileName(epoch, first), std::move(bytes));
  }
  return out;
}

}  // namespace ark::dr
