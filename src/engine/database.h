// Database: one Ark data directory: collections, their rows, the WAL and the
// manifest, and the seams the DR layer builds on.
//
// Directory layout:
//   LOCK                  held (Env::LockFile) while the Database is open
//   CURRENT               names the live manifest
//   MANIFEST-<version>    docs/formats/manifest.md
//   files/<sha256 hex>    segment and tombstone files (docs/formats/segment.md)
//   wal/                  the write-ahead log (docs/formats/wal.md)
//
// Write path (Insert/Upsert/Delete and DDL): validate outside any lock, then
// under the write lock check keys, Wal::Append and apply to memory, release
// the lock, then Wal::WaitDurable (group commit) and return the position.
// A write acknowledged with OK is durable under the WAL's sync policy.
//
// Recovery (Open): CURRENT -> manifest -> load the files it names -> replay
// the WAL after the manifest checkpoint through ApplyRecord(), the one
// function that turns a WAL record into state (restore and standbys use it too).
//
// Seal: when a collection's growing segment passes a row/byte/age threshold
// (DatabaseOptions) or on Flush(), it is frozen, written as a content-addressed
// segment file (plus a tombstone file for deletes of sealed rows), and a new
// manifest is committed; files no longer referenced (and not pinned) are
// deleted only after that, and WAL segments below the checkpoint are removed.
//
// Reads (Get, GetSnapshot) work on immutable snapshots and never wait for I/O.
// A row is visible to readers once applied and durable: snapshots are taken
// at min(applied lsn, the WAL's durable lsn), so a write whose WAL write or
// sync fails is never seen (docs/reliability.md, "Disk trouble").
//
// Thread-safety: every public method is thread-safe. Errors while sealing or
// committing a manifest are sticky: later writes fail until reopened.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/position.h"
#include "core/status.h"
#include "engine/collection_load_state.h"
#include "engine/collection_snapshot.h"
#include "engine/file_change.h"
#include "engine/index_definition.h"
#include "index/index_build_pool.h"
#include "engine/manifest.h"
#include "engine/row_batch.h"
#include "engine/schema.h"
#include "engine/wal_codec.h"
#include "storage/env.h"
#include "wal/wal.h"

