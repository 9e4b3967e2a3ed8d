// Database: index definitions (create/drop/list), background index builds of
// sealed segments, and delete by filter.
//
// A build reads an immutable sealed RowBlock (no lock), writes the index as a
// content-addressed file (held in in_flight_files_ so a concurrent manifest
// commit does not collect it), then under commit_mu_ installs it if the
// definition and the segment are still current, and commits a manifest that
// lists it. A restart loads the files the manifest lists; it never rebuilds.
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/hash.h"
#include "engine/content_file.h"
#include "engine/database.h"
#include "engine/database_collection.h"
#include "engine/wal_codec.h"
#include "index/lazy_vector_index.h"
#include "index/vector_index.h"

namespace ark {
namespace {

// Writes `content` under `name` in `dir` even if a file of that name exists
// (a damaged one: its bytes no longer hash to its name): temp, fsync, rename.
Result<std::string> RewriteIndexFile(Env* env, const std::string& dir, const std::string& name,
                                     std::string_view content) {
  const std::string path = JoinPath(dir, name);
  const std::string tmp = path + ".repair.tmp";
  {
    ARK_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(tmp));
    ARK_RETURN_IF_ERROR(f->Append(content));
    ARK_RETURN_IF_ERROR(f->Fsync());
    ARK_RETURN_IF_ERROR(f->Close());
  }
  ARK_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  ARK_RETURN_IF_ERROR(env->SyncDir(dir));
  return name;
}

}  // namespace

// ---- DDL ---------------------------------------------------------------------

