// Database::ImportCollections: a restore into a running server.
//
// 1. (no lock) refuse clashing names; hard-link (or copy) every file of the
//    entries into files/, held in in_flight_files_ so that no manifest
//    commit sweeps them; read and check the segments and index files;
// 2. (commit_mu_, mu_) check the names again, then per collection append one
//    FileChange "import" record and apply it through the one apply path;
// 3. wait until durable, commit a manifest, drop the holds.
// Until the first record is logged nothing is visible: a failure or a
// cancel leaves unreferenced files only, which the next commit removes.
//
// The imported segments' rows keep the other database's lsns in their files;
// the manifest entry's row_lsn (the import record's lsn) replaces them, so
// the rows are visible from the import on and later deletes (lsn > row_lsn)
// order after them. Deletes already applied in the other database must be
// gone from the segments (no tombstone files): the caller compacts first.
#include <algorithm>

#include <fmt/format.h>

#include "core/hash.h"
#include "engine/content_file.h"
#include "engine/database.h"
#include "engine/database_collection.h"
#include "index/vector_index.h"

namespace ark {

Status Database::CheckImportTargetsLocked(const std::vector<std::pair<std::string, std::string>>& targets) const {
  std::set<std::pair<std::string, std::string>> seen;
  std::map<std::string, size_t> adding;
  for (const auto& [database, name] : targets) {
    const std::string db = DbName(database);
    ARK_RETURN_IF_ERROR(ValidateName("database", db));
    ARK_RETURN_IF_ERROR(ValidateName("collection", name));
    if (db != kDefaultDatabase && !databases_.count(db)) {
      return Status::NotFound(fmt::format(
          "cannot restore collection '{}': database '{}' not found (create it first, or restore with --rename)",
          name, db));
    }
    if (FindLocked(db, name, /*allow_alias=*/false) != nullptr) {
      return Status::AlreadyExists(fmt::format(
          "cannot restore collection '{}': a collection with that name already exists in database '{}' "
          "(choose another name with --rename OLD:NEW or --suffix S)",
          name, db));
    }
    if (aliases_.count({db, name})) {
      return Status::AlreadyExists(fmt::format(
          "cannot restore collection '{}': '{}' is an alias in database '{}' (choose another name with --rename "
          "or --suffix)",
          name, name, db));
    }
    if (!seen.insert({db, name}).second) {
      return Status::InvalidArgument(fmt::format("two collections would be restored as {}.{}", db, name));
    }
    ++adding[db];
  }
  for (const auto& [db, n] : adding) {
    auto props = database_properties_.find(db);
    if (props == database_properties_.end()) continue;
    auto limit = props->second.find(std::string(kMaxCollectionsProperty));
    if (limit == props->second.end()) continue;
    size_t have = 0;
    for (const auto& [key, id] : names_) have += key.first == db;
    if (have + n > std::stoull(limit->second)) {  // validated when set
      return Status::FailedPrecondition(fmt::format(
          "exceeded the limit number of collections[dbName={}][limit={}]", db, limit->second));
    }
  }
  return Status::OK();
}

Status Database::CheckImportTargets(const std::vector<std::pair<std::string, std::string>>& targets) const {
  std::lock_guard<std::mutex> lock(mu_);
  return CheckImportTargetsLocked(targets);
}

Result<std::vector<Position>> Database::ImportCollections(const std::vector<ManifestCollection>& collections,
                                                          const std::string& source_files_dir,
                                                          const std::atomic<bool>* cancelled) {
  ARK_RETURN_IF_ERROR(CheckWritable("restore into the running server"));
  ARK_RETURN_IF_ERROR(StickyError());
  auto is_cancelled = [cancelled] { return cancelled != nullptr && cancelled->load(); };
  std::vector<std::pair<std::string, std::string>> targets;
  std::vector<FileChange> changes;
  for (const auto& c : collections) {
    targets.push_back({DbName(c.database), c.name});
    if (!c.tombstone_files.empty()) {
      return Status::InvalidArgument(fmt::format(
          "collection '{}' has {} tombstone files: compact it (so no sealed row is deleted) before importing",
          c.name, c.tombstone_files.size()));
    }
    ARK_RETURN_IF_ERROR(c.schema.Validate(c.name));
    FileChange change;
    change.kind = FileChangeKind::kImport;
    change.imported = c;
    change.imported.database = DbName(c.database);
    change.imported.id = 0;
    change.imported.created = change.imported.flushed = Position{};
    for (auto& s : change.imported.segments) s.row_lsn = s.min_lsn = s.max_lsn = 0;
    changes.push_back(std::move(change));
  }
  ARK_RETURN_IF_ERROR(CheckImportTargets(targets));

  // 1. Files, held from before they exist until a manifest lists them.
  std::set<std::string> held;
  struct Release {
    Database* db;
    std::set<std::string>* held;
    ~Release() {
      std::lock_guard<std::mutex> view(db->view_mu_);
      for (const auto& f : *held) db->in_flight_files_.erase(f);
    }
  } release{this, &held};
  for (const auto& change : changes) {
    for (const auto& file : change.Added()) {
      if (is_cancelled()) return Status::Cancelled("restore into the running server cancelled; nothing restored");
      {
        std::lock_guard<std::mutex> view(view_mu_);
        if (held.insert(file).second) in_flight_files_.insert(file);
      }
      const std::string to = JoinPath(FilesDir(), file);
      if (env_->FileExists(to)) continue;  // content-addressed: the same bytes
      const std::string from = JoinPath(source_files_dir, file);
      if (env_->LinkFile(from, to).ok()) continue;
      // Another filesystem (or an Env without links): copy, checking the hash.
      ARK_ASSIGN_OR_RETURN(auto mapped, env_->MapFile(from));
      ARK_ASSIGN_OR_RETURN(std::string written, WriteContentAddressedFile(env_, FilesDir(), mapped->data()));
      if (written != file) {
        return Status::Corruption(fmt::format("file {} of collection '{}' has SHA-256 {}", from,
                                              change.imported.name, written));
      }
    }
  }
  ARK_RETURN_IF_ERROR(env_->SyncDir(FilesDir()));
  // Read and check every segment and index file before anything is logged.
  std::vector<PreparedFiles> prepared(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    if (is_cancelled()) return Status::Cancelled("restore into the running server cancelled; nothing restored");
    ARK_RETURN_IF_ERROR(PrepareImport(changes[i], Position{}, &prepared[i]));
  }
  if (is_cancelled()) return Status::Cancelled("restore into the running server cancelled; nothing restored");

  // 2. Log and apply: from here on the restore happens.
  std::vector<Position> positions;
  std::lock_guard<std::mutex> commit(commit_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ARK_RETURN_IF_ERROR(CheckImportTargetsLocked(targets));
    for (size_t i = 0; i < changes.size(); ++i) {
      WalRecord record;
      record.op = kOpFileChange;
      record.collection_id = next_collection_id_;
      record.body = EncodeFileChange(changes[i]);
      ARK_ASSIGN_OR_RETURN(record.position,
                           wal_->Append(static_cast<WalOp>(kOpFileChange), record.collection_id, record.body));
      Status s = ApplyRecordLocked(record, &prepared[i]);
      if (!s.ok()) {
        SetStickyError(s);  // logged but not applied: memory no longer follows the log
        return s;
      }
      positions.push_back(record.position);
    }
  }
  // 3. Durable, then listed by a manifest.
  if (!positions.empty()) ARK_RETURN_IF_ERROR(WaitCommitted(positions.back()));
  ARK_RETURN_IF_ERROR(CommitManifestLocked());
  return positions;
}

Status Database::PrepareImport(const FileChange& change, Position at, PreparedFiles* prepared) {
  const ManifestCollection& mc = change.imported;
  const std::string where =
      at.lsn == 0 ? fmt::format("import of collection '{}'", mc.name)
                  : fmt::format("WAL record at {} (import of collection '{}')", at.ToString(), mc.name);
  for (const auto& s : mc.segments) {
    auto block = LoadSegmentFile(s.file, mc.schema, mc.name);
    if (!block.ok()) return block.status().WithContext(where);
    if ((*block)->num_rows() != s.rows) {
      return Status::Corruption(fmt::format("{}: segment file {} has {} rows, the entry says {}", where, s.file,
                                            (*block)->num_rows(), s.rows));
    }
    for (const auto& [field, files] : s.index_files) {
      for (const auto& f : files) {
        auto index = LoadIndexFile(f, s.rows);
        if (!index.ok()) return index.status().WithContext(where);
        prepared->indexes[f] = std::move(index).value();
      }
    }
    prepared->segments[s.file] = std::move(block).value();
  }
  return Status::OK();
}

Status Database::ApplyImportLocked(uint64_t id, const FileChange& change, Position at, PreparedFiles* prepared) {
  const ManifestCollection& in = change.imported;
  const std::string where = fmt::format("import of collection '{}' at {}", in.name, at.ToString());
  if (collections_.count(id) || names_.count({in.database, in.name})) {
    return Status::Corruption(fmt::format("{}: collection {}.{} (id {}) already exists", where, in.database,
                                          in.name, id));
  }
  auto c = std::make_unique<Collection>();
  c->id = id;
  c->database = in.database;
  c->name = in.name;
  c->schema = std::make_shared<const CollectionSchema>(in.schema);
  c->created = at;
  c->flushed = at;
  c->next_auto_id = in.next_auto_id;
  c->partitions = std::make_shared<const PartitionMap>(in.partitions.begin(), in.partitions.end());
  c->next_partition_id = in.next_partition_id;
  c->properties = in.properties;
  c->load = in.load;
  auto indexes = std::make_shared<CollectionIndexes>();
  indexes->definitions = in.indexes;
  const size_t pk = in.schema.PrimaryKeyIndex();
  for (ManifestSegment entry : in.segments) {
    ARK_ASSIGN_OR_RETURN(auto block, TakePreparedSegment(prepared, entry.file, at));
    // Rows count from the import on (the file's lsns are the other database's).
    block->OverrideRowLsns(at.lsn);
    entry.row_lsn = entry.min_lsn = entry.max_lsn = at.lsn;
    const Column& keys = block->rows().columns[pk];
    for (size_t r = 0; r < block->num_rows(); ++r) {
      PrimaryKey key = PrimaryKeyAt(keys, r);
      auto [slot, inserted] = c->live.emplace(key, RowRef{block.get(), static_cast<uint32_t>(r)});
      if (!inserted) {
        return Status::Corruption(fmt::format("{}: key {} is in two segment files ({} and {})", where,
                                              PrimaryKeyToString(key), slot->second.block->file(), block->file()));
      }
    }
    for (const auto& [field, files] : entry.index_files) {
      if (files.empty()) continue;
      if (indexes->FindByField(field) == nullptr) {
        return Status::Corruption(fmt::format("{}: segment {} has an index file for field '{}', which has no index",
                                              where, entry.file, field));
      }
      ARK_ASSIGN_OR_RETURN(indexes->built[entry.file][field], TakePreparedIndex(prepared, files.front(), at));
      indexes->files[entry.file][field] = files.front();
    }
    c->sealed.push_back(std::move(block));
    c->segment_entries.push_back(std::move(entry));
  }
  c->indexes = std::move(indexes);
  c->published_sealed = std::make_shared<const std::vector<std::shared_ptr<RowBlock>>>(c->sealed);
  c->published_database = c->database;
  c->published_name = c->name;
  Collection* added = c.get();
  next_collection_id_ = std::max(next_collection_id_, id + 1);
  {
    std::lock_guard<std::mutex> view(view_mu_);
    names_[{c->database, c->name}] = id;
    collections_[id] = std::move(c);
  }
  // Segments the other database had not indexed yet are indexed here, as at open.
  if (build_pool_) ScheduleIndexBuildsLocked(added);
  applied_lsn_.store(at.lsn, std::memory_order_release);
  return Status::OK();
}

}  // namespace ark
