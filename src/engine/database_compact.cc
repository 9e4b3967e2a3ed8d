// Database::Compact: rewrite small or delete-heavy sealed segments.
//
// 1. (mu_) pick the candidates and note the snapshot lsn S and the tombstone
//    files that exist now;
// 2. (no lock) write new segments with the rows visible at S, and their index
//    files for the current definitions; every new file is held in
//    in_flight_files_ until a manifest lists it;
// 3. (commit_mu_, mu_) if the candidates are all still sealed, log the
//    change (a file-change record naming the files) and apply it through the
//    one apply path, which swaps the new segments in and carries over
//    deletes that landed after S; then commit a manifest. Old files go when no manifest or pin names them.
// A crash at any point leaves the previous manifest intact; unreferenced new
// files are swept at the next commit.
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/hash.h"
#include "engine/content_file.h"
#include "engine/database.h"
#include "engine/database_collection.h"
#include "engine/segment_file.h"
#include "index/vector_index.h"

namespace ark {

namespace {


struct Output {
  RowBatch rows;
  std::vector<uint64_t> lsns;
  ManifestSegment entry;
  std::map<std::string, std::shared_ptr<const VectorIndex>> built;  // field -> index
  std::map<std::string, std::string> index_files;                   // field -> file
};

}  // namespace

Result<CompactionResult> Database::Compact(const std::string& database, const std::string& name) {
  ARK_RETURN_IF_ERROR(CheckWritable("compaction"));
  ARK_RETURN_IF_ERROR(StickyError());
  const uint64_t target = options_.compaction_target_rows ? options_.compaction_target_rows
                                                          : options_.seal_rows;
  uint64_t id = 0;
  uint64_t snapshot_lsn = 0;
  std::shared_ptr<const CollectionSchema> schema;
  std::vector<IndexDefinition> defs;
  std::vector<std::shared_ptr<RowBlock>> candidates;
  std::vector<std::string> old_tombstones;
  bool all_sealed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr) {
      return CollectionNotFound(database, name);
    }
    if (c->compacting) {
      return Status::FailedPrecondition(fmt::format("collection '{}': a compaction is already running", name));
    }
    // As GetSnapshot: a delete not yet durable may still be refused, so its
    // row is kept here (and carried over as a delete if it becomes durable).
    snapshot_lsn = std::min(applied_lsn_.load(std::memory_order_acquire), wal_->DurableLsn());
    for (const auto& block : c->sealed) {
      uint64_t dead = 0;
      for (size_t r = 0; r < block->num_rows(); ++r) dead += block->DeleteLsn(r) != 0;
      const uint64_t live = block->num_rows() - dead;
      const bool small = live * 2 < target;
      const bool holey = block->num_rows() > 0 &&
                         double(dead) >= options_.compaction_deleted_fraction * double(block->num_rows());
      if (small || holey) candidates.push_back(block);
    }
    // One small segment without deletes gains nothing from a rewrite.
    if (candidates.size() == 1) {
      bool any_dead = false;
      for (size_t r = 0; r < candidates[0]->num_rows() && !any_dead; ++r) any_dead = candidates[0]->DeleteLsn(r) != 0;
      if (!any_dead) candidates.clear();
    }
    if (candidates.empty()) return CompactionResult{};
    c->compacting = true;
    id = c->id;
    schema = c->schema;
    defs = c->indexes->definitions;
    old_tombstones = c->tombstone_files;
    all_sealed = candidates.size() == c->sealed.size();
  }
  auto finish = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    if (Collection* c = FindByIdLocked(id)) c->compacting = false;
  };
  std::set<std::string> held;  // in_flight_files_ entries of this compaction
  auto hold = [&](const std::string& file) {
    std::lock_guard<std::mutex> view(view_mu_);
    in_flight_files_.insert(file);
    held.insert(file);
  };
  auto release = [&] {
    std::lock_guard<std::mutex> view(view_mu_);
    for (const auto& f : held) in_flight_files_.erase(f);
  };
  auto fail = [&](const Status& s) {
    release();
    finish();
    return s;
  };

  // 2. Rewrite.
  CompactionResult result;
  std::vector<Output> outputs;
  outputs.emplace_back();
  outputs.back().rows = RowBatch::Empty(*schema);
  for (const auto& block : candidates) {
    ++result.segments_before;
    result.rows_before += block->num_rows();
    // Columns are decoded on first use: a damaged file stops the compaction.
    if (Status s = block->EnsureColumns(); !s.ok()) return fail(s);
    for (size_t r = 0; r < block->num_rows(); ++r) {
      uint64_t d = block->DeleteLsn(r);
      if (d != 0 && d <= snapshot_lsn) continue;
      if (outputs.back().rows.num_rows >= target) {
        outputs.emplace_back();
        outputs.back().rows = RowBatch::Empty(*schema);
      }
      Output& out = outputs.back();
      out.rows.AppendRow(block->rows(), r);
      out.lsns.push_back(block->RowLsn(r));
    }
  }
  if (outputs.back().rows.num_rows == 0) outputs.pop_back();
  for (Output& out : outputs) {
    std::string data = EncodeSegment(*schema, id, out.rows, out.lsns);
    hold(ToHex(Sha256(data)));
    auto file = WriteContentAddressedFile(env_, FilesDir(), data);
    if (!file.ok()) return fail(file.status());
    out.entry.file = *file;
    out.entry.rows = out.rows.num_rows;
    out.entry.bytes = data.size();
    out.entry.min_lsn = *std::min_element(out.lsns.begin(), out.lsns.end());
    out.entry.max_lsn = *std::max_element(out.lsns.begin(), out.lsns.end());
    result.rows_after += out.rows.num_rows;
    result.bytes_after += data.size();
    for (const auto& def : defs) {
      const int f = schema->FieldIndex(def.field_name);
      if (f < 0 || def.spec.ValidateForRows(out.rows.num_rows).ok() == false) continue;  // searched exactly
      BuildOptions options;
      options.threads = std::max(1, options_.index_build_inner_threads);
      auto index = VectorIndex::Build(def.spec, out.rows.columns[f].floats.data(), out.rows.num_rows, options);
      if (!index.ok()) {
        spdlog::warn("compaction of '{}': index build for field '{}' failed ({}); the background builder retries",
                     name, def.field_name, index.status().ToString());
        continue;
      }
      auto bytes = (*index)->Serialize();
      if (!bytes.ok()) return fail(bytes.status());
      hold(ToHex(Sha256(*bytes)));
      auto index_file = WriteContentAddressedFile(env_, FilesDir(), *bytes);
      if (!index_file.ok()) return fail(index_file.status());
      out.built[def.field_name] = std::shared_ptr<const VectorIndex>(std::move(index).value());
      out.index_files[def.field_name] = *index_file;
      out.entry.index_files[def.field_name] = {*index_file};
      ++result.index_files_built;
    }
  }

  // 3. Swap and commit.
  std::lock_guard<std::mutex> commit(commit_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindByIdLocked(id);
    if (c == nullptr) {
      release();
      return Status::NotFound(fmt::format("collection '{}' was dropped during compaction", name));
    }
    c->compacting = false;
    std::set<const RowBlock*> replaced;
    for (const auto& b : candidates) replaced.insert(b.get());
    size_t still = 0;
    for (const auto& b : c->sealed) still += replaced.count(b.get());
    if (still != candidates.size()) {
      release();
      return Status::FailedPrecondition(fmt::format("collection '{}': segments changed during compaction", name));
    }
    for (const auto& b : candidates) {
      for (const auto& e : c->segment_entries) {
        if (e.file == b->file()) result.bytes_before += e.bytes;
      }
    }
    FileChange change;
    change.kind = FileChangeKind::kCompact;
    change.snapshot_lsn = snapshot_lsn;
    for (const auto& b : candidates) change.replaced.push_back(b->file());
    PreparedFiles built;
    const size_t pk = schema->PrimaryKeyIndex();
    for (Output& out : outputs) {
      change.segments.push_back(out.entry);
      built.segments[out.entry.file] = std::make_shared<RowBlock>(
          std::make_shared<const RowBatch>(std::move(out.rows)), std::move(out.lsns), out.entry.file, pk);
      for (auto& [field, file] : out.index_files) built.indexes[file] = out.built[field];
    }
    if (all_sealed) {
      // Every delete in these files (lsn <= S) removed its row from the new
      // segments; files written since (a seal during the rewrite) stay.
      for (const auto& f : c->tombstone_files) {
        if (std::find(old_tombstones.begin(), old_tombstones.end(), f) != old_tombstones.end()) {
          change.dropped_tombstones.push_back(f);
        }
      }
    }
    result.tombstone_files_dropped = change.dropped_tombstones.size();
    result.segments_after = outputs.size();
    Status logged = LogFileChangeLocked(c, change, &built).status();
    if (!logged.ok()) {
      release();
      return logged;
    }
  }
  Status s = CommitManifestLocked();
  release();
  ARK_RETURN_IF_ERROR(s);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Collection* c = FindByIdLocked(id)) ScheduleIndexBuildsLocked(c);
  }
  return result;
}

}  // namespace ark
