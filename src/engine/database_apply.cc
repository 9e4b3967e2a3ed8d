// Database: the one apply path. Every WAL record becomes state here — a live
// write's file changes (seal, index build, compaction), recovery replaying
// its own log, and records replicated from elsewhere (AppendReplicated).
//
// Applying a record is two steps: PrepareRecord (no lock: fetch the files a
// file-change record names if they are missing, read and check them) and
// ApplyRecordLocked (the write lock: change the in-memory state). The
// primary that made a file change hands its freshly built segments and
// indexes to the same ApplyRecordLocked, so a copy that replays the record
// ends in the state the primary reached.
#include <algorithm>

#include <fmt/format.h>

#include "core/hash.h"
#include "engine/content_file.h"
#include "engine/database.h"
#include "engine/database_collection.h"
#include "engine/lazy_segment.h"
#include "engine/segment_file.h"
#include "engine/wal_codec.h"
#include "index/lazy_vector_index.h"
#include "index/vector_index.h"

namespace ark {

// ---- files named by records -------------------------------------------------------

Status Database::EnsureFile(const std::string& hex) {
  const std::string path = JoinPath(FilesDir(), hex);
  if (env_->FileExists(path)) return Status::OK();
  if (!options_.fetch_file) {
    return Status::NotFound(fmt::format("file {} is not in {} and no file source is configured", hex,
                                        FilesDir()));
  }
  ARK_ASSIGN_OR_RETURN(std::string content, options_.fetch_file(hex));
  const std::string got = ToHex(Sha256(content));
  if (got != hex) {
    return Status::Corruption(fmt::format("fetched file {} has SHA-256 {}: refusing it", hex, got));
  }
  ARK_ASSIGN_OR_RETURN(std::string written, WriteContentAddressedFile(env_, FilesDir(), content));
  (void)written;
  return Status::OK();
}

Result<std::shared_ptr<RowBlock>> Database::LoadSegmentFile(const std::string& file,
                                                            const CollectionSchema& schema,
                                                            const std::string& collection) const {
  const std::string path = JoinPath(FilesDir(), file);
  // Opened lazily: the header, directory, footer and the key, partition and
  // lsn columns are verified and decoded now; every other column on its first
  // use (engine/lazy_segment.h, docs/engine.md "Opening a database").
  auto opened = LazySegment::Open(env_, path, schema);
  if (!opened.ok()) {
    const Status& st = opened.status();
    if (st.Is(StatusCode::kCorruption) || st.Is(StatusCode::kNotSupported)) return st;
    return Status::Corruption(fmt::format("collection '{}': segment file {} cannot be read: {}", collection,
                                          path, opened.status().ToString()));
  }
  if (options_.decode_segments_at_open) ARK_RETURN_IF_ERROR((*opened)->EnsureAll());
  return std::make_shared<RowBlock>(std::move(opened).value(), file, schema.PrimaryKeyIndex());
}

Result<std::shared_ptr<const VectorIndex>> Database::LoadIndexFile(const std::string& file,
                                                                  uint64_t rows) const {
  const std::string path = JoinPath(FilesDir(), file);
  // Opened lazily, as at open: the header is checked now, the graph is
  // checksummed and loaded by the first search (docs/engine.md, "Opening a
  // database"), so replay (recovery, a standby, PITR) reads no graph.
  ARK_ASSIGN_OR_RETURN(auto index, LazyVectorIndex::Open(env_, path));
  if (options_.load_indexes_at_open) ARK_RETURN_IF_ERROR(index->MakeResident());
  WatchIndexLoad(index.get(), file);  // a damaged graph found later is rebuilt
  if (index->num_rows() != rows) {
    return Status::Corruption(fmt::format("index file {} has {} rows, its segment has {}", path,
                                          index->num_rows(), rows));
  }
  return std::shared_ptr<const VectorIndex>(std::move(index));
}

Result<Database::PreparedFiles> Database::PrepareRecord(const WalRecord& record) {
  PreparedFiles prepared;
  if (record.op != kOpFileChange) return prepared;
  ARK_ASSIGN_OR_RETURN(FileChange change, DecodeFileChange(record.body, record.position));
  if (change.kind == FileChangeKind::kImport) {  // a new collection: database_import.cc
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (record.position <= manifest_applied_) return prepared;
    }
    for (const auto& file : change.Added()) {
      ARK_RETURN_IF_ERROR(EnsureFile(file).WithContext(fmt::format(
          "WAL record at {} (import of collection '{}')", record.position.ToString(), change.imported.name)));
    }
    ARK_RETURN_IF_ERROR(PrepareImport(change, record.position, &prepared));
    return prepared;
  }
  std::shared_ptr<const CollectionSchema> schema;
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (record.position <= manifest_applied_) return prepared;  // the manifest has it
    Collection* c = FindByIdLocked(record.collection_id);
    if (c == nullptr) {
      return Status::Corruption(fmt::format("WAL record at {}: file change of unknown collection id {}",
                                            record.position.ToString(), record.collection_id));
    }
    schema = c->schema;
    name = c->name;
  }
  for (const auto& file : change.Added()) {
    ARK_RETURN_IF_ERROR(EnsureFile(file).WithContext(
        fmt::format("WAL record at {} ({} of collection '{}')", record.position.ToString(),
                    FileChangeKindName(change.kind), name)));
  }
  auto load_segment = [&](const ManifestSegment& s) -> Status {
    ARK_ASSIGN_OR_RETURN(auto block, LoadSegmentFile(s.file, *schema, name));
    if (block->num_rows() != s.rows) {
      return Status::Corruption(fmt::format("segment file {} has {} rows, the WAL record at {} says {}", s.file,
                                            block->num_rows(), record.position.ToString(), s.rows));
    }
    for (const auto& [field, files] : s.index_files) {
      for (const auto& f : files) {
        ARK_ASSIGN_OR_RETURN(prepared.indexes[f], LoadIndexFile(f, s.rows));
      }
    }
    prepared.segments[s.file] = std::move(block);
    return Status::OK();
  };
  switch (change.kind) {
    case FileChangeKind::kSeal:
      if (change.has_segment) ARK_RETURN_IF_ERROR(load_segment(change.segment));
      break;
    case FileChangeKind::kCompact:
      for (const auto& s : change.segments) ARK_RETURN_IF_ERROR(load_segment(s));
      break;
    case FileChangeKind::kIndex: {
      uint64_t rows = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (Collection* c = FindByIdLocked(record.collection_id)) {
          for (const auto& e : c->segment_entries) rows = e.file == change.index_segment ? e.rows : rows;
        }
      }
      ARK_ASSIGN_OR_RETURN(prepared.indexes[change.index_file], LoadIndexFile(change.index_file, rows));
      break;
    }
    case FileChangeKind::kImport:
      break;  // handled above
  }
  return prepared;
}

