// Database: the write path (insert, upsert, delete) and its apply functions.
#include <fmt/format.h>

#include "engine/database.h"
#include "engine/database_collection.h"
#include "engine/validation.h"
#include "engine/wal_codec.h"

namespace ark {

Status Database::StickyError() const {
  std::lock_guard<std::mutex> lock(error_mu_);
  return sticky_error_;
}

Status Database::Health() const {
  Status s = StickyError();
  return s.ok() ? wal_->Error() : s;
}

void Database::SetWritesBlocked(const std::string& reason) {
  std::lock_guard<std::mutex> lock(error_mu_);
  writes_blocked_ = reason;
}

Status Database::CheckWritable(std::string_view what) const {
  if (!IsFollower()) {
    if (write_fence_) {
      Status fence = write_fence_();
      if (!fence.ok()) return Status(fence.code(), fmt::format("{} refused: {}", what, fence.message()));
    }
    std::lock_guard<std::mutex> lock(error_mu_);
    if (writes_blocked_.empty()) return Status::OK();
    return Status::Unavailable(fmt::format("{} refused: {}", what, writes_blocked_));
  }
  if (!options_.follower_primary.empty()) {
    return Status::FailedPrecondition(fmt::format(
        "{} refused: this server is a standby of {} (read-only: send writes and DDL to the primary)", what,
        options_.follower_primary));
  }
  return Status::FailedPrecondition(fmt::format(
      "{} refused: {} is a follower (read-only; it changes only by replaying its primary's WAL)", what, dir_));
}

Status Database::WaitCommitted(Position pos) {
  ARK_RETURN_IF_ERROR(wal_->WaitDurable(pos));
  if (commit_gate_) ARK_RETURN_IF_ERROR(commit_gate_(pos));
  // Checked last, just before the acknowledgement: a primary that lost its
  // lease while this write waited (a pause, a partition) does not confirm it.
  if (write_fence_ && !IsFollower()) {
    Status fence = write_fence_();
    if (!fence.ok()) {
      return Status(fence.code(), fmt::format("write at {} is durable here but not acknowledged: {}",
                                              pos.ToString(), fence.message()));
    }
  }
  return Status::OK();
}

void Database::SetStickyError(const Status& s) {
  std::lock_guard<std::mutex> lock(error_mu_);
  if (sticky_error_.ok()) sticky_error_ = s;
}

Result<WriteResult> Database::Insert(const std::string& database, const std::string& name,
                                     RowBatch rows, const std::string& partition) {
  return Write(database, name, std::move(rows), WriteKind::kInsert, partition);
}

Result<WriteResult> Database::Upsert(const std::string& database, const std::string& name,
                                     RowBatch rows, const std::string& partition) {
  return Write(database, name, std::move(rows), WriteKind::kUpsert, partition);
}

Result<WriteResult> Database::Write(const std::string& database, const std::string& name,
                                    RowBatch rows, WriteKind kind, const std::string& partition) {
  ARK_RETURN_IF_ERROR(CheckWritable(kind == WriteKind::kInsert ? "insert" : "upsert"));
  ARK_RETURN_IF_ERROR(StickyError());
  // Outside the write lock: resolve, assign autoIDs, validate, encode.
  std::shared_ptr<const CollectionSchema> schema;
  uint64_t id = 0;
  int64_t first_auto_id = 0;
  int64_t partition_id = kDefaultPartitionId;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr) {
      return CollectionNotFound(database, name);
    }
    schema = c->schema;
    id = c->id;
    ARK_ASSIGN_OR_RETURN(partition_id, PartitionIdLocked(*c, partition));
    if (schema->auto_id && kind == WriteKind::kInsert) {
      first_auto_id = c->next_auto_id.fetch_add(static_cast<int64_t>(rows.num_rows));
    }
  }
  const size_t pk = schema->PrimaryKeyIndex();
  if (schema->auto_id && kind == WriteKind::kInsert && pk < rows.columns.size()) {
    auto& keys = rows.columns[pk].ints;
    keys.resize(rows.num_rows);
    for (size_t r = 0; r < rows.num_rows; ++r) keys[r] = first_auto_id + static_cast<int64_t>(r);
  }
  if (schema->partition_column) {
    // The parsers may leave "$partition" out: it is the engine's to fill.
    if (rows.columns.size() + 1 == schema->NumColumns()) rows.columns.emplace_back();
    if (rows.columns.size() == schema->NumColumns()) {
      Column& p = rows.columns[schema->PartitionColumn()];
      p.type = DataType::kInt64;
      p.ints.assign(rows.num_rows, partition_id);
    }
  }
  ARK_RETURN_IF_ERROR(ValidateBatch(*schema, name, rows));
  if (rows.num_rows == 0) {
    return Status::InvalidArgument(fmt::format("collection '{}': no rows to write", name));
  }
  // Encoded under the lock straight into the WAL's buffer (AppendInPlace):
  // the batch's bytes are copied once, not into a body and then a frame.
  const size_t body_size = EncodedRowsSize(rows);
  WriteResult result;
  result.count = rows.num_rows;
  result.keys.reserve(rows.num_rows);
  for (size_t r = 0; r < rows.num_rows; ++r) result.keys.push_back(PrimaryKeyAt(rows.columns[pk], r));
  auto shared = std::make_shared<const RowBatch>(std::move(rows));

  bool seal = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr || c->id != id) {
      return Status::NotFound(fmt::format("collection '{}' in database '{}' was dropped during the write",
                                          name, DbName(database)));
    }
    auto still = PartitionIdLocked(*c, partition);
    if (!still.ok() || *still != partition_id) {
      return Status::NotFound(fmt::format("partition not found[partition={}]: dropped during the write",
                                          partition));
    }
    if (kind == WriteKind::kInsert) {
      for (const auto& key : result.keys) {
        if (c->live.count(key)) {
          return Status::AlreadyExists(fmt::format(
              "collection '{}', field '{}': primary key {} already exists (use upsert to replace it)",
              name, schema->fields[pk].name, PrimaryKeyToString(key)));
        }
      }
    }
    WalOp op = kind == WriteKind::kInsert ? WalOp::kInsert : WalOp::kUpsert;
    ARK_ASSIGN_OR_RETURN(result.position, wal_->AppendInPlace(op, id, body_size, [&](char* dst) {
                           EncodeRowsTo(*shared, dst);
                         }));
    ARK_RETURN_IF_ERROR(ApplyRows(c, kind, std::move(shared), result.position));
    seal = options_.auto_seal && ShouldSealLocked(*c);
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(result.position));
  if (seal) {
    // The write is durable; a failed seal becomes sticky for later writes.
    std::unique_lock<std::mutex> commit(commit_mu_, std::try_to_lock);
    if (commit.owns_lock()) (void)SealLocked(id);
    // The seal took time: the fence is asked again just before the answer.
    if (write_fence_ && !IsFollower()) {
      Status fence = write_fence_();
      if (!fence.ok()) {
        return Status(fence.code(), fmt::format("write at {} is durable here but not acknowledged: {}",
                                                result.position.ToString(), fence.message()));
      }
    }
  }
  return result;
}

