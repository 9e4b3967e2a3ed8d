// Database: sealing growing segments, committing manifests, deleting obsolete
// files, and the DR seams (consistent cut, pins, files by hash, epochs).
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/hash.h"
#include "engine/content_file.h"
#include "engine/database.h"
#include "engine/database_collection.h"
#include "engine/manifest_format.h"
#include "engine/segment_file.h"
#include "engine/tombstone_file.h"

namespace ark {

namespace mf = manifest_format;

Status Database::Flush(const std::string& database, const std::string& name) {
  ARK_RETURN_IF_ERROR(CheckWritable("flush"));
  ARK_RETURN_IF_ERROR(StickyError());
  std::lock_guard<std::mutex> commit(commit_mu_);
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(database, name);
    if (c == nullptr) {
      return CollectionNotFound(database, name);
    }
    id = c->id;
  }
  return SealLocked(id);
}

Status Database::MaybeSealAged() {
  if (IsFollower()) return Status::OK();  // seals come from the primary's records
  ARK_RETURN_IF_ERROR(StickyError());
  std::lock_guard<std::mutex> commit(commit_mu_);
  std::vector<uint64_t> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, c] : collections_) {
      if (ShouldSealLocked(*c)) due.push_back(id);
    }
  }
  for (uint64_t id : due) ARK_RETURN_IF_ERROR(SealLocked(id));
  return Status::OK();
}

Status Database::SealLocked(uint64_t collection_id) {
  std::shared_ptr<GrowingSegment> frozen;
  std::vector<Tombstone> tombstones;
  std::shared_ptr<const CollectionSchema> schema;
  Position seal_point;
  // 1. Freeze: new writes go to a fresh growing segment. Deletes of frozen
  //    rows from now on are carried over when the seal record is applied.
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindByIdLocked(collection_id);
    if (c == nullptr) return Status::OK();
    if (c->growing->rows == 0 && c->pending_tombstones.empty()) return Status::OK();
    frozen = c->growing;
    c->frozen = frozen;
    c->growing = std::make_shared<GrowingSegment>();
    tombstones = c->pending_tombstones;  // all at or before the seal point
    schema = c->schema;
    seal_point = wal_->LastPosition();
    std::lock_guard<std::mutex> view(view_mu_);
    c->published_frozen = frozen;
    c->published_growing = c->growing;
  }
  // 2. Write the files (no lock but commit_mu_): rows live at the seal point.
  //    The manifest must not claim positions the WAL could still lose.
  Status s = wal_->WaitDurable(seal_point);
  if (!s.ok()) return s;
  RowBatch rows = RowBatch::Empty(*schema);
  for (auto& col : rows.columns) col.Reserve(frozen->rows);
  std::vector<uint64_t> lsns;
  for (size_t i = 0; i < frozen->count(); ++i) {
    RowBlock* b = frozen->at(i).get();
    for (size_t r = 0; r < b->num_rows(); ++r) {
      uint64_t d = b->DeleteLsn(r);
      if (d != 0 && d <= seal_point.lsn) continue;
      rows.AppendRow(b->rows(), r);
      lsns.push_back(b->RowLsn(r));
    }
  }
  FileChange change;
  change.kind = FileChangeKind::kSeal;
  change.seal_point = seal_point;
  PreparedFiles built;
  if (rows.num_rows > 0) {
    std::string data = EncodeSegment(*schema, collection_id, rows, lsns);
    auto name = WriteContentAddressedFile(env_, FilesDir(), data);
    if (!name.ok()) {
      SetStickyError(name.status());
      return name.status();
    }
    change.has_segment = true;
    change.segment.file = *name;
    change.segment.rows = rows.num_rows;
    change.segment.bytes = data.size();
    change.segment.min_lsn = *std::min_element(lsns.begin(), lsns.end());
    change.segment.max_lsn = *std::max_element(lsns.begin(), lsns.end());
    built.segments[*name] = std::make_shared<RowBlock>(std::make_shared<const RowBatch>(std::move(rows)),
                                                       std::move(lsns), *name, schema->PrimaryKeyIndex());
  }
  if (!tombstones.empty()) {
    auto name = WriteContentAddressedFile(
        env_, FilesDir(),
        EncodeTombstones(collection_id, schema->PrimaryKey().type, tombstones));
    if (!name.ok()) {
      SetStickyError(name.status());
      return name.status();
    }
    change.tombstone = *name;
  }
  // 3. Log the change and apply it (the frozen blocks give way to the
  //    sealed segment), then commit.
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindByIdLocked(collection_id);
    if (c == nullptr) return Status::OK();  // dropped meanwhile: the files are garbage
    ARK_RETURN_IF_ERROR(LogFileChangeLocked(c, change, &built).status());
  }
  ARK_RETURN_IF_ERROR(CommitManifestLocked());
  {
    // Only once the manifest lists the segment: a build installs its index
    // by finding the segment's manifest entry.
    std::lock_guard<std::mutex> lock(mu_);
    if (Collection* c = FindByIdLocked(collection_id)) ScheduleIndexBuildsLocked(c);
  }
  return Status::OK();
}