Status Database::ApplyRecord(const WalRecord& record) {
  ARK_ASSIGN_OR_RETURN(PreparedFiles prepared, PrepareRecord(record));
  std::lock_guard<std::mutex> lock(mu_);
  return ApplyRecordLocked(record, &prepared);
}

// ---- the switch --------------------------------------------------------------------

Status Database::ApplyRecordLocked(const WalRecord& record, PreparedFiles* prepared) {
  const Position at = record.position;
  switch (static_cast<WalOp>(record.op)) {
    case WalOp::kCreateCollection: {
      if (at <= manifest_applied_) return Status::OK();
      ARK_ASSIGN_OR_RETURN(auto body, DecodeCreateCollection(record.body, at));
      return ApplyCreate(record.collection_id, body, at);
    }
    case WalOp::kDropCollection:
      if (at <= manifest_applied_) return Status::OK();
      ARK_RETURN_IF_ERROR(ApplyDrop(record.collection_id));
      applied_lsn_.store(at.lsn, std::memory_order_release);
      return Status::OK();
    case WalOp::kRenameCollection: {
      if (at <= manifest_applied_) return Status::OK();
      ARK_ASSIGN_OR_RETURN(auto body, DecodeRenameCollection(record.body, at));
      ARK_RETURN_IF_ERROR(ApplyRename(record.collection_id, body));
      applied_lsn_.store(at.lsn, std::memory_order_release);
      return Status::OK();
    }
    case WalOp::kCreateIndex:
    case WalOp::kDropIndex:
      if (at <= manifest_applied_) return Status::OK();
      return ApplyIndexRecordLocked(record);
    case WalOp::kInsert:
    case WalOp::kUpsert:
    case WalOp::kDelete: {
      Collection* c = FindByIdLocked(record.collection_id);
      if (c == nullptr) {
        if (at <= manifest_applied_) return Status::OK();  // dropped before the manifest
        return Status::Corruption(fmt::format("WAL record at {}: collection id {} does not exist",
                                              at.ToString(), record.collection_id));
      }
      if (at <= c->flushed) return Status::OK();
      if (static_cast<WalOp>(record.op) == WalOp::kDelete) {
        ARK_ASSIGN_OR_RETURN(auto keys, DecodeKeys(record.body, at));
        return ApplyDelete(c, keys, at);
      }
      ARK_ASSIGN_OR_RETURN(RowBatch rows, DecodeRows(record.body, at));
      WriteKind kind = static_cast<WalOp>(record.op) == WalOp::kInsert ? WriteKind::kInsert
                                                                        : WriteKind::kUpsert;
      return ApplyRows(c, kind, std::make_shared<const RowBatch>(std::move(rows)), at);
    }
    case WalOp::kEpochStart: {
      // The epoch starts at this record: recorded here so that a crash
      // between the record and the manifest commit cannot move its start.
      if (epochs_.empty() || epochs_.back().epoch < at.epoch) epochs_.push_back({at.epoch, at});
      applied_lsn_.store(std::max(applied_lsn_.load(), at.lsn), std::memory_order_release);
      return Status::OK();
    }
    default:
      break;
  }
  if (record.op == kOpFileChange) {
    if (at <= manifest_applied_) return Status::OK();
    ARK_ASSIGN_OR_RETURN(FileChange change, DecodeFileChange(record.body, at));
    if (change.kind == FileChangeKind::kImport) return ApplyImportLocked(record.collection_id, change, at, prepared);
    Collection* c = FindByIdLocked(record.collection_id);
    if (c == nullptr) {
      return Status::Corruption(fmt::format("WAL record at {}: {} of unknown collection id {}", at.ToString(),
                                            FileChangeKindName(change.kind), record.collection_id));
    }
    ARK_RETURN_IF_ERROR(ApplyFileChangeLocked(c, change, at, prepared));
    applied_lsn_.store(at.lsn, std::memory_order_release);
    return Status::OK();
  }
  if (record.op >= kOpCreateDatabase && record.op <= kOpDropAlias) {
    if (at <= manifest_applied_) return Status::OK();
    return ApplyNamespaceRecord(record);
  }
  if (record.op == kOpAlterDatabase) {
    if (at <= manifest_applied_) return Status::OK();
    return ApplyAlterDatabase(record);
  }
  if (record.op == kOpAlterCollection || record.op == kOpSetLoadState) {
    if (at <= manifest_applied_) return Status::OK();
    return ApplyCollectionStateRecord(record);
  }
  if (record.op == kOpCreatePartition || record.op == kOpDropPartition) {
    // Applies its own skip rules (a drop is DDL and a delete of rows).
    return ApplyPartitionRecord(record);
  }
  // Checkpoints and later operations carry no collection state.
  applied_lsn_.store(std::max(applied_lsn_.load(), at.lsn), std::memory_order_release);
  return Status::OK();
}

