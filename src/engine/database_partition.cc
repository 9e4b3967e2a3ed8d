// Database: Milvus partitions (durable: logged as engine-defined WAL ops
// 104-105 with the collection id in the frame, kept in the manifest).
//
// A partition is a name for a subset of a collection's rows: every row
// carries its partition id in the hidden "$partition" column (schema.h), so
// segments, compaction, the WAL and backups need nothing new, and a read
// restricted to partitions is a bitmap like a filter (CollectionSnapshot::
// Restrict). Dropping a partition deletes its rows in the same record.
#include <fmt/format.h>

#include "engine/database.h"
#include "engine/database_collection.h"
#include "engine/wal_codec.h"

namespace ark {

namespace {

std::string PartitionBody(const std::string& partition, int64_t id) {
  return nlohmann::json{{"partition", partition}, {"id", id}}.dump();
}

}  // namespace

Result<int64_t> Database::PartitionIdLocked(const Collection& c, const std::string& partition) const {
  if (partition.empty() || partition == kDefaultPartition) return kDefaultPartitionId;
  auto it = c.partitions->find(partition);
  if (it == c.partitions->end()) {
    return Status::NotFound(fmt::format("partition not found[partition={}]", partition));
  }
  return it->second;
}

Result<Position> Database::CreatePartition(const std::string& database, const std::string& name,
                                           const std::string& partition) {
  ARK_RETURN_IF_ERROR(ValidateName("partition", partition));
  ARK_RETURN_IF_ERROR(CheckWritable("create partition"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr) return CollectionNotFound(database, name);
    if (partition == kDefaultPartition || c->partitions->count(partition)) {
      return Status::AlreadyExists(fmt::format("partition '{}' already exists in collection '{}'",
                                               partition, c->name));
    }
    if (!c->schema->partition_column) {
      return Status::FailedPrecondition(fmt::format(
          "collection '{}' was created without a partition column and has only the '_default' "
          "partition (collections created through the Milvus API have one)",
          c->name));
    }
    if (c->partitions->size() + 1 >= kMaxPartitions) {
      return Status::FailedPrecondition(fmt::format(
          "collection '{}': partition number ({}) exceeds max configuration ({})", c->name,
          c->partitions->size() + 1, kMaxPartitions));
    }
    std::string body = PartitionBody(partition, c->next_partition_id);
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(static_cast<WalOp>(kOpCreatePartition), c->id, body));
    ARK_RETURN_IF_ERROR(ApplyPartitionRecord(WalRecord{pos, 0, kOpCreatePartition, c->id, body}));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

Result<Position> Database::DropPartition(const std::string& database, const std::string& name,
                                         const std::string& partition) {
  ARK_RETURN_IF_ERROR(CheckWritable("drop partition"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr) return CollectionNotFound(database, name);
    if (partition == kDefaultPartition) {
      return Status::FailedPrecondition("default partition cannot be deleted");
    }
    ARK_ASSIGN_OR_RETURN(int64_t id, PartitionIdLocked(*c, partition));
    std::string body = PartitionBody(partition, id);
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(static_cast<WalOp>(kOpDropPartition), c->id, body));
    ARK_RETURN_IF_ERROR(ApplyPartitionRecord(WalRecord{pos, 0, kOpDropPartition, c->id, body}));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

Result<std::vector<std::string>> Database::ListPartitions(const std::string& database,
                                                          const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Collection* c = FindLocked(database, name);
  if (c == nullptr) return CollectionNotFound(database, name);
  std::vector<std::string> out{std::string(kDefaultPartition)};
  for (const auto& [p, id] : *c->partitions) out.push_back(p);
  return out;
}

// Create: DDL, skipped when the manifest has it. Drop: the delete of the
// partition's rows is data (skipped when the collection's files have it, at
// or before `flushed`), the removal of the name is DDL (skipped at or before
// the manifest's `applied`). Replay is deterministic: the rows deleted are
// those live in the partition just before the record, which recovery has
// rebuilt exactly.
Status Database::ApplyPartitionRecord(const WalRecord& record) {
  const Position at = record.position;
  Collection* c = FindByIdLocked(record.collection_id);
  if (c == nullptr) {
    if (at <= manifest_applied_) return Status::OK();  // the collection was dropped later
    return Status::Corruption(fmt::format("WAL record at {}: partition change of unknown collection id {}",
                                          at.ToString(), record.collection_id));
  }
  auto body = nlohmann::json::parse(record.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("partition") || !body["partition"].is_string() ||
      !body.contains("id") || !body["id"].is_number_integer() || body["id"].get<int64_t>() <= 0) {
    return Status::Corruption(fmt::format("WAL record at {}: partition body is not valid", at.ToString()));
  }
  const std::string partition = body["partition"].get<std::string>();
  const int64_t id = body["id"].get<int64_t>();
  if (record.op == kOpDropPartition && at > c->flushed && c->schema->partition_column) {
    const int col = c->schema->PartitionColumn();
    std::vector<PrimaryKey> keys;
    for (const auto& [key, ref] : c->live) {
      if (ref.block->rows().columns[col].ints[ref.row] == id) keys.push_back(key);
    }
    for (const auto& key : keys) {
      auto it = c->live.find(key);
      DeleteRow(c, key, it->second, at.lsn);
      c->live.erase(it);
    }
  }
  if (at > manifest_applied_) {
    auto next = std::make_shared<PartitionMap>(*c->partitions);
    if (record.op == kOpCreatePartition) {
      if (!next->emplace(partition, id).second) {
        return Status::Corruption(fmt::format("WAL record at {}: partition '{}' already exists",
                                              at.ToString(), partition));
      }
      c->next_partition_id = std::max(c->next_partition_id, id + 1);
    } else {
      auto it = next->find(partition);
      if (it == next->end() || it->second != id) {
        return Status::Corruption(fmt::format("WAL record at {}: drop of unknown partition '{}' (id {})",
                                              at.ToString(), partition, id));
      }
      next->erase(it);
    }
    // The load state: a partition created in a partly loaded collection is
    // loaded (Milvus does this); dropping its last loaded one releases it.
    if (!c->load.FullyLoaded() && !c->load.released) {
      if (record.op == kOpCreatePartition) {
        c->load.partitions.insert(partition);
      } else if (c->load.partitions.erase(partition) > 0 && c->load.partitions.empty()) {
        c->load.released = true;
      }
    }
    std::lock_guard<std::mutex> view(view_mu_);
    c->partitions = std::move(next);
  }
  applied_lsn_.store(std::max(applied_lsn_.load(), at.lsn), std::memory_order_release);
  return Status::OK();
}

}  // namespace ark
