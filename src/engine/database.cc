// Database: open, recovery, collections, reads and the apply path.
// Writes: database_write.cc. Seal, manifest commits and DR seams: database_seal.cc.
#include "engine/database.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/hash.h"
#include "engine/database_collection.h"
#include "engine/manifest_format.h"
#include "engine/segment_file.h"
#include "engine/tombstone_file.h"
#include "engine/wal_codec.h"

namespace ark {

namespace mf = manifest_format;

Database::Database(Env* env, std::string dir, const DatabaseOptions& options)
    : env_(env), dir_(std::move(dir)), options_(options), follower_(options.follower) {}

Database::~Database() {
  closing_.store(true);
  build_pool_.reset();  // cancels queued builds, joins running ones
  if (wal_) (void)wal_->Flush();
}

std::string Database::FilesDir() const { return JoinPath(dir_, mf::kFilesDir); }

Result<std::unique_ptr<Database>> Database::Open(Env* env, const std::string& dir,
                                                 const DatabaseOptions& options) {
  std::unique_ptr<Database> db(new Database(env, dir, options));
  ARK_RETURN_IF_ERROR(env->CreateDirs(dir));
  ARK_ASSIGN_OR_RETURN(db->lock_, env->LockFile(JoinPath(dir, mf::kLockFile)));
  ARK_RETURN_IF_ERROR(db->Recover());
  IndexBuildPool::Options pool;
  pool.threads = std::max(0, options.index_build_threads);
  pool.max_queued = 1u << 20;  // one task per (segment, field): bounded by the data
  db->build_pool_ = std::make_unique<IndexBuildPool>(pool);
  {
    std::lock_guard<std::mutex> lock(db->mu_);
    for (auto& [id, c] : db->collections_) db->ScheduleIndexBuildsLocked(c.get());
  }
  return db;
}

Status Database::Recover() {
  ARK_RETURN_IF_ERROR(env_->CreateDirs(FilesDir()));
  // Temp files left by a crash mid-write (content_file.cc writes <hash>.tmp,
  // then renames). Only here, before anything can be writing: while the
  // database runs, a .tmp may be a compaction's or an index build's file in
  // progress.
  if (auto names = env_->ListDir(FilesDir()); names.ok()) {
    for (const auto& n : *names) {
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) (void)env_->RemoveFile(JoinPath(FilesDir(), n));
    }
  }
  // A restore into the running server that a crash interrupted: its staging
  // directory (never referenced by the manifest) goes.
  if (auto names = env_->ListDir(dir_); names.ok()) {
    for (const auto& n : *names) {
      if (n.rfind(mf::kRestoreStagingPrefix, 0) == 0) (void)env_->RemoveAll(JoinPath(dir_, n));
    }
  }
  std::string current;
  Manifest m;
  auto loaded = LoadCurrentManifest(env_, dir_, &current);
  bool fresh = false;
  if (loaded.ok()) {
    m = std::move(loaded).value();
  } else if (loaded.status().IsNotFound()) {
    fresh = true;
  } else {
    return loaded.status();
  }
  std::lock_guard<std::mutex> commit(commit_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    manifest_version_ = m.version;
    manifest_applied_ = m.applied;
    next_collection_id_ = m.next_collection_id;
    epochs_ = m.epochs;
    for (const auto& mc : m.collections) ARK_RETURN_IF_ERROR(LoadCollection(mc));
    databases_.insert(m.databases.begin(), m.databases.end());
    database_properties_ = m.database_properties;
    retired_files_ = m.retired;
    for (const auto& a : m.aliases) {
      if (!collections_.count(a.collection_id)) {
        return Status::Corruption(fmt::format("manifest {}: alias '{}' names unknown collection id {}",
                                              current, a.alias, a.collection_id));
      }
      aliases_[{a.database, a.alias}] = a.collection_id;
    }
  }
  {
    std::lock_guard<std::mutex> view(view_mu_);
    last_manifest_ = m;
  }
  ARK_ASSIGN_OR_RETURN(wal_, Wal::Open(env_, JoinPath(dir_, mf::kWalDir), options_.wal));
  if (wal_->LastPosition() < m.applied) {
    return Status::Corruption(fmt::format(
        "{}: the WAL ends at {} but manifest {} says {} was applied (WAL files lost?)", dir_,
        wal_->LastPosition().ToString(), current, m.applied.ToString()));
  }
  // A file change, DDL or epoch the manifest missed (a crash before its
  // commit) is committed now: its files become live (servable by hash) at once.
  bool replayed_manifest_change = false;
  ARK_RETURN_IF_ERROR(wal_->Replay(m.checkpoint, [&](const WalRecord& r) {
    replayed_manifest_change |= r.position > m.applied && NeedsManifestCommit(r.op);
    return ApplyRecord(r);
  }));
  applied_lsn_.store(wal_->LastPosition().lsn, std::memory_order_release);
  bool new_epoch = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t epoch = wal_->CurrentEpoch();
    if (epochs_.empty() || epochs_.back().epoch != epoch) {
      epochs_.push_back({epoch, Position{epoch, wal_->LastPosition().lsn + 1}});
      new_epoch = true;
    }
  }
  if (fresh || new_epoch || replayed_manifest_change) return CommitManifestLocked();
  return Status::OK();
}