Result<Position> Database::CreateIndex(const std::string& database, const std::string& name,
                                       const std::string& index_name, const std::string& field,
                                       const std::string& index_type,
                                       const std::string& metric_type,
                                       const nlohmann::json& params, bool replace) {
  ARK_RETURN_IF_ERROR(CheckWritable("create index"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr) return CollectionNotFound(database, name);
    ARK_ASSIGN_OR_RETURN(IndexDefinition def,
                         MakeIndexDefinition(*c->schema, name, index_name, field, index_type,
                                             metric_type, params));
    if (const IndexDefinition* other = c->indexes->FindByName(def.index_name);
        other != nullptr && other->field_name != def.field_name) {
      return Status::AlreadyExists(fmt::format(
          "collection '{}': index name '{}' is already used by the index on field '{}'", name,
          def.index_name, other->field_name));
    }
    if (const IndexDefinition* same = c->indexes->FindByField(def.field_name);
        same != nullptr && *same == def) {
      return wal_->LastPosition();  // identical: nothing to do (Milvus answers success)
    }
    if (const IndexDefinition* other = c->indexes->FindByField(def.field_name);
        other != nullptr && !replace) {
      return Status::AlreadyExists(fmt::format(
          "CreateIndex failed: at most one distinct index is allowed per field: field '{}' of "
          "collection '{}' has index '{}' ({}, {}) with other parameters; drop it first",
          def.field_name, name, other->index_name, other->index_type, other->params.dump()));
    }
    nlohmann::json body = def.ToJson();
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(WalOp::kCreateIndex, c->id, body.dump()));
    ARK_RETURN_IF_ERROR(ApplyCreateIndex(c, std::move(def)));
    applied_lsn_.store(pos.lsn, std::memory_order_release);
    ScheduleIndexBuildsLocked(c);
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

Result<Position> Database::DropIndex(const std::string& database, const std::string& name,
                                     const std::string& index_name) {
  ARK_RETURN_IF_ERROR(CheckWritable("drop index"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr) return CollectionNotFound(database, name);
    if (c->indexes->FindByName(index_name) == nullptr) {
      return Status::NotFound(
          fmt::format("collection '{}': index '{}' does not exist", name, index_name));
    }
    nlohmann::json body = {{"indexName", index_name}};
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(WalOp::kDropIndex, c->id, body.dump()));
    ARK_RETURN_IF_ERROR(ApplyDropIndex(c, index_name));
    applied_lsn_.store(pos.lsn, std::memory_order_release);
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

void Database::SetIndexes(Collection* c, std::shared_ptr<const CollectionIndexes> indexes) {
  std::lock_guard<std::mutex> view(view_mu_);
  c->indexes = std::move(indexes);
}

Status Database::ApplyCreateIndex(Collection* c, IndexDefinition def) {
  auto next = std::make_shared<CollectionIndexes>(*c->indexes);
  auto& defs = next->definitions;
  defs.erase(std::remove_if(defs.begin(), defs.end(),
                            [&](const IndexDefinition& d) { return d.field_name == def.field_name; }),
             defs.end());
  // Built indexes of the old definition keep serving (same metric) until
  // replaced; ones of another metric cannot answer the new metric's searches.
  for (auto& [segment, fields] : next->built) {
    auto it = fields.find(def.field_name);
    if (it != fields.end() && it->second->spec().metric != def.spec.metric) {
      fields.erase(it);
      next->files[segment].erase(def.field_name);
    }
  }
  for (auto& entry : c->segment_entries) {
    if (next->Built(entry.file, def.field_name) == nullptr) entry.index_files.erase(def.field_name);
  }
  for (auto it = c->build_errors.begin(); it != c->build_errors.end();) {
    it = it->first.second == def.field_name ? c->build_errors.erase(it) : std::next(it);
  }
  defs.push_back(std::move(def));
  SetIndexes(c, std::move(next));
  return Status::OK();
}

Status Database::ApplyDropIndex(Collection* c, const std::string& index_name) {
  const IndexDefinition* def = c->indexes->FindByName(index_name);
  if (def == nullptr) {
    return Status::Corruption(fmt::format("collection '{}': drop of unknown index '{}'", c->name, index_name));
  }
  const std::string field = def->field_name;
  auto next = std::make_shared<CollectionIndexes>(*c->indexes);
  auto& defs = next->definitions;
  defs.erase(std::remove_if(defs.begin(), defs.end(),
                            [&](const IndexDefinition& d) { return d.index_name == index_name; }),
             defs.end());
  for (auto& [segment, fields] : next->built) fields.erase(field);
  for (auto& [segment, fields] : next->files) fields.erase(field);
  for (auto& entry : c->segment_entries) entry.index_files.erase(field);
  for (auto it = c->build_errors.begin(); it != c->build_errors.end();) {
    it = it->first.second == field ? c->build_errors.erase(it) : std::next(it);
  }
  SetIndexes(c, std::move(next));
  return Status::OK();
}

Result<std::vector<IndexInfo>> Database::ListIndexes(const std::string& database,
                                                     const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  Collection* c = FindLocked(database, name);
  if (c == nullptr) return CollectionNotFound(database, name);
  std::vector<IndexInfo> out;
  const uint64_t growing = c->growing->rows + (c->frozen ? c->frozen->rows : 0);
  for (const auto& def : c->indexes->definitions) {
    IndexInfo info;
    info.definition = def;
    info.total_rows = growing;
    bool hard_failure = false;
    for (const auto& block : c->sealed) {
      info.total_rows += block->num_rows();
      ++info.segments;
      const VectorIndex* built = c->indexes->Built(block->file(), def.field_name);
      if (built != nullptr && built->spec() == def.spec) {
        info.indexed_rows += block->num_rows();
        ++info.indexed_segments;
        continue;
      }
      auto err = c->build_errors.find({block->file(), def.field_name});
      if (err != c->build_errors.end() && err->second.first == def.spec) {
        info.fail_reason = err->second.second.ToString();
        // A segment too small for the index type (e.g. fewer rows than
        // nlist) is searched exactly; that is not a failure.
        if (!err->second.second.Is(StatusCode::kInvalidArgument)) hard_failure = true;
        continue;
      }
      info.pending_rows += block->num_rows();
    }
    info.state = info.pending_rows > 0 ? "InProgress" : hard_failure ? "Failed" : "Finished";
    out.push_back(std::move(info));
  }
  return out;
}

// ---- background builds --------------------------------------------------------

void Database::ScheduleIndexBuildsLocked(Collection* c) {
  // A follower's index files come from its primary's records.
  if (!build_pool_ || closing_.load() || IsFollower()) return;
  for (const auto& def : c->indexes->definitions) {
    const int field = c->schema->FieldIndex(def.field_name);
    if (field < 0) continue;
    for (const auto& block : c->sealed) {
      const std::pair<std::string, std::string> key{block->file(), def.field_name};
      const VectorIndex* built = c->indexes->Built(block->file(), def.field_name);
      if (built != nullptr && built->spec() == def.spec) continue;
      if (auto b = c->building.find(key); b != c->building.end() && b->second == def.spec) continue;
      if (auto e = c->build_errors.find(key); e != c->build_errors.end() && e->second.first == def.spec) continue;
      if (c->building.count(key)) continue;  // an older spec is building; rescheduled when it ends
      const uint64_t id = c->id;
      const IndexSpec spec = def.spec;
      std::shared_ptr<RowBlock> blk = block;
      std::string task = fmt::format("collection {} segment {} field {}", c->name,
                                     block->file().substr(0, 12), def.field_name);
      auto submitted = build_pool_->Submit(
          std::move(task),
          [this, id, blk, field_name = def.field_name, spec](const std::atomic<bool>& cancelled) {
            return BuildIndex(id, blk, field_name, spec, cancelled);
          },
          [this, id, segment = block->file(), field_name = def.field_name, spec](
              IndexBuildPool::TaskId, const Status& s) { IndexBuildDone(id, segment, field_name, spec, s); });
      if (!submitted.ok()) {
        spdlog::warn("index build not queued: {}", submitted.status().ToString());
        return;
      }
      c->building[key] = spec;
    }
  }
}

Status Database::BuildIndex(uint64_t collection_id, std::shared_ptr<RowBlock> block,
                            std::string field, IndexSpec spec, const std::atomic<bool>& cancelled) {
  int f = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindByIdLocked(collection_id);
    if (c == nullptr) return Status::OK();
    f = c->schema->FieldIndex(field);
  }
  if (f < 0) return Status::OK();
  ARK_RETURN_IF_ERROR(block->EnsureColumn(static_cast<size_t>(f)));  // decoded on first use
  const RowBatch& rows = block->rows();
  BuildOptions options;
  options.threads = std::max(1, options_.index_build_inner_threads);
  options.cancel = &cancelled;
  ARK_ASSIGN_OR_RETURN(auto index, VectorIndex::Build(spec, rows.columns[f].floats.data(),
                                                      rows.num_rows, options));
  ARK_ASSIGN_OR_RETURN(std::string bytes, index->Serialize());
  const std::string name = ToHex(Sha256(bytes));
  {
    std::lock_guard<std::mutex> view(view_mu_);
    in_flight_files_.insert(name);
  }
  auto release = [&] {
    std::lock_guard<std::mutex> view(view_mu_);
    in_flight_files_.erase(name);
  };
  // A rebuild of a damaged file that yields the same bytes has the damaged
  // file's name: the content under that name is replaced, not kept.
  bool repair = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    repair = damaged_index_files_.count(name) > 0;
  }
  auto written = repair ? RewriteIndexFile(env_, FilesDir(), name, bytes)
                        : WriteContentAddressedFile(env_, FilesDir(), bytes);
  if (!written.ok()) {
    release();
    return written.status();
  }
  bytes.clear();
  bytes.shrink_to_fit();
  PreparedFiles built;
  built.indexes[name] = std::shared_ptr<const VectorIndex>(std::move(index));
  std::lock_guard<std::mutex> commit(commit_mu_);
  Status s;
  bool installed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindByIdLocked(collection_id);
    const IndexDefinition* def = c ? c->indexes->FindByField(field) : nullptr;
    if (def != nullptr && def->spec == spec) {
      for (auto& entry : c->segment_entries) {
        if (entry.file != block->file()) continue;
        FileChange change;
        change.kind = FileChangeKind::kIndex;
        change.index_segment = entry.file;
        change.field = field;
        change.index = *def;
        change.index_file = name;
        if (auto old = entry.index_files.find(field); old != entry.index_files.end() && !old->second.empty()) {
          change.replaced_index_file = old->second.front();
        }
        if (change.replaced_index_file == name) {  // the same bytes: nothing to log
          if (repair && c->indexes->Built(entry.file, field) == nullptr) {
            // The manifest already names this file; it is sound again.
            auto next = std::make_shared<CollectionIndexes>(*c->indexes);
            next->built[entry.file][field] = built.indexes[name];
            next->files[entry.file][field] = name;
            SetIndexes(c, std::move(next));
            damaged_index_files_.erase(name);
            spdlog::info("collection '{}': index of segment {} field '{}' rebuilt into {}", c->name,
                         entry.file.substr(0, 12), field, name.substr(0, 12));
          }
          break;
        }
        s = LogFileChangeLocked(c, change, &built).status();
        installed = s.ok();
        if (installed && damaged_index_files_.erase(change.replaced_index_file) > 0) {
          spdlog::info("collection '{}': damaged index {} of segment {} field '{}' replaced by {}", c->name,
                       change.replaced_index_file.substr(0, 12), entry.file.substr(0, 12), field,
                       name.substr(0, 12));
        }
        break;
      }
    }
  }
  if (installed) s = CommitManifestLocked();
  release();
  return s;
}