Result<Position> Database::LogFileChangeLocked(Collection* c, const FileChange& change, PreparedFiles* built) {
  WalRecord record;
  record.op = kOpFileChange;
  record.collection_id = c->id;
  record.body = EncodeFileChange(change);
  ARK_ASSIGN_OR_RETURN(record.position,
                       wal_->Append(static_cast<WalOp>(kOpFileChange), c->id, record.body));
  Status s = ApplyRecordLocked(record, built);
  if (!s.ok()) {
    // Logged but not applied: memory no longer follows the log.
    SetStickyError(s);
    return s;
  }
  return record.position;
}

Manifest Database::BuildManifestLocked() {
  Manifest m;
  m.version = ++manifest_version_;
  m.created_micros = env_->WallMicros();
  m.epochs = epochs_;
  m.applied = wal_->LastPosition();
  m.next_collection_id = next_collection_id_;
  m.checkpoint = m.applied;
  for (const auto& [id, c] : collections_) {
    // An idle collection has everything in files: its flushed point moves up,
    // so it does not hold back WAL removal.
    if (c->growing->rows == 0 && !c->frozen && c->pending_tombstones.empty()) {
      c->flushed = m.applied;
    }
    ManifestCollection mc;
    mc.id = c->id;
    mc.database = c->database;
    mc.name = c->name;
    mc.schema = *c->schema;
    mc.created = c->created;
    mc.flushed = c->flushed;
    mc.next_auto_id = c->next_auto_id.load();
    mc.segments = c->segment_entries;
    mc.tombstone_files = c->tombstone_files;
    mc.indexes = c->indexes->definitions;
    mc.partitions.insert(c->partitions->begin(), c->partitions->end());
    mc.next_partition_id = c->next_partition_id;
    mc.properties = c->properties;
    mc.load = c->load;
    m.checkpoint = std::min(m.checkpoint, c->flushed);
    m.collections.push_back(std::move(mc));
  }
  m.databases.assign(databases_.begin(), databases_.end());
  for (const auto& [key, id] : aliases_) m.aliases.push_back({key.first, key.second, id});
  m.database_properties = database_properties_;
  // Files the previous manifest listed and this one does not: retired, kept
  // for the WAL consumers that may still replay records naming them.
  const std::set<std::string> live = m.LiveFiles();
  for (const auto& f : last_manifest_.LiveFiles()) {
    if (!live.count(f)) retired_files_.emplace(f, m.applied);
  }
  const Position floor = FileConsumerFloor();
  std::erase_if(retired_files_, [&](const auto& r) { return live.count(r.first) || r.second.lsn <= floor.lsn; });
  m.retired = retired_files_;
  manifest_applied_ = m.applied;
  return m;
}

Status Database::CommitManifestLocked() {
  Manifest m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    m = BuildManifestLocked();
  }
  Status s = wal_->WaitDurable(m.applied);
  if (s.ok()) s = CommitManifest(env_, dir_, m);
  if (!s.ok()) {
    SetStickyError(s);
    return s;
  }
  {
    std::lock_guard<std::mutex> view(view_mu_);
    last_manifest_ = m;
  }
  DeleteObsoleteFilesLocked(m);
  // Slots past their bound are invalidated (and logged) before WAL removal.
  ARK_RETURN_IF_ERROR(EnforceSlotBounds());
  return wal_->RemoveObsoleteSegments(m.checkpoint);
}