Result<WriteResult> Database::Delete(const std::string& database, const std::string& name,
                                     const std::vector<PrimaryKey>& keys, const std::string& partition) {
  ARK_RETURN_IF_ERROR(CheckWritable("delete"));
  ARK_RETURN_IF_ERROR(StickyError());
  WriteResult result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr) return CollectionNotFound(database, name);
    // A named partition keeps only the keys whose live row is in it; the WAL
    // records just those keys, so replay deletes the same rows.
    std::optional<int64_t> partition_id;
    if (!partition.empty() && (partition != kDefaultPartition || c->schema->partition_column)) {
      ARK_ASSIGN_OR_RETURN(partition_id, PartitionIdLocked(*c, partition));
    }
    auto in_partition = [&](const PrimaryKey& k) {
      if (!partition_id) return true;
      const RowRef& ref = c->live.at(k);
      return ref.block->rows().columns[c->schema->PartitionColumn()].ints[ref.row] == *partition_id;
    };
    const FieldSchema& pk = c->schema->PrimaryKey();
    std::vector<PrimaryKey> present;
    for (const auto& k : keys) {
      bool is_string = std::holds_alternative<std::string>(k);
      if (is_string != (pk.type == DataType::kVarChar)) {
        return Status::InvalidArgument(fmt::format(
            "collection '{}', field '{}': expected a {} primary key, got {}", name, pk.name,
            DataTypeName(pk.type), PrimaryKeyToString(k)));
      }
      if (c->live.count(k) && in_partition(k) && std::find(present.begin(), present.end(), k) == present.end()) {
        present.push_back(k);
      }
    }
    result.count = present.size();
    if (present.empty()) {
      result.position = wal_->LastPosition();
    } else {
      ARK_ASSIGN_OR_RETURN(result.position,
                           wal_->Append(WalOp::kDelete, c->id, EncodeKeys(pk.type, present)));
      ARK_RETURN_IF_ERROR(ApplyDelete(c, present, result.position));
    }
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(result.position));
  return result;
}