namespace ark {

class RowBlock;
class VectorIndex;
class LazyVectorIndex;

struct DatabaseOptions {
  WalOptions wal;
  // Seal a collection's growing segment when it holds this many rows, bytes,
  // or when its oldest row is this old (checked on writes and MaybeSealAged).
  uint64_t seal_rows = 100'000;
  uint64_t seal_bytes = 64ull << 20;
  uint64_t seal_age_micros = 600'000'000;
  // Seal from the write path when a threshold is crossed. Tests switch it off
  // and call Flush() by hand.
  bool auto_seal = true;
  // Background index builds: worker threads (0 = nothing runs by itself;
  // tests call RunIndexBuild()) and threads used inside one build.
  int index_build_threads = 1;
  int index_build_inner_threads = 1;
  // Index files are opened lazily (header checked; the graph is checksummed
  // and loaded by the first search that needs it). True loads every graph
  // at open instead, as before lazy opening: a slower open, a flat first
  // search, and a damaged graph found (and rebuilt) at open.
  bool load_indexes_at_open = false;
  // Segment files are opened lazily too (key, partition and lsn columns
  // decoded at open, every other column at first use). True decodes every
  // column at open (and replay), as before: a slower open, and a damaged
  // column found at open.
  bool decode_segments_at_open = false;
  // Compaction (Compact): segment size target in live rows (0 = seal_rows)
  // and the deleted fraction that makes a segment worth rewriting.
  uint64_t compaction_target_rows = 0;
  double compaction_deleted_fraction = 0.2;
  // A follower (a standby, a restore replaying archived WAL) changes its
  // files only as the records it replays say: it never seals, builds indexes
  // or compacts by itself, and refuses writes and DDL (FailedPrecondition);
  // records come in through AppendReplicated.
  bool follower = false;
  // A follower's primary (a URL), named when a write is refused.
  std::string follower_primary;
  // Where a replayed file-change record's files come from when files/ lacks
  // them (a primary, a WAL archive): returns the content of the file with
  // this SHA-256 hex name; the Database checks the hash before keeping it.
  // Unset: a missing file is an error naming it.
  std::function<Result<std::string>(const std::string& sha256_hex)> fetch_file;
};

struct CompactionResult {
  uint64_t segments_before = 0;  // sealed segments rewritten
  uint64_t segments_after = 0;   // segments written in their place
  uint64_t rows_before = 0;      // rows in the rewritten segments (deleted included)
  uint64_t rows_after = 0;       // live rows written
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
  uint64_t tombstone_files_dropped = 0;
  uint64_t index_files_built = 0;
};

struct CollectionInfo {
  uint64_t id = 0;
  std::string database;
  std::string name;
  CollectionSchema schema;
  Position created;
  Position flushed;
  uint64_t live_rows = 0;
  uint64_t sealed_segments = 0;
  uint64_t growing_rows = 0;
  std::map<std::string, std::string> properties;  // Milvus collection properties
  CollectionLoadState load;
};

struct WriteResult {
  Position position;                  // of the WAL record (or the last position if nothing was logged)
  uint64_t count = 0;                 // rows written / rows deleted
  std::vector<PrimaryKey> keys;       // insert/upsert: the keys written (autoID: assigned)
};

// A consistent cut: the manifest's files plus the WAL records in
// (manifest.checkpoint, position] are exactly the database at `position`.
// `collections` describes every collection at `position` (names, live rows).
struct ConsistentCut {
  Manifest manifest;
  Position position;
  std::vector<CollectionInfo> collections;
  // A read view of each collection at exactly `position`, in the order of
  // `collections` (what a backup checksums: docs/formats/content-checksum.md).
  std::vector<std::shared_ptr<const CollectionSnapshot>> snapshots;
};

struct PinInfo {
  std::string name;
  std::set<std::string> files;
  Position wal_from;
  uint64_t expires_micros = 0;  // Env::NowMicros() deadline; 0 = never
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(Env* env, const std::string& dir,
                                                const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // ---- collections (database = Milvus dbName, "default" if empty) --------
  Result<Position> CreateCollection(const std::string& database, const std::string& name,
                                    const CollectionSchema& schema);
  Result<Position> DropCollection(const std::string& database, const std::string& name);
  Result<Position> RenameCollection(const std::string& database, const std::string& name,
                                    const std::string& new_database, const std::string& new_name);
  std::vector<CollectionInfo> ListCollections(const std::string& database) const;
  Result<CollectionInfo> DescribeCollection(const std::string& database,
                                            const std::string& name) const;

  // ---- collection properties and load state (database_collection_state.cc) ----
  // Both are DDL of one collection (an alias names it too), durable (WAL ops
  // 108-109, manifest version 5), follow the collection through a rename and
  // vanish with it. FailedPrecondition on a follower, like every write.
  //
  // Milvus collection properties (string key -> string value), shown in
  // CollectionInfo::properties: sets `set`, then removes `drop`. Keys are 1..256
  // bytes, values at most 64 KiB (InvalidArgument naming the collection and
  // key); their meaning is the caller's (the server checks `ark.dr.*`).
  Result<Position> AlterCollectionProperties(const std::string& database, const std::string& name,
                                             const std::map<std::string, std::string>& set,
                                             const std::vector<std::string>& drop);
  // Replaces the collection's load state (CollectionInfo::load). A
  // partition list naming every partition is stored as "fully loaded"; an
  // unknown partition is NotFound "partition not found[partition=X]";
  // released with partitions is InvalidArgument. A state equal to the
  // current one logs nothing (and so also succeeds on a follower), returning
  // the WAL's last position. Partitions created while the collection is
  // partly loaded are loaded; dropping the last loaded one releases it.
  Result<Position> SetLoadState(const std::string& database, const std::string& name,
                                const CollectionLoadState& state);

  // ---- databases and aliases (database_namespace.cc) -------------------------
  // Milvus databases: "default" always exists; a collection can only be
  // created in an existing database; a database with collections cannot be
  // dropped (FailedPrecondition), nor can "default".
  Result<Position> CreateDatabase(const std::string& database);
  Result<Position> DropDatabase(const std::string& database);
  std::vector<std::string> ListDatabases() const;
  bool HasDatabase(const std::string& database) const;
  // Milvus database properties (string key -> string value), durable (WAL op
  // 106, manifest version 3). Sets `set`, then removes `drop`. NotFound for an
  // unknown database. Ark enforces "database.max.collections" (a
  // non-negative integer: CreateCollection beyond it is FailedPrecondition)
  // and keeps every other key for describe.
  Result<Position> AlterDatabaseProperties(const std::string& database,
                                           const std::map<std::string, std::string>& set,
                                           const std::vector<std::string>& drop);
  Result<std::map<std::string, std::string>> DatabaseProperties(const std::string& database) const;
  static constexpr std::string_view kMaxCollectionsProperty = "database.max.collections";
  // Aliases: another name for a collection within its database, accepted
  // wherever a collection name is (except drop and rename, which need the real
  // name). Create: AlreadyExists if the alias or a collection has the name.
  // Alter (replace=true) re-points an existing alias (NotFound otherwise).
  Result<Position> CreateAlias(const std::string& database, const std::string& alias,
                               const std::string& collection, bool replace);
  Result<Position> DropAlias(const std::string& database, const std::string& alias);
  // The collection an alias names; NotFound if there is no such alias.
  Result<std::string> DescribeAlias(const std::string& database, const std::string& alias) const;
  // Aliases in `database` (of `collection` only, when not empty), sorted.
  Result<std::vector<std::string>> ListAliases(const std::string& database,
                                               const std::string& collection) const;

  // ---- partitions (database_partition.cc; Milvus partitions) -----------------
  // Only collections whose schema has partition_column (schema.h) have
  // partitions besides "_default" (FailedPrecondition otherwise). Logged as
  // engine-defined WAL ops 104-105 and kept in the manifest (version 3).
  // Create: AlreadyExists if the name is taken; at most kMaxPartitions.
  Result<Position> CreatePartition(const std::string& database, const std::string& name,
                                   const std::string& partition);
  // Drops a partition and deletes its rows (one WAL record); "_default"
  // cannot be dropped (FailedPrecondition).
  Result<Position> DropPartition(const std::string& database, const std::string& name,
                                 const std::string& partition);
  // Every partition name, "_default" first, then by name.
  Result<std::vector<std::string>> ListPartitions(const std::string& database,
                                                  const std::string& name) const;
  static constexpr size_t kMaxPartitions = 1024;  // Milvus's rootCoord.maxPartitionNum

  // ---- rows ---------------------------------------------------------------
  // Insert fails with AlreadyExists if a key is live (use Upsert to replace).
  // `partition`: the partition the rows go to (empty = "_default"); NotFound
  // "partition not found[partition=X]" if it does not exist.
  Result<WriteResult> Insert(const std::string& database, const std::string& name, RowBatch rows,
                             const std::string& partition = {});
  Result<WriteResult> Upsert(const std::string& database, const std::string& name, RowBatch rows,
                             const std::string& partition = {});
  // Deletes the live rows with these keys; absent keys are ignored (count says how many).
  // With `partition`, only rows of that partition are deleted (NotFound if it does not exist).
  Result<WriteResult> Delete(const std::string& database, const std::string& name,
                             const std::vector<PrimaryKey>& keys, const std::string& partition = {});
  Result<RowBatch> Get(const std::string& database, const std::string& name,
                       const std::vector<PrimaryKey>& keys) const;
  Result<std::shared_ptr<const CollectionSnapshot>> GetSnapshot(const std::string& database,
                                                                const std::string& name) const;

  // Deletes the visible rows matching a Milvus filter. The filter is resolved
  // to primary keys first and the keys are logged (a kDelete record), so
  // replay is deterministic. Rows written after the resolution are untouched.
  // With `partitions`, only rows in those partitions are deleted.
  Result<WriteResult> DeleteByFilter(const std::string& database, const std::string& name,
                                     const std::string& filter, const nlohmann::json* params,
                                     const std::vector<std::string>& partitions = {});

  // ---- indexes (one per vector field; docs/index.md) ------------------------
  // Declares an index on a FloatVector field (logged; builds run in the
  // background for every sealed segment; until a segment's index exists it is
  // searched exactly). Re-declaring with other parameters replaces the
  // definition; the old index files serve until the new ones are committed.
  // With replace=false (the Milvus API) a field's index is never replaced:
  // other parameters are AlreadyExists ("at most one distinct index is
  // allowed per field"); drop it first. Identical parameters succeed.
  // AlreadyExists if `index_name` names an index on another field.
  Result<Position> CreateIndex(const std::string& database, const std::string& name,
                               const std::string& index_name, const std::string& field,
                               const std::string& index_type, const std::string& metric_type,
                               const nlohmann::json& params, bool replace = true);
  Result<Position> DropIndex(const std::string& database, const std::string& name,
                             const std::string& index_name);
  Result<std::vector<IndexInfo>> ListIndexes(const std::string& database,
                                             const std::string& name) const;
  // Waits until no index build is queued or running (tests, flush --wait).
  bool WaitForIndexBuilds(std::chrono::milliseconds timeout);
  // With index_build_threads == 0: runs one queued build on this thread.
  bool RunIndexBuild();

  // Seals the collection's growing segment now (Milvus flush) and commits a manifest.
  Status Flush(const std::string& database, const std::string& name);
  // Seals every growing segment older than seal_age_micros (a follower:
  // nothing). DatabaseMaintenance calls it on a timer.
  Status MaybeSealAged();
  // Invalidates the durable slots past their size bound (logged, counted);
  // writes go on. DatabaseMaintenance calls it on a timer.
  Status EnforceSlotBounds();

  // Compaction: rewrites the collection's small sealed segments (fewer live
  // rows than half of compaction_target_rows) and those with at least
  // compaction_deleted_fraction deleted rows into segments of up to
  // compaction_target_rows live rows, without the deleted rows, builds their
  // indexes, and commits one manifest that swaps them in. Reads and writes go
  // on meanwhile (deletes that land during the rewrite are carried over). The
  // old files are removed once no manifest or pin references them.
  // FailedPrecondition if a compaction of this collection is running.
  Result<CompactionResult> Compact(const std::string& database, const std::string& name);

  // ---- DR seams -----------------------------------------------------------
  // The last committed manifest and the last applied position (waited on
  // until durable) with the collections as they are at it; with a non-empty
  // pin_name also pins the manifest's files and the WAL from its checkpoint.
  Result<ConsistentCut> GetConsistentCut(const std::string& pin_name, uint64_t ttl_micros);
  // Holds `files` and the WAL from `wal_from` until released or expired.
  Status Pin(const std::string& name, std::set<std::string> files, Position wal_from,
             uint64_t ttl_micros);
  Status ReleasePin(const std::string& name);
  std::vector<PinInfo> ListPins() const;
  // Opens a live, retired or pinned content-addressed file by its SHA-256
  // hex name — or one a logged file change names whose manifest is not
  // committed yet (complete under its hash once the record is logged).
  Result<std::unique_ptr<RandomAccessFile>> OpenFileByHash(const std::string& hex) const;
  uint64_t CurrentEpoch() const;
  std::vector<EpochStart> EpochHistory() const;
  // Starts a new epoch (> current) in the WAL and records it in a new manifest.
  Result<Position> StartEpoch(uint64_t epoch);
  // Failover: a follower becomes a primary. Atomically with respect to
  // replicated appends, it starts `epoch` (0 = current + 1; the fork
  // position is that epoch's first record, kept in the epoch history) and
  // takes writes of its own from then on: seals, index builds and
  // compaction run here, and AppendReplicated is refused. The caller stops
  // the stream first. FailedPrecondition if it is not a follower.
  Result<Position> Promote(uint64_t epoch = 0);
  Manifest CurrentManifest() const;

  // ---- restore into a running server (database_import.cc) -----------------
  // Brings whole collections from another database's files into this one
  // while it serves: each entry (its database and name the new ones) with its
  // sealed segments and index files in `source_files_dir` (named by SHA-256;
  // hard-linked into files/, copied where links fail). One WAL record per
  // collection (FileChange "import") and one manifest commit make each appear
  // at once with all its rows and indexes; standbys, the WAL archive and
  // recovery replay the record. Entries must name no tombstone files
  // (InvalidArgument). Refused before anything changes — AlreadyExists naming
  // the collection if a collection or alias has a target name, NotFound for a
  // database that does not exist, FailedPrecondition on a follower. If it
  // fails or is cancelled (Cancelled) before the records are logged, no
  // collection appears and the linked files are unreferenced (the next
  // manifest commit removes them). Returns each record's position.
  Result<std::vector<Position>> ImportCollections(const std::vector<ManifestCollection>& collections,
                                                  const std::string& source_files_dir,
                                                  const std::atomic<bool>* cancelled = nullptr);
  // The refusal ImportCollections gives for these target names (database,
  // name), checked now: OK if every one is free and its database exists.
  Status CheckImportTargets(const std::vector<std::pair<std::string, std::string>>& targets) const;

  // The one apply path: turns a WAL record into state. Recovery replays
  // through it, AppendReplicated applies through it, and a live seal, index
  // build or compaction applies its own file-change record through it.
  // Records already reflected in the manifest (DDL and file changes at or
  // before `applied`, data at or before the collection's `flushed`) are
  // skipped. A file-change record's files are fetched (fetch_file) if files/
  // lacks them, then read and checked, before anything changes.
  Status ApplyRecord(const WalRecord& record);

  // Follower only: writes `record` (from a primary's stream or a WAL archive)
  // to this WAL at its own position — which must be the next one — with its
  // original timestamp, applies it through ApplyRecord's path, waits until it
  // is durable and commits a manifest after DDL, file changes and epochs (as
  // the primary did). The record's files are fetched before anything is
  // written: on error nothing of the record is in the log. FailedPrecondition
  // on a database that is not a follower or for a position that is not next.
  Result<Position> AppendReplicated(const WalRecord& record);
  bool IsFollower() const { return follower_.load(std::memory_order_acquire); }
  // Refuses (Unavailable, with `reason`) every write and DDL until called
  // again with an empty reason — the WAL archiver's "stop writes" answer to
  // a full spool. Not persisted: a restart lifts it (the archiver sets it
  // again if the spool is still full).
  void SetWritesBlocked(const std::string& reason);
  // Called with the position of every write and DDL record once it is
  // durable here, before the write returns to its caller: synchronous
  // replication waits in it for a standby's acknowledgement (an error is
  // returned to the caller; the record stays durable). Set before writes
  // are served; unset = none.
  void SetCommitGate(std::function<Status(Position)> gate) { commit_gate_ = std::move(gate); }
  // Failover's fence (dr/failover/lease_keeper.h): asked before a primary
  // takes a write or DDL and again once it is durable, just before it is
  // acknowledged; an error refuses the write (after durability: the record
  // stays in this WAL, unacknowledged, and failback lists it). Set before
  // writes are served; unset = none.
  void SetWriteFence(std::function<Status()> fence) { write_fence_ = std::move(fence); }

  // Why writes are refused: the sticky error of a failed seal or manifest
  // commit, else the WAL's sticky write/sync error; OK while writes work
  // (/readyz answers 503 with it).
  Status Health() const;

  Wal* wal() const { return wal_.get(); }
  const std::string& dir() const { return dir_; }
  std::string FilesDir() const;

 private:
  struct Collection;
  struct RowRef {
    RowBlock* block = nullptr;
    uint32_t row = 0;
  };

  Database(Env* env, std::string dir, const DatabaseOptions& options);
  Status Recover();
  Status LoadCollection(const ManifestCollection& mc);

  Result<WriteResult> Write(const std::string& database, const std::string& name, RowBatch rows,
                            WriteKind kind, const std::string& partition);
  // The id of `partition` in `c` ("" and "_default" = 0); NotFound otherwise. mu_ held.
  Result<int64_t> PartitionIdLocked(const Collection& c, const std::string& partition) const;
  // Apply helpers; mu_ held.
  Status ApplyCreate(uint64_t id, const CreateCollectionBody& body, Position at);
  Status ApplyDrop(uint64_t id);
  Status ApplyRename(uint64_t id, const RenameCollectionBody& body);
  Status ApplyRows(Collection* c, WriteKind kind, std::shared_ptr<const RowBatch> rows,
                   Position at);
  Status ApplyDelete(Collection* c, const std::vector<PrimaryKey>& keys, Position at);
  Status ApplyNamespaceRecord(const WalRecord& record);  // mu_ held
  Status ApplyPartitionRecord(const WalRecord& record);  // mu_ held
  Status ApplyAlterDatabase(const WalRecord& record);    // mu_ held
  Status ApplyCollectionStateRecord(const WalRecord& record);  // mu_ held; ops 108-109
  // Appends a collection-state record for `c` and applies it (mu_ held).
  Result<Position> LogCollectionStateLocked(Collection* c, uint16_t op, const std::string& body);
  Status ApplyCreateIndex(Collection* c, IndexDefinition def);
  // The apply path (database_apply.cc).
  struct PreparedFiles;
  Result<PreparedFiles> PrepareRecord(const WalRecord& record);
  Status ApplyRecordLocked(const WalRecord& record, PreparedFiles* prepared);  // mu_ held
  Status ApplyIndexRecordLocked(const WalRecord& record);                      // mu_ held
  Status ApplyFileChangeLocked(Collection* c, const FileChange& change, Position at,
                               PreparedFiles* prepared);  // mu_ held
  Status ApplySealLocked(Collection* c, const FileChange& change, Position at, PreparedFiles* prepared);
  Status ApplyIndexBuiltLocked(Collection* c, const FileChange& change, Position at,
                               PreparedFiles* prepared);
  Status ApplyCompactLocked(Collection* c, const FileChange& change, Position at, PreparedFiles* prepared);
  // Import (database_import.cc): reads the entry's files; applies it. mu_ held for the Locked ones.
  Status PrepareImport(const FileChange& change, Position at, PreparedFiles* prepared);
  Status ApplyImportLocked(uint64_t id, const FileChange& change, Position at, PreparedFiles* prepared);
  Status CheckImportTargetsLocked(const std::vector<std::pair<std::string, std::string>>& targets) const;
  Result<std::shared_ptr<RowBlock>> TakePreparedSegment(PreparedFiles* prepared, const std::string& file,
                                                        Position at);
  Result<std::shared_ptr<const VectorIndex>> TakePreparedIndex(PreparedFiles* prepared, const std::string& file,
                                                               Position at);
  // Appends a file-change record for collection `c` and applies it with the
  // files the caller built (mu_ held; commit_mu_ held by the caller, who
  // commits the manifest next).
  Result<Position> LogFileChangeLocked(Collection* c, const FileChange& change, PreparedFiles* built);
  static bool NeedsManifestCommit(uint16_t op);
  // files/<hex> exists afterwards (fetched with fetch_file if it did not).
  Status EnsureFile(const std::string& hex);
  Result<std::shared_ptr<RowBlock>> LoadSegmentFile(const std::string& file, const CollectionSchema& schema,
                                                    const std::string& collection) const;
  Result<std::shared_ptr<const VectorIndex>> LoadIndexFile(const std::string& file, uint64_t rows) const;
  // FailedPrecondition for a follower (writes and DDL come from its primary).
  Status CheckWritable(std::string_view what) const;
  // A write's acknowledgement point: durable here, then the commit gate.
  Status WaitCommitted(Position pos);
  Status ApplyDropIndex(Collection* c, const std::string& index_name);
  void SetIndexes(Collection* c, std::shared_ptr<const CollectionIndexes> indexes);  // mu_ held

  // Background index builds.
  // StartEpoch's work; commit_mu_ held.
  Result<Position> StartEpochLocked(uint64_t epoch);
  void ScheduleIndexBuildsLocked(Collection* c);  // mu_ held
  Status BuildIndex(uint64_t collection_id, std::shared_ptr<RowBlock> block, std::string field,
                    IndexSpec spec, const std::atomic<bool>& cancelled);
  void IndexBuildDone(uint64_t collection_id, const std::string& segment, const std::string& field,
                      const IndexSpec& spec, const Status& status);
  void LoadIndexFilesLocked(Collection* c);  // mu_ held, at open
  // A lazily opened index file whose graph fails to load at first use (a
  // damaged file) is dropped from the served indexes (its segment is then
  // searched exactly) and rebuilt from the segment (database_index.cc).
  void WatchIndexLoad(LazyVectorIndex* index, const std::string& file) const;
  void IndexLoadFailed(const std::string& file, const Status& status);
  void DeleteRow(Collection* c, const PrimaryKey& key, RowRef ref, uint64_t lsn);
  void Publish(Collection* c);  // view_mu_ taken inside
  // A snapshot of `c`'s published state at `lsn`; view_mu_ held.
  std::shared_ptr<const CollectionSnapshot> SnapshotLocked(const Collection& c, uint64_t lsn) const;

  CollectionInfo InfoLocked(const Collection& c) const;
  // By name or, when allow_alias, by alias. mu_ (or view_mu_) held.
  Collection* FindLocked(const std::string& database, const std::string& name,
                         bool allow_alias = true) const;
  Collection* FindByIdLocked(uint64_t id) const;
  bool ShouldSealLocked(const Collection& c) const;

  // Seal + manifest; commit_mu_ held.
  Status SealLocked(uint64_t collection_id);
  Status CommitManifestLocked();
  Manifest BuildManifestLocked();  // mu_ held
  void DeleteObsoleteFilesLocked(const Manifest& m);
  Status StickyError() const;
  // The oldest position a WAL consumer (durable slot) still needs: retired
  // files at or before it may go.
  Position FileConsumerFloor() const;
  void SetStickyError(const Status& s);

  Env* const env_;
  const std::string dir_;
  const DatabaseOptions options_;
  std::function<Status(Position)> commit_gate_;  // set before writes are served
  std::function<Status()> write_fence_;          // set before writes are served
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<Wal> wal_;

  // Lock order: commit_mu_ -> mu_ -> view_mu_.
  mutable std::mutex commit_mu_;  // serialises seals and manifest commits
  mutable std::mutex mu_;         // the write lock: collections' contents, WAL append order
  mutable std::mutex view_mu_;    // published snapshot pointers and the name index

  std::map<uint64_t, std::unique_ptr<Collection>> collections_;  // GUARDED_BY(mu_) (+view_mu_ to change)
  std::map<std::pair<std::string, std::string>, uint64_t> names_;  // GUARDED_BY(mu_ + view_mu_ to change)
  uint64_t next_collection_id_ = 1;                                // GUARDED_BY(mu_)
  std::set<std::string> databases_;  // created databases; GUARDED_BY(mu_ + view_mu_ to change)
  std::map<std::pair<std::string, std::string>, uint64_t> aliases_;  // GUARDED_BY(mu_ + view_mu_ to change)
  std::map<std::string, std::map<std::string, std::string>> database_properties_;  // GUARDED_BY(mu_)
  Position manifest_applied_;                                      // GUARDED_BY(mu_): skip rule for DDL
  std::vector<EpochStart> epochs_;                                 // GUARDED_BY(mu_)
  std::atomic<uint64_t> applied_lsn_{0};  // last lsn applied; stored under mu_, read under view_mu_
  uint64_t manifest_version_ = 0;                                  // GUARDED_BY(commit_mu_)
  std::map<std::string, Position> retired_files_;                  // GUARDED_BY(commit_mu_ + mu_): Manifest::retired
  Manifest last_manifest_;                                         // GUARDED_BY(commit_mu_ + view_mu_)
  std::map<std::string, PinInfo> pins_;                            // GUARDED_BY(view_mu_)
  std::set<std::string> in_flight_files_;  // GUARDED_BY(view_mu_): written, not yet in a manifest
  std::unique_ptr<IndexBuildPool> build_pool_;
  std::set<std::string> damaged_index_files_;  // GUARDED_BY(mu_): failed their first load; rebuilt
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // load-failure handlers hold a weak_ptr
  std::atomic<bool> closing_{false};
  // options_.follower until Promote() turns it off (read on every write).
  std::atomic<bool> follower_;
  mutable std::mutex error_mu_;
  Status sticky_error_;  // GUARDED_BY(error_mu_)
  std::string writes_blocked_;  // GUARDED_BY(error_mu_)
};

}  // namespace ark
