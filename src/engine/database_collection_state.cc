// Database: a collection's Milvus properties and load state (durable:
// engine-defined WAL ops 108-109 with the collection id in the frame, kept
// per collection in the manifest). Neither changes rows or files; both are
// DDL, skipped at replay when the manifest already has them.
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "engine/database.h"
#include "engine/database_collection.h"
#include "engine/wal_codec.h"

namespace ark {

namespace {

Status CheckProperties(const std::string& collection, const std::map<std::string, std::string>& set,
                       const std::vector<std::string>& drop) {
  if (set.empty() && drop.empty()) {
    return Status::InvalidArgument(fmt::format("collection '{}': no property to set or drop", collection));
  }
  for (const auto& [key, value] : set) {
    if (key.empty() || key.size() > 256) {
      return Status::InvalidArgument(fmt::format("collection '{}': property keys must be 1..256 bytes", collection));
    }
    if (value.size() > 65536) {
      return Status::InvalidArgument(
          fmt::format("collection '{}': property '{}' is longer than 64 KiB", collection, key));
    }
  }
  return Status::OK();
}

}  // namespace

Result<Position> Database::AlterCollectionProperties(const std::string& database, const std::string& name,
                                                     const std::map<std::string, std::string>& set,
                                                     const std::vector<std::string>& drop) {
  ARK_RETURN_IF_ERROR(CheckProperties(name, set, drop));
  ARK_RETURN_IF_ERROR(CheckWritable("alter collection properties"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr) return CollectionNotFound(database, name);
    nlohmann::json body = {{"set", set}, {"drop", drop}};
    ARK_ASSIGN_OR_RETURN(pos, LogCollectionStateLocked(c, kOpAlterCollection, body.dump()));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

Result<Position> Database::SetLoadState(const std::string& database, const std::string& name,
                                        const CollectionLoadState& state) {
  if (state.released && !state.partitions.empty()) {
    return Status::InvalidArgument(
        fmt::format("collection '{}': a released collection has no loaded partitions", name));
  }
  // The state to store, or nothing when it is the current one (mu_ held).
  auto resolve = [&](Collection** c) -> Result<std::optional<CollectionLoadState>> {
    *c = FindLocked(database, name);
    if (*c == nullptr) return CollectionNotFound(database, name);
    CollectionLoadState next = state;
    for (const auto& p : next.partitions) {
      if (p.empty()) return Status::InvalidArgument(fmt::format("collection '{}': empty partition name", name));
      ARK_RETURN_IF_ERROR(PartitionIdLocked(**c, p).status());
    }
    const bool every = next.partitions.count(std::string(kDefaultPartition)) &&
                       std::all_of((*c)->partitions->begin(), (*c)->partitions->end(),
                                   [&](const auto& p) { return next.partitions.count(p.first) > 0; });
    if (every) next.partitions.clear();
    if (next == (*c)->load) return std::optional<CollectionLoadState>();
    return std::optional<CollectionLoadState>(std::move(next));
  };
  {
    // Nothing to log: done, on a follower too (no write is asked of it).
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = nullptr;
    ARK_ASSIGN_OR_RETURN(auto next, resolve(&c));
    if (!next) return wal_->LastPosition();
  }
  ARK_RETURN_IF_ERROR(CheckWritable("load or release"));  // the fence is not asked under mu_
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = nullptr;
    ARK_ASSIGN_OR_RETURN(auto next, resolve(&c));
    if (!next) return wal_->LastPosition();
    nlohmann::json body = {{"released", next->released}, {"partitions", next->partitions}};
    ARK_ASSIGN_OR_RETURN(pos, LogCollectionStateLocked(c, kOpSetLoadState, body.dump()));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

Result<Position> Database::LogCollectionStateLocked(Collection* c, uint16_t op, const std::string& body) {
  ARK_ASSIGN_OR_RETURN(Position pos, wal_->Append(static_cast<WalOp>(op), c->id, body));
  ARK_RETURN_IF_ERROR(ApplyCollectionStateRecord(WalRecord{pos, 0, op, c->id, body}));
  return pos;
}

// The caller skips records at or before the manifest's `applied`. After it,
// the collection exists (a backup's filtered tail replaces the records of
// collections it did not keep), so an unknown one is Corruption.
Status Database::ApplyCollectionStateRecord(const WalRecord& record) {
  const Position at = record.position;
  auto bad = [&](const std::string& what) {
    return Status::Corruption(fmt::format("WAL record at {} ({}): {}", at.ToString(), EngineOpName(record.op), what));
  };
  Collection* c = FindByIdLocked(record.collection_id);
  if (c == nullptr) return bad(fmt::format("unknown collection id {}", record.collection_id));
  auto body = nlohmann::json::parse(record.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return bad("body is not a JSON object");
  if (record.op == kOpAlterCollection) {
    if (!body.contains("set") || !body["set"].is_object() || !body.contains("drop") || !body["drop"].is_array()) {
      return bad("body lacks set or drop");
    }
    std::map<std::string, std::string> props = c->properties;
    for (auto it = body["set"].begin(); it != body["set"].end(); ++it) {
      if (!it.value().is_string()) return bad(fmt::format("property '{}' is not a string", it.key()));
      props[it.key()] = it.value().get<std::string>();
    }
    for (const auto& k : body["drop"]) {
      if (k.is_string()) props.erase(k.get<std::string>());
    }
    c->properties = std::move(props);
  } else {
    if (!body.contains("released") || !body["released"].is_boolean() || !body.contains("partitions") ||
        !body["partitions"].is_array()) {
      return bad("body lacks released or partitions");
    }
    CollectionLoadState next;
    next.released = body["released"].get<bool>();
    for (const auto& p : body["partitions"]) {
      if (!p.is_string() || p.get<std::string>().empty() || !PartitionIdLocked(*c, p.get<std::string>()).ok()) {
        return bad(fmt::format("collection '{}' has no partition {}", c->name, p.dump()));
      }
      next.partitions.insert(p.get<std::string>());
    }
    if (next.released && !next.partitions.empty()) return bad("released yet lists loaded partitions");
    c->load = std::move(next);
  }
  applied_lsn_.store(std::max(applied_lsn_.load(), at.lsn), std::memory_order_release);
  return Status::OK();
}

}  // namespace ark