void Database::DeleteRow(Collection* c, const PrimaryKey& key, RowRef ref, uint64_t lsn) {
  ref.block->MarkDeleted(ref.row, lsn);
  // A row of a segment file: its delete must reach a tombstone file at the
  // next seal. (Rows of a segment being sealed get theirs when the seal's
  // record is applied: ApplySealLocked.)
  if (ref.block->sealed()) c->pending_tombstones.push_back({key, lsn});
}

Status Database::ApplyRows(Collection* c, WriteKind kind, std::shared_ptr<const RowBatch> rows,
                           Position at) {
  const size_t pk = c->schema->PrimaryKeyIndex();
  if (rows->columns.size() <= pk) {
    return Status::Corruption(fmt::format("WAL record at {}: rows lack the key column", at.ToString()));
  }
  auto block = std::make_shared<RowBlock>(rows, at.lsn);
  const Column& keys = rows->columns[pk];
  int64_t max_key = 0;
  for (size_t r = 0; r < rows->num_rows; ++r) {
    PrimaryKey key = PrimaryKeyAt(keys, r);
    if (const auto* i = std::get_if<int64_t>(&key)) max_key = std::max(max_key, *i);
    auto it = c->live.find(key);
    if (it != c->live.end()) {
      if (kind == WriteKind::kInsert) {
        return Status::Corruption(fmt::format("WAL record at {}: insert of key {} that is already live",
                                              at.ToString(), PrimaryKeyToString(key)));
      }
      DeleteRow(c, key, it->second, at.lsn);
      it->second = RowRef{block.get(), static_cast<uint32_t>(r)};
    } else {
      c->live.emplace(std::move(key), RowRef{block.get(), static_cast<uint32_t>(r)});
    }
  }
  if (c->schema->auto_id) {
    int64_t next = c->next_auto_id.load();
    while (next <= max_key && !c->next_auto_id.compare_exchange_weak(next, max_key + 1)) {
    }
  }
  GrowingSegment& g = *c->growing;
  if (g.rows == 0) g.first_write_micros = env_->NowMicros();
  g.rows += rows->num_rows;
  g.bytes += rows->ByteSize();
  if (!g.Append(std::move(block))) {
    return Status::ResourceExhausted(fmt::format("collection '{}': growing segment is full", c->name));
  }
  applied_lsn_.store(at.lsn, std::memory_order_release);
  return Status::OK();
}

Status Database::ApplyDelete(Collection* c, const std::vector<PrimaryKey>& keys, Position at) {
  for (const auto& key : keys) {
    auto it = c->live.find(key);
    if (it == c->live.end()) continue;
    DeleteRow(c, key, it->second, at.lsn);
    c->live.erase(it);
  }
  applied_lsn_.store(at.lsn, std::memory_order_release);
  return Status::OK();
}

bool Database::ShouldSealLocked(const Collection& c) const {
  const GrowingSegment& g = *c.growing;
  if (g.rows == 0) return false;
  return g.rows >= options_.seal_rows || g.bytes >= options_.seal_bytes ||
         env_->NowMicros() - g.first_write_micros >= options_.seal_age_micros;
}

}  // namespace ark