void Database::IndexBuildDone(uint64_t collection_id, const std::string& segment,
                              const std::string& field, const IndexSpec& spec, const Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  Collection* c = FindByIdLocked(collection_id);
  if (c == nullptr) return;
  c->building.erase({segment, field});
  if (!status.ok() && !status.Is(StatusCode::kCancelled)) {
    if (!status.Is(StatusCode::kInvalidArgument)) {
      spdlog::error("collection '{}': index build of segment {} field '{}' failed: {}", c->name,
                    segment.substr(0, 12), field, status.ToString());
    }
    c->build_errors[{segment, field}] = {spec, status};
  }
  if (!status.Is(StatusCode::kCancelled)) ScheduleIndexBuildsLocked(c);  // a newer definition may be waiting
}

void Database::LoadIndexFilesLocked(Collection* c) {
  auto next = std::make_shared<CollectionIndexes>(*c->indexes);
  for (auto& entry : c->segment_entries) {
    for (auto it = entry.index_files.begin(); it != entry.index_files.end();) {
      const std::string& field = it->first;
      const IndexDefinition* def = next->FindByField(field);
      Status s;
      if (def == nullptr || it->second.empty()) {
        s = Status::Corruption("no index definition for the field");
      } else {
        const std::string path = JoinPath(FilesDir(), it->second.front());
        // Opened lazily: only the header is read and checked here; the graph
        // is checksummed and loaded by the first search that needs it
        // (docs/engine.md, "Opening a database").
        auto opened = LazyVectorIndex::Open(env_, path);
        s = opened.status();
        if (s.ok() && (*opened)->num_rows() != entry.rows) {
          s = Status::Corruption(fmt::format("index file {} has {} rows, segment {} has {}", path,
                                             (*opened)->num_rows(), entry.file, entry.rows));
        } else if (s.ok() && options_.load_indexes_at_open) {
          s = (*opened)->MakeResident();
        }
        if (s.ok()) {
          WatchIndexLoad(opened->get(), it->second.front());
          next->built[entry.file][field] = std::shared_ptr<const VectorIndex>(std::move(opened).value());
          next->files[entry.file][field] = it->second.front();
        }
      }
      if (s.ok()) {
        ++it;
        continue;
      }
      // The segment file is the source of truth: an index found unusable at
      // open (missing, a bad header, a wrong size) is dropped from the
      // manifest and rebuilt, never served. A damaged payload is found by the
      // first search, which fails with Corruption naming the file.
      spdlog::error("collection '{}': index of segment {} field '{}' is unusable and will be rebuilt: {}",
                    c->name, entry.file.substr(0, 12), field, s.ToString());
      it = entry.index_files.erase(it);
    }
  }
  c->indexes = std::move(next);
}