Status Database::LoadCollection(const ManifestCollection& mc) {
  auto c = std::make_unique<Collection>();
  c->id = mc.id;
  c->database = mc.database;
  c->name = mc.name;
  c->schema = std::make_shared<const CollectionSchema>(mc.schema);
  c->created = mc.created;
  c->flushed = mc.flushed;
  c->next_auto_id = mc.next_auto_id;
  c->segment_entries = mc.segments;
  c->tombstone_files = mc.tombstone_files;
  c->partitions = std::make_shared<const PartitionMap>(mc.partitions.begin(), mc.partitions.end());
  c->next_partition_id = mc.next_partition_id;
  c->properties = mc.properties;
  c->load = mc.load;
  {
    auto indexes = std::make_shared<CollectionIndexes>();
    indexes->definitions = mc.indexes;
    c->indexes = std::move(indexes);
  }
  const size_t pk = mc.schema.PrimaryKeyIndex();
  for (const auto& seg : mc.segments) {
    ARK_ASSIGN_OR_RETURN(auto block, LoadSegmentFile(seg.file, mc.schema, mc.name));
    if (seg.row_lsn != 0) block->OverrideRowLsns(seg.row_lsn);  // imported (database_import.cc)
    c->sealed.push_back(std::move(block));
  }
  // key -> delete lsns (sorted): a row dies at the first delete after its insert.
  std::unordered_map<PrimaryKey, std::vector<uint64_t>> deletes;
  for (const auto& file : mc.tombstone_files) {
    std::string path = JoinPath(FilesDir(), file);
    auto mapped = env_->MapFile(path);
    if (!mapped.ok()) {
      return Status::Corruption(fmt::format("collection '{}': tombstone file {} cannot be read: {}",
                                            mc.name, path, mapped.status().ToString()));
    }
    ARK_ASSIGN_OR_RETURN(TombstoneContents t, DecodeTombstones((*mapped)->data(), path));
    for (auto& e : t.entries) deletes[e.key].push_back(e.lsn);
  }
  for (auto& [key, lsns] : deletes) std::sort(lsns.begin(), lsns.end());
  for (const auto& block : c->sealed) {
    const Column& keys = block->rows().columns[pk];
    for (size_t r = 0; r < block->num_rows(); ++r) {
      PrimaryKey key = PrimaryKeyAt(keys, r);
      auto d = deletes.find(key);
      if (d != deletes.end()) {
        auto it = std::upper_bound(d->second.begin(), d->second.end(), block->RowLsn(r));
        if (it != d->second.end()) {
          block->MarkDeleted(r, *it);
          continue;
        }
      }
      auto [slot, inserted] = c->live.emplace(key, RowRef{block.get(), static_cast<uint32_t>(r)});
      if (!inserted) {
        return Status::Corruption(fmt::format(
            "collection '{}': key {} is live in two segment files ({} and {})", mc.name,
            PrimaryKeyToString(key), slot->second.block->file(), block->file()));
      }
    }
  }
  c->published_sealed = std::make_shared<const std::vector<std::shared_ptr<RowBlock>>>(c->sealed);
  c->published_database = c->database;
  c->published_name = c->name;
  LoadIndexFilesLocked(c.get());
  names_[{c->database, c->name}] = c->id;
  collections_[c->id] = std::move(c);
  return Status::OK();
}

Status Database::ApplyCreate(uint64_t id, const CreateCollectionBody& body, Position at) {
  if (collections_.count(id) || names_.count({body.database, body.name})) {
    return Status::Corruption(fmt::format("WAL record at {}: collection {}.{} (id {}) already exists",
                                          at.ToString(), body.database, body.name, id));
  }
  auto c = std::make_unique<Collection>();
  c->id = id;
  c->database = body.database;
  c->name = body.name;
  c->schema = std::make_shared<const CollectionSchema>(body.schema);
  c->created = at;
  c->flushed = at;
  c->published_database = c->database;
  c->published_name = c->name;
  next_collection_id_ = std::max(next_collection_id_, id + 1);
  std::lock_guard<std::mutex> view(view_mu_);
  names_[{c->database, c->name}] = id;
  collections_[id] = std::move(c);
  applied_lsn_.store(at.lsn, std::memory_order_release);
  return Status::OK();
}