void Database::DeleteObsoleteFilesLocked(const Manifest& m) {
  std::set<std::string> keep = m.LiveFiles();
  for (const auto& [file, at] : m.retired) keep.insert(file);
  {
    std::lock_guard<std::mutex> view(view_mu_);
    uint64_t now = env_->NowMicros();
    for (auto it = pins_.begin(); it != pins_.end();) {
      if (it->second.expires_micros != 0 && it->second.expires_micros <= now) {
        wal_->ClearRetainFloor("pin/" + it->first);
        it = pins_.erase(it);
        continue;
      }
      keep.insert(it->second.files.begin(), it->second.files.end());
      ++it;
    }
    keep.insert(in_flight_files_.begin(), in_flight_files_.end());
  }
  // Only after the new manifest is durable: files it no longer names go.
  // Temp files are left alone: one may be a compaction's or an index build's
  // file being written right now (the kill loop caught this removing them
  // mid-write); Recover() removes those a crash left behind.
  if (auto names = env_->ListDir(FilesDir()); names.ok()) {
    for (const auto& n : *names) {
      if (IsSha256Hex(n) && !keep.count(n)) (void)env_->RemoveFile(JoinPath(FilesDir(), n));
    }
  }
  std::string current = ManifestFileName(m.version);
  if (auto names = env_->ListDir(dir_); names.ok()) {
    for (const auto& n : *names) {
      if (n.rfind(mf::kFilePrefix, 0) == 0 && n != current) (void)env_->RemoveFile(JoinPath(dir_, n));
    }
  }
}

// ---- DR seams ------------------------------------------------------------------

Status Database::EnforceSlotBounds() {
  ARK_ASSIGN_OR_RETURN(std::vector<std::string> invalidated, wal_->EnforceSlotBounds());
  for (const auto& name : invalidated) {
    auto slot = wal_->GetSlot(name);
    spdlog::error("durable slot '{}' invalidated: {}; its consumer must start again from a new copy, writes go on",
                  name, slot.ok() ? slot->invalidated_reason : slot.status().ToString());
  }
  return Status::OK();
}

Position Database::FileConsumerFloor() const {
  // Invalidated slots hold nothing (their consumer starts over from a copy).
  Position floor{UINT64_MAX, UINT64_MAX};
  for (const auto& slot : wal_->ListSlots()) {
    if (!slot.invalidated) floor = std::min(floor, slot.restart);
  }
  return floor;
}

Result<ConsistentCut> Database::GetConsistentCut(const std::string& pin_name, uint64_t ttl_micros) {
  std::lock_guard<std::mutex> commit(commit_mu_);
  ConsistentCut cut;
  cut.manifest = last_manifest_;
  {
    // Under the write lock the last assigned position is the last applied
    // one (writers append and apply under mu_), so the collections read here
    // are exactly the state at that position.
    std::lock_guard<std::mutex> lock(mu_);
    cut.position = wal_->LastPosition();
    if (cut.position < cut.manifest.applied) cut.position = cut.manifest.applied;
    // Writers publish under mu_, so the published views hold exactly the
    // rows applied up to the position; the snapshots read at it (durable by
    // the time the cut is returned, below).
    std::lock_guard<std::mutex> view(view_mu_);
    for (const auto& [id, c] : collections_) {
      cut.collections.push_back(InfoLocked(*c));
      cut.snapshots.push_back(SnapshotLocked(*c, cut.position.lsn));
    }
  }
  // Every record up to the position was appended; wait until it is durable
  // so that the cut never names a position a crash could still lose.
  ARK_RETURN_IF_ERROR(wal_->WaitDurable(cut.position));
  if (!pin_name.empty()) {
    ARK_RETURN_IF_ERROR(Pin(pin_name, cut.manifest.LiveFiles(), cut.manifest.checkpoint, ttl_micros));
  }
  return cut;
}