void Database::WatchIndexLoad(LazyVectorIndex* index, const std::string& file) const {
  Database* self = const_cast<Database*>(this);
  index->OnLoadFailure([self, alive = std::weak_ptr<int>(alive_), file](const Status& status) {
    if (alive.lock()) self->IndexLoadFailed(file, status);
  });
}

void Database::IndexLoadFailed(const std::string& file, const Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_.load()) return;
  for (auto& [id, c] : collections_) {
    std::vector<std::pair<std::string, std::string>> uses;  // (segment, field)
    for (const auto& [segment, fields] : c->indexes->files) {
      for (const auto& [field, f] : fields) {
        if (f == file) uses.emplace_back(segment, field);
      }
    }
    if (uses.empty()) continue;
    // Served no more: new snapshots search these segments exactly (the
    // segment's vectors, verified on first use) until the rebuilt index is
    // installed. The manifest keeps naming the file until the rebuild's
    // logged index change replaces it.
    auto next = std::make_shared<CollectionIndexes>(*c->indexes);
    for (const auto& [segment, field] : uses) {
      next->built[segment].erase(field);
      next->files[segment].erase(field);
      spdlog::error("collection '{}': index of segment {} field '{}' cannot be loaded ({}); the segment is "
                    "searched exactly until it is rebuilt",
                    c->name, segment.substr(0, 12), field, status.ToString());
    }
    SetIndexes(c.get(), std::move(next));
    damaged_index_files_.insert(file);
    ScheduleIndexBuildsLocked(c.get());
  }
}

bool Database::WaitForIndexBuilds(std::chrono::milliseconds timeout) {
  return build_pool_ ? build_pool_->WaitUntilIdle(timeout) : true;
}

bool Database::RunIndexBuild() { return build_pool_ ? build_pool_->RunOne() : false; }

// ---- delete by filter -------------------------------------------------------------

Result<WriteResult> Database::DeleteByFilter(const std::string& database, const std::string& name,
                                             const std::string& filter,
                                             const nlohmann::json* params,
                                             const std::vector<std::string>& partitions) {
  ARK_ASSIGN_OR_RETURN(auto snap, GetSnapshot(database, name));
  if (!partitions.empty()) {
    ARK_ASSIGN_OR_RETURN(snap, snap->Restrict(partitions));
  }
  ARK_ASSIGN_OR_RETURN(std::vector<PrimaryKey> keys, snap->MatchingKeys(filter, params));
  return Delete(database, name, keys);
}

}  // namespace ark