Status Database::ApplyIndexRecordLocked(const WalRecord& record) {
  const Position at = record.position;
  Collection* c = FindByIdLocked(record.collection_id);
  if (c == nullptr) {
    return Status::Corruption(fmt::format("WAL record at {}: index change of unknown collection id {}",
                                          at.ToString(), record.collection_id));
  }
  auto body = nlohmann::json::parse(record.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::Corruption(fmt::format("WAL record at {}: index body is not a JSON object", at.ToString()));
  }
  Status s;
  if (static_cast<WalOp>(record.op) == WalOp::kCreateIndex) {
    auto def = IndexDefinition::FromJson(body);
    if (!def.ok()) return Status::Corruption(fmt::format("WAL record at {}: {}", at.ToString(), def.status().message()));
    s = ApplyCreateIndex(c, std::move(def).value());
  } else {
    if (!body.contains("indexName") || !body["indexName"].is_string()) {
      return Status::Corruption(fmt::format("WAL record at {}: drop index without indexName", at.ToString()));
    }
    s = ApplyDropIndex(c, body["indexName"].get<std::string>());
  }
  applied_lsn_.store(at.lsn, std::memory_order_release);
  return s;
}

// ---- file changes ---------------------------------------------------------------------

Status Database::ApplyFileChangeLocked(Collection* c, const FileChange& change, Position at,
                                       PreparedFiles* prepared) {
  switch (change.kind) {
    case FileChangeKind::kSeal:
      return ApplySealLocked(c, change, at, prepared);
    case FileChangeKind::kIndex:
      return ApplyIndexBuiltLocked(c, change, at, prepared);
    case FileChangeKind::kCompact:
      return ApplyCompactLocked(c, change, at, prepared);
    case FileChangeKind::kImport:
      break;  // not a change of an existing collection: ApplyImportLocked
  }
  return Status::OK();
}