Status Database::Pin(const std::string& name, std::set<std::string> files, Position wal_from,
                     uint64_t ttl_micros) {
  if (name.empty()) return Status::InvalidArgument("pin name is empty");
  std::lock_guard<std::mutex> view(view_mu_);
  PinInfo pin{name, std::move(files), wal_from, ttl_micros ? env_->NowMicros() + ttl_micros : 0};
  wal_->SetRetainFloor("pin/" + name, wal_from);
  pins_[name] = std::move(pin);
  return Status::OK();
}

Status Database::ReleasePin(const std::string& name) {
  std::lock_guard<std::mutex> view(view_mu_);
  if (pins_.erase(name) == 0) return Status::NotFound(fmt::format("no pin named '{}'", name));
  wal_->ClearRetainFloor("pin/" + name);
  return Status::OK();
}

std::vector<PinInfo> Database::ListPins() const {
  std::lock_guard<std::mutex> view(view_mu_);
  std::vector<PinInfo> out;
  uint64_t now = env_->NowMicros();
  for (const auto& [name, pin] : pins_) {
    if (pin.expires_micros == 0 || pin.expires_micros > now) out.push_back(pin);
  }
  return out;
}

Result<std::unique_ptr<RandomAccessFile>> Database::OpenFileByHash(const std::string& hex) const {
  if (!IsSha256Hex(hex)) {
    return Status::InvalidArgument(fmt::format("'{}' is not a SHA-256 hex name", hex.substr(0, 80)));
  }
  bool live = false;
  {
    std::lock_guard<std::mutex> view(view_mu_);
    live = last_manifest_.LiveFiles().count(hex) > 0 || last_manifest_.retired.count(hex) > 0;
    uint64_t now = env_->NowMicros();
    for (const auto& [name, pin] : pins_) {
      if (pin.files.count(hex) && (pin.expires_micros == 0 || pin.expires_micros > now)) live = true;
    }
  }
  const std::string path = JoinPath(FilesDir(), hex);
  // A file change's record is logged (and so streamed to standbys) once its
  // files are written and synced, before the manifest that lists them is
  // committed: such a file is complete under its hash, so it is served too.
  // Every reader checks the hash it asked for.
  if (!live && !env_->FileExists(path)) {
    return Status::NotFound(fmt::format("file {} is neither live nor pinned in {}", hex, dir_));
  }
  return env_->NewRandomAccessFile(path);
}

uint64_t Database::CurrentEpoch() const { return wal_->CurrentEpoch(); }

std::vector<EpochStart> Database::EpochHistory() const {
  std::lock_guard<std::mutex> lock(mu_);
  return epochs_;
}

Manifest Database::CurrentManifest() const {
  std::lock_guard<std::mutex> view(view_mu_);
  return last_manifest_;
}

Result<Position> Database::StartEpoch(uint64_t epoch) {
  ARK_RETURN_IF_ERROR(StickyError());
  std::lock_guard<std::mutex> commit(commit_mu_);
  return StartEpochLocked(epoch);
}

Result<Position> Database::Promote(uint64_t epoch) {
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> commit(commit_mu_);
    if (!IsFollower()) {
      return Status::FailedPrecondition(fmt::format("{} is not a follower: it is a primary already", dir_));
    }
    if (epoch == 0) epoch = wal_->CurrentEpoch() + 1;
    ARK_ASSIGN_OR_RETURN(pos, StartEpochLocked(epoch));
    follower_.store(false, std::memory_order_release);
  }
  {
    // Blocks whose index builds the old primary had not logged yet are
    // built here now.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, c] : collections_) ScheduleIndexBuildsLocked(c.get());
  }
  spdlog::warn("{}: promoted: epoch {} begins at {}; this database takes writes of its own", dir_, epoch,
               pos.ToString());
  return pos;
}

Result<Position> Database::StartEpochLocked(uint64_t epoch) {
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (epoch <= wal_->CurrentEpoch()) {
      return Status::FailedPrecondition(fmt::format("epoch {} is not above the current epoch {}",
                                                    epoch, wal_->CurrentEpoch()));
    }
    ARK_ASSIGN_OR_RETURN(pos, wal_->StartEpoch(epoch));
    epochs_.push_back({epoch, pos});
    applied_lsn_.store(pos.lsn, std::memory_order_release);
  }
  ARK_RETURN_IF_ERROR(CommitManifestLocked());
  return pos;
}

}  // namespace ark