Status Database::ApplyDrop(uint64_t id) {
  auto it = collections_.find(id);
  if (it == collections_.end()) return Status::Corruption(fmt::format("drop of unknown collection id {}", id));
  std::lock_guard<std::mutex> view(view_mu_);
  names_.erase({it->second->database, it->second->name});
  std::erase_if(aliases_, [id](const auto& a) { return a.second == id; });
  collections_.erase(it);
  return Status::OK();
}

Status Database::ApplyRename(uint64_t id, const RenameCollectionBody& body) {
  Collection* c = FindByIdLocked(id);
  if (c == nullptr) return Status::Corruption(fmt::format("rename of unknown collection id {}", id));
  std::lock_guard<std::mutex> view(view_mu_);
  names_.erase({c->database, c->name});
  if (body.database != c->database) {  // aliases live in the collection's database
    std::erase_if(aliases_, [id](const auto& a) { return a.second == id; });
  }
  c->database = body.database;
  c->name = body.name;
  c->published_database = body.database;
  c->published_name = body.name;
  names_[{c->database, c->name}] = id;
  return Status::OK();
}

Database::Collection* Database::FindLocked(const std::string& database,
                                           const std::string& name, bool allow_alias) const {
  auto it = names_.find({DbName(database), name});
  if (it != names_.end()) return FindByIdLocked(it->second);
  if (!allow_alias) return nullptr;
  auto a = aliases_.find({DbName(database), name});
  return a == aliases_.end() ? nullptr : FindByIdLocked(a->second);
}

Database::Collection* Database::FindByIdLocked(uint64_t id) const {
  auto it = collections_.find(id);
  return it == collections_.end() ? nullptr : it->second.get();
}

// ---- DDL -------------------------------------------------------------------

Result<Position> Database::CreateCollection(const std::string& database, const std::string& name,
                                            const CollectionSchema& schema) {
  const std::string db = DbName(database);
  ARK_RETURN_IF_ERROR(ValidateName("database", db));
  ARK_RETURN_IF_ERROR(ValidateName("collection", name));
  ARK_RETURN_IF_ERROR(schema.Validate(name));
  ARK_RETURN_IF_ERROR(CheckWritable("create collection"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (db != kDefaultDatabase && !databases_.count(db)) {
      return Status::NotFound(fmt::format("database '{}' not found", db));
    }
    if (FindLocked(db, name, /*allow_alias=*/false) != nullptr) {
      return Status::AlreadyExists(fmt::format("collection '{}' already exists in database '{}'", name, db));
    }
    if (auto props = database_properties_.find(db); props != database_properties_.end()) {
      if (auto limit = props->second.find(std::string(kMaxCollectionsProperty)); limit != props->second.end()) {
        size_t have = 0;
        for (const auto& [key, id] : names_) have += key.first == db;
        if (have >= std::stoull(limit->second)) {  // validated when set
          return Status::FailedPrecondition(fmt::format(
              "exceeded the limit number of collections[dbName={}][limit={}]", db, limit->second));
        }
      }
    }
    if (aliases_.count({db, name})) {
      return Status::AlreadyExists(fmt::format("'{}' is already an alias in database '{}'", name, db));
    }
    CreateCollectionBody body{db, name, schema};
    uint64_t id = next_collection_id_;
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(WalOp::kCreateCollection, id, EncodeCreateCollection(body)));
    ARK_RETURN_IF_ERROR(ApplyCreate(id, body, pos));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  std::lock_guard<std::mutex> commit(commit_mu_);
  ARK_RETURN_IF_ERROR(CommitManifestLocked());
  return pos;
}

Result<Position> Database::DropCollection(const std::string& database, const std::string& name) {
  ARK_RETURN_IF_ERROR(CheckWritable("drop collection"));
  ARK_RETURN_IF_ERROR(StickyError());
  std::lock_guard<std::mutex> commit(commit_mu_);
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name, /*allow_alias=*/false);
    if (c == nullptr) {
      if (aliases_.count({DbName(database), name})) {
        return Status::FailedPrecondition(fmt::format(
            "'{}' is an alias in database '{}': drop the collection by its name", name, DbName(database)));
      }
      return CollectionNotFound(database, name);
    }
    for (const auto& [key, id] : aliases_) {
      if (id == c->id) {
        return Status::FailedPrecondition(fmt::format(
            "collection '{}' still has alias '{}': drop its aliases first", name, key.second));
      }
    }
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(WalOp::kDropCollection, c->id, ""));
    ARK_RETURN_IF_ERROR(ApplyDrop(c->id));
    applied_lsn_.store(pos.lsn, std::memory_order_release);
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  ARK_RETURN_IF_ERROR(CommitManifestLocked());
  return pos;
}