namespace {

// Maps the rows of `sources` that are visible at `cut` (not deleted at or
// before it), in order, onto the rows of `targets` (the files written from
// them): checks every key, carries later deletes over, and re-points the
// live-key map. `on_carried` sees each carried delete (key, lsn).
template <typename LiveMap, typename RowRefT, typename OnCarried>
Status MapRowsOnto(const std::vector<RowBlock*>& sources, uint64_t cut,
                   const std::vector<std::shared_ptr<RowBlock>>& targets, size_t pk, LiveMap* live,
                   const std::string& where, OnCarried on_carried) {
  size_t t = 0, k = 0;
  for (RowBlock* b : sources) {
    const Column& keys = b->rows().columns[pk];
    for (size_t r = 0; r < b->num_rows(); ++r) {
      const uint64_t d = b->DeleteLsn(r);
      if (d != 0 && d <= cut) continue;
      while (t < targets.size() && k >= targets[t]->num_rows()) {
        ++t;
        k = 0;
      }
      PrimaryKey key = PrimaryKeyAt(keys, r);
      if (t == targets.size()) {
        return Status::Corruption(fmt::format("{}: more rows were live at lsn {} than its files hold (key {})",
                                              where, cut, PrimaryKeyToString(key)));
      }
      RowBlock* target = targets[t].get();
      if (!(PrimaryKeyAt(target->rows().columns[pk], k) == key)) {
        return Status::Corruption(fmt::format("{}: file {} row {} holds key {}, the replayed rows say {}", where,
                                              target->file(), k,
                                              PrimaryKeyToString(PrimaryKeyAt(target->rows().columns[pk], k)),
                                              PrimaryKeyToString(key)));
      }
      if (d != 0) {
        target->MarkDeleted(k, d);
        on_carried(key, d);
      }
      auto it = live->find(key);
      if (it != live->end() && it->second.block == b && it->second.row == r) {
        it->second = RowRefT{target, static_cast<uint32_t>(k)};
      }
      ++k;
    }
  }
  while (t < targets.size() && k >= targets[t]->num_rows()) {
    ++t;
    k = 0;
  }
  if (t != targets.size()) {
    return Status::Corruption(fmt::format("{}: file {} holds rows that were not live at lsn {}", where,
                                          targets[t]->file(), cut));
  }
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<RowBlock>> Database::TakePreparedSegment(PreparedFiles* prepared,
                                                               const std::string& file, Position at) {
  if (prepared != nullptr) {
    if (auto it = prepared->segments.find(file); it != prepared->segments.end()) return it->second;
  }
  return Status::Internal(fmt::format("WAL record at {}: segment file {} was not prepared", at.ToString(), file));
}

Result<std::shared_ptr<const VectorIndex>> Database::TakePreparedIndex(PreparedFiles* prepared,
                                                                      const std::string& file, Position at) {
  if (prepared != nullptr) {
    if (auto it = prepared->indexes.find(file); it != prepared->indexes.end()) return it->second;
  }
  return Status::Internal(fmt::format("WAL record at {}: index file {} was not prepared", at.ToString(), file));
}

Status Database::ApplySealLocked(Collection* c, const FileChange& change, Position at,
                                 PreparedFiles* prepared) {
  const uint64_t cut = change.seal_point.lsn;
  const std::string where = fmt::format("seal of collection '{}' at {}", c->name, at.ToString());
  // The rows sealed: a primary's frozen segment, or (replaying) the prefix of
  // the growing segment written at or before the seal point.
  std::vector<RowBlock*> sources;
  if (c->frozen) {
    for (size_t i = 0; i < c->frozen->count(); ++i) sources.push_back(c->frozen->at(i).get());
  }
  size_t keep_from = 0;
  while (keep_from < c->growing->count() && c->growing->at(keep_from)->MaxLsn() <= cut) {
    sources.push_back(c->growing->at(keep_from).get());
    ++keep_from;
  }
  std::vector<std::shared_ptr<RowBlock>> targets;
  if (change.has_segment) {
    ARK_ASSIGN_OR_RETURN(auto block, TakePreparedSegment(prepared, change.segment.file, at));
    targets.push_back(std::move(block));
  }
  // Deletes of sealed rows up to the seal point are in the tombstone file.
  std::erase_if(c->pending_tombstones, [cut](const Tombstone& t) { return t.lsn <= cut; });
  // Deletes after the seal point of rows now in the segment file need a
  // tombstone at the next seal.
  Status mapped = MapRowsOnto<decltype(c->live), RowRef>(
      sources, cut, targets, c->schema->PrimaryKeyIndex(), &c->live, where,
      [c](const PrimaryKey& key, uint64_t lsn) { c->pending_tombstones.push_back({key, lsn}); });
  ARK_RETURN_IF_ERROR(mapped);
  if (change.has_segment) {
    c->sealed.push_back(targets.front());
    c->segment_entries.push_back(change.segment);
  }
  if (!change.tombstone.empty()) c->tombstone_files.push_back(change.tombstone);
  c->frozen = nullptr;
  c->flushed = change.seal_point;
  if (keep_from > 0) {
    auto rest = std::make_shared<GrowingSegment>();
    for (size_t i = keep_from; i < c->growing->count(); ++i) {
      const auto& b = c->growing->at(i);
      rest->rows += b->num_rows();
      rest->bytes += b->rows().ByteSize();
      if (!rest->Append(b)) return Status::ResourceExhausted(where + ": growing segment is full");
    }
    rest->first_write_micros = rest->rows ? env_->NowMicros() : 0;
    c->growing = std::move(rest);
  }
  std::lock_guard<std::mutex> view(view_mu_);
  c->published_sealed = std::make_shared<const std::vector<std::shared_ptr<RowBlock>>>(c->sealed);
  c->published_frozen = nullptr;
  c->published_growing = c->growing;
  return Status::OK();
}

Status Database::ApplyIndexBuiltLocked(Collection* c, const FileChange& change, Position at,
                                       PreparedFiles* prepared) {
  const std::string where = fmt::format("index build of collection '{}' at {}", c->name, at.ToString());
  const IndexDefinition* def = c->indexes->FindByField(change.field);
  if (def == nullptr || !(*def == change.index)) {
    return Status::Corruption(fmt::format("{}: field '{}' has no index definition equal to the record's", where,
                                          change.field));
  }
  auto entry = std::find_if(c->segment_entries.begin(), c->segment_entries.end(),
                            [&](const ManifestSegment& e) { return e.file == change.index_segment; });
  if (entry == c->segment_entries.end()) {
    return Status::Corruption(fmt::format("{}: segment {} is not in the collection", where, change.index_segment));
  }
  auto old = entry->index_files.find(change.field);
  const std::string replaced = old == entry->index_files.end() || old->second.empty() ? "" : old->second.front();
  if (replaced != change.replaced_index_file) {
    return Status::Corruption(fmt::format("{}: the record replaces index file '{}', the segment has '{}'", where,
                                          change.replaced_index_file, replaced));
  }
  ARK_ASSIGN_OR_RETURN(auto index, TakePreparedIndex(prepared, change.index_file, at));
  entry->index_files[change.field] = {change.index_file};
  auto next = std::make_shared<CollectionIndexes>(*c->indexes);
  next->built[entry->file][change.field] = std::move(index);
  next->files[entry->file][change.field] = change.index_file;
  SetIndexes(c, std::move(next));
  return Status::OK();
}

Status Database::ApplyCompactLocked(Collection* c, const FileChange& change, Position at,
                                    PreparedFiles* prepared) {
  const std::string where = fmt::format("compaction of collection '{}' at {}", c->name, at.ToString());
  std::vector<RowBlock*> sources;
  std::set<std::string> replaced(change.replaced.begin(), change.replaced.end());
  for (const auto& file : change.replaced) {
    auto b = std::find_if(c->sealed.begin(), c->sealed.end(), [&](const auto& s) { return s->file() == file; });
    if (b == c->sealed.end()) return Status::Corruption(fmt::format("{}: segment {} is not in the collection", where, file));
    sources.push_back(b->get());
  }
  std::vector<std::shared_ptr<RowBlock>> targets;
  for (const auto& s : change.segments) {
    ARK_ASSIGN_OR_RETURN(auto block, TakePreparedSegment(prepared, s.file, at));
    targets.push_back(std::move(block));
  }
  // Rows of sealed segments already have their later deletes in
  // pending_tombstones: carrying them over only marks the new rows.
  Status mapped = MapRowsOnto<decltype(c->live), RowRef>(sources, change.snapshot_lsn, targets,
                                                         c->schema->PrimaryKeyIndex(), &c->live, where,
                                                         [](const PrimaryKey&, uint64_t) {});
  ARK_RETURN_IF_ERROR(mapped);
  for (const auto& f : change.dropped_tombstones) {
    auto t = std::find(c->tombstone_files.begin(), c->tombstone_files.end(), f);
    if (t == c->tombstone_files.end()) {
      return Status::Corruption(fmt::format("{}: tombstone file {} is not in the collection", where, f));
    }
    c->tombstone_files.erase(t);
  }
  auto next_indexes = std::make_shared<CollectionIndexes>(*c->indexes);
  for (const auto& file : change.replaced) {
    next_indexes->built.erase(file);
    next_indexes->files.erase(file);
  }
  for (const auto& s : change.segments) {
    for (const auto& [field, files] : s.index_files) {
      if (files.empty()) continue;
      ARK_ASSIGN_OR_RETURN(next_indexes->built[s.file][field], TakePreparedIndex(prepared, files.front(), at));
      next_indexes->files[s.file][field] = files.front();
    }
  }
  // Keep segment order (oldest first): the new segments take the place of
  // the first rewritten one.
  std::vector<std::shared_ptr<RowBlock>> sealed;
  std::vector<ManifestSegment> entries;
  bool inserted = false;
  for (size_t i = 0; i < c->sealed.size(); ++i) {
    if (replaced.count(c->sealed[i]->file())) {
      if (!inserted) {
        sealed.insert(sealed.end(), targets.begin(), targets.end());
        entries.insert(entries.end(), change.segments.begin(), change.segments.end());
        inserted = true;
      }
      continue;
    }
    sealed.push_back(c->sealed[i]);
    entries.push_back(c->segment_entries[i]);
  }
  c->sealed = std::move(sealed);
  c->segment_entries = std::move(entries);
  std::lock_guard<std::mutex> view(view_mu_);
  c->indexes = std::move(next_indexes);
  c->published_sealed = std::make_shared<const std::vector<std::shared_ptr<RowBlock>>>(c->sealed);
  return Status::OK();
}

// ---- records from elsewhere -----------------------------------------------------------

bool Database::NeedsManifestCommit(uint16_t op) {
  // Exactly the records after which the primary commits a manifest itself:
  // collection create/drop/rename, a new epoch, a file change. The rest
  // (rows, namespace and index DDL) live in the WAL until the next commit;
  // replaying them at open must not write anything, so a tool that opens a
  // cleanly stopped directory and refuses (bad arguments) leaves it unchanged.
  switch (static_cast<WalOp>(op)) {
    case WalOp::kCreateCollection:
    case WalOp::kDropCollection:
    case WalOp::kRenameCollection:
    case WalOp::kEpochStart:
      return true;
    default:
      return op == kOpFileChange;
  }
}

Result<Position> Database::AppendReplicated(const WalRecord& record) {
  ARK_RETURN_IF_ERROR(StickyError());
  if (!IsFollower()) {
    return Status::FailedPrecondition(fmt::format(
        "{} is not a follower: it takes writes of its own, so it cannot also append records from elsewhere "
        "(record at {})", dir_, record.position.ToString()));
  }
  // Files first (fetched and checked without a lock): a record whose files
  // cannot be had is not written at all.
  ARK_ASSIGN_OR_RETURN(PreparedFiles prepared, PrepareRecord(record));
  std::lock_guard<std::mutex> commit(commit_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ARK_ASSIGN_OR_RETURN(Position pos, wal_->AppendReplicated(record));
    if (pos != record.position) {
      return Status::Internal(fmt::format("replicated record at {} was written at {}", record.position.ToString(),
                                          pos.ToString()));
    }
    Status s = ApplyRecordLocked(record, &prepared);
    if (!s.ok()) {
      // In the log but not in memory: nothing later may be applied on top.
      SetStickyError(s);
      return s;
    }
  }
  ARK_RETURN_IF_ERROR(wal_->WaitDurable(record.position));
  if (NeedsManifestCommit(record.op)) ARK_RETURN_IF_ERROR(CommitManifestLocked());
  return record.position;
}

}  // namespace ark