Result<Position> Database::RenameCollection(const std::string& database, const std::string& name,
                                            const std::string& new_database,
                                            const std::string& new_name) {
  const std::string to_db = DbName(new_database);
  ARK_RETURN_IF_ERROR(ValidateName("database", to_db));
  ARK_RETURN_IF_ERROR(ValidateName("collection", new_name));
  ARK_RETURN_IF_ERROR(CheckWritable("rename collection"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name, /*allow_alias=*/false);
    if (c == nullptr) {
      return CollectionNotFound(database, name);
    }
    if (to_db != kDefaultDatabase && !databases_.count(to_db)) {
      return Status::NotFound(fmt::format("database '{}' not found", to_db));
    }
    if (FindLocked(to_db, new_name) != nullptr) {
      return Status::AlreadyExists(fmt::format("collection '{}' already exists in database '{}'", new_name, to_db));
    }
    RenameCollectionBody body{to_db, new_name};
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(WalOp::kRenameCollection, c->id, EncodeRenameCollection(body)));
    ARK_RETURN_IF_ERROR(ApplyRename(c->id, body));
    applied_lsn_.store(pos.lsn, std::memory_order_release);
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  std::lock_guard<std::mutex> commit(commit_mu_);
  ARK_RETURN_IF_ERROR(CommitManifestLocked());
  return pos;
}

CollectionInfo Database::InfoLocked(const Collection& c) const {
  CollectionInfo info;
  info.id = c.id;
  info.database = c.database;
  info.name = c.name;
  info.schema = *c.schema;
  info.created = c.created;
  info.flushed = c.flushed;
  info.live_rows = c.live.size();
  info.sealed_segments = c.sealed.size();
  info.growing_rows = c.growing->rows + (c.frozen ? c.frozen->rows : 0);
  info.properties = c.properties;
  info.load = c.load;
  return info;
}

std::vector<CollectionInfo> Database::ListCollections(const std::string& database) const {
  std::vector<CollectionInfo> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, id] : names_) {
    if (key.first == DbName(database)) out.push_back(InfoLocked(*FindByIdLocked(id)));
  }
  return out;
}

Result<CollectionInfo> Database::DescribeCollection(const std::string& database,
                                                    const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  Collection* c = FindLocked(database, name);
  if (c == nullptr) {
    return CollectionNotFound(database, name);
  }
  return InfoLocked(*c);
}

// ---- reads -------------------------------------------------------------------

Result<std::shared_ptr<const CollectionSnapshot>> Database::GetSnapshot(
    const std::string& database, const std::string& name) const {
  std::lock_guard<std::mutex> view(view_mu_);
  auto it = names_.find({DbName(database), name});
  if (it == names_.end()) {
    // An alias (its own map: an iterator of names_ is never compared with
    // the end of aliases_).
    it = aliases_.find({DbName(database), name});
    if (it == aliases_.end()) return CollectionNotFound(database, name);
  }
  const Collection& c = *collections_.at(it->second);
  // Read the lsn under view_mu_: a seal swaps its frozen blocks for the sealed
  // file under view_mu_ only after applied_lsn_ covers the seal point.
  // Not past the durable lsn: a row applied but not yet durable is not
  // acknowledged, and is never shown if its WAL write or sync fails.
  return SnapshotLocked(c, std::min(applied_lsn_.load(std::memory_order_acquire), wal_->DurableLsn()));
}

std::shared_ptr<const CollectionSnapshot> Database::SnapshotLocked(const Collection& c, uint64_t lsn) const {
  std::vector<CollectionSnapshot::GrowingView> growing;
  if (c.published_frozen) growing.push_back({c.published_frozen, c.published_frozen->count()});
  growing.push_back({c.published_growing, c.published_growing->count()});
  return std::make_shared<const CollectionSnapshot>(c.id, c.published_database, c.published_name,
                                                    c.schema, c.published_sealed,
                                                    std::move(growing), lsn, c.indexes,
                                                    c.partitions);
}

Result<RowBatch> Database::Get(const std::string& database, const std::string& name,
                               const std::vector<PrimaryKey>& keys) const {
  ARK_ASSIGN_OR_RETURN(auto snap, GetSnapshot(database, name));
  return snap->Get(keys);
}

}  // namespace ark
