// WAL archiving and point-in-time restore end to end: a real Database, the
// Archiver shipping to a real repository (local directory and s3rver), a
// FaultInjectingStore for failures, and restores checked with marker rows
// (pgBackRest's technique: the exact markers before each target exist).
#include "dr/archive/archiver.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "dr/archive/archive_index.h"
#include "dr/archive/pitr.h"
#include "dr/backup/backup.h"
#include "engine/database.h"
#include "engine/dr_seam.h"
#include "engine/engine_test_util.h"
#include "storage/fault_injecting_store.h"
#include "storage/object_store_test_util.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

using ark::testing::TempDir;
using ark::testing::TestRows;
using ark::testing::TestSchema;

constexpr uint32_t kDim = 8;
constexpr uint64_t kFlushTimeout = 30ull * 1000000;

DatabaseOptions TestOptions() {
  DatabaseOptions o;
  o.auto_seal = false;
  o.index_build_threads = 0;
  return o;
}

std::set<int64_t> Ids(Database* db, const std::string& database, const std::string& name) {
  std::set<int64_t> out;
  auto snap = db->GetSnapshot(database, name);
  if (!snap.ok()) return out;
  auto rows = (*snap)->Query(QueryRequest{});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok()) return out;
  for (size_t i = 0; i < rows->num_rows; ++i) out.insert(rows->columns[0].ints[i]);
  return out;
}

// ---- the index, without a database ------------------------------------------

ArchiveRange R(uint64_t epoch, uint64_t first, uint64_t last) {
  ArchiveRange r;
  r.epoch = epoch;
  r.first_lsn = first;
  r.last_lsn = last;
  r.segment.hash = std::string(64, 'a');
  return r;
}

TEST(ArchiveIndexTest, FollowsAHistoryAcrossEpochsAndClipsTheAbandonedBranch) {
  ArchiveIndex index;
  index.AddRange(R(1, 1, 10));
  index.AddRange(R(1, 11, 30));  // 21..30 of epoch 1 lie past the fork below
  index.AddRange(R(2, 21, 25));
  std::vector<EpochStart> h2 = {{1, {1, 1}}, {2, {2, 21}}};
  std::optional<ArchiveGap> gap;
  auto pieces = index.ContiguousAfter({1, 5}, h2, &gap);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].use_first, 6u);
  EXPECT_EQ(pieces[0].use_last, 10u);
  EXPECT_EQ(pieces[1].use_last, 20u);  // clipped at the fork
  EXPECT_EQ(pieces[2].range.epoch, 2u);
  EXPECT_FALSE(gap.has_value());
  EXPECT_EQ(index.EndOnHistory(h2), (Position{2, 25}));
  // Epoch 1's own history keeps 21..30.
  EXPECT_EQ(index.EndOnHistory({{1, {1, 1}}}), (Position{1, 30}));
}

TEST(ArchiveIndexTest, NamesTheGapInsteadOfCrossingIt) {
  ArchiveIndex index;
  index.AddRange(R(1, 1, 10));
  index.AddRange(R(1, 15, 20));
  std::vector<EpochStart> h = {{1, {1, 1}}};
  std::optional<ArchiveGap> gap;
  auto pieces = index.ContiguousAfter({1, 3}, h, &gap);
  ASSERT_EQ(pieces.size(), 1u);
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->first_lsn, 11u);
  EXPECT_EQ(gap->last_lsn, 14u);
  auto gaps = index.Gaps(h);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].ToString(), "records 1/11..1/14 of epoch 1");
  // Past the last range there is no gap, just the end.
  index.ContiguousAfter({1, 16}, h, &gap);
  EXPECT_FALSE(gap.has_value());
}

TEST(ArchiveIndexTest, DocumentsRoundTripAndRejectDamage) {
  ArchiveRange r = R(3, 7, 9);
  r.first_micros = 5;
  r.last_micros = 6;
  r.files = {std::string(64, 'b')};
  r.segment.kind = "wal-range";
  auto back = ArchiveRangeFromJson(ArchiveRangeToJson(r), "x");
  ASSERT_OK(back.status());
  EXPECT_EQ(*back, r);
  auto j = ArchiveRangeToJson(r);
  j["lastLsn"] = 2;
  EXPECT_EQ(ArchiveRangeFromJson(j, "x").status().code(), StatusCode::kCorruption);
  j = ArchiveRangeToJson(r);
  j["formatVersion"] = 99;
  EXPECT_EQ(ArchiveRangeFromJson(j, "x").status().code(), StatusCode::kNotSupported);
  ArchiveEpoch e;
  e.epoch = 2;
  e.history = {{1, {1, 1}}, {2, {2, 50}}};
  auto eb = ArchiveEpochFromJson(ArchiveEpochToJson(e), "y");
  ASSERT_OK(eb.status());
  EXPECT_EQ(*eb, e);
  auto ej = ArchiveEpochToJson(e);
  ej["history"][1]["first"] = "2/1";  // lsn going backwards
  EXPECT_EQ(ArchiveEpochFromJson(ej, "y").status().code(), StatusCode::kCorruption);
}

// ---- with a database ----------------------------------------------------------

class ArchiveTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "s3" && ark::testing::S3TestsSkipped()) GTEST_SKIP() << "ARK_SKIP_S3 set";
    ASSERT_OK_AND_ASSIGN(store_, ark::testing::OpenTestStore(GetParam(), "archive-" + std::to_string(counter_++), &dir_));
    faulty_ = std::make_unique<FaultInjectingStore>(store_.get());
    ASSERT_OK(Repository::Init(Env::Default(), faulty_.get(), init_, key_));
    ASSERT_OK_AND_ASSIGN(repo_, Repository::Open(Env::Default(), faulty_.get(), key_));
    data_ = dir_.Sub("data");
    opened_micros_ = Env::Default()->WallMicros();
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), data_, TestOptions()));
  }
  void TearDown() override {
    if (archiver_) archiver_->Stop();
  }

  ArchiveConfig Config() {
    ArchiveConfig c;
    c.interval_seconds = 0.05;
    return c;
  }
  Status Backup(const std::string& name) {
    BackupOptions o;
    o.name = name;
    return CreateBackup(db_.get(), repo_.get(), o).status();
  }
  // Small WAL segments, so that a spool of a few MiB spans several and
  // released ones are removed.
  void ReopenWithSmallSegments() {
    db_.reset();
    DatabaseOptions o = TestOptions();
    o.wal.segment_size_bytes = 256 << 10;
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), data_, o));
  }
  void StartArchiver(ArchiveConfig c) {
    archiver_ = std::make_unique<Archiver>(Env::Default(), db_.get(), c, repo_.get());
    ASSERT_OK(archiver_->Start());
  }
  Result<PitrReport> Restore(PitrTarget target, const std::string& name) {
    PitrOptions o;
    o.target = target;
    o.target_dir = dir_.Sub(name);
    return RestoreToPointInTime(Env::Default(), repo_.get(), o);
  }
  std::unique_ptr<Database> OpenRestored(const std::string& name) {
    auto db = Database::Open(Env::Default(), dir_.Sub(name), TestOptions());
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  // The timestamp of every archived record, by lsn (read back from the archive).
  std::map<uint64_t, uint64_t> ArchivedTimes() {
    std::map<uint64_t, uint64_t> out;
    auto index = ArchiveIndex::Load(repo_.get());
    EXPECT_TRUE(index.ok());
    for (const auto& r : index->AllRanges()) {
      auto blob = repo_->GetBlob(r.segment.hash);
      EXPECT_TRUE(blob.ok());
      auto records = DecodeArchivedRecords(*blob, "t");
      EXPECT_TRUE(records.ok());
      for (const auto& rec : *records) out[rec.position.lsn] = rec.timestamp_micros;
    }
    return out;
  }

  static inline int counter_ = 0;
  TempDir dir_;
  RepositoryInitOptions init_;
  EncryptionKey key_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<FaultInjectingStore> faulty_;
  std::unique_ptr<Repository> repo_;
  std::string data_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Archiver> archiver_;
  uint64_t opened_micros_ = 0;  // before the database's first record
};

INSTANTIATE_TEST_SUITE_P(Backends, ArchiveTest, ::testing::Values("local", "s3"));

// The marker-row oracle: marker k is 5 rows (ids 10k..10k+4) inserted into
// two collections in two databases, with a backup, a seal, an index build, a
// delete and a second backup along the way. Ten targets (five positions,
// five times) and the latest each restore exactly the markers before them.
TEST_P(ArchiveTest, RestoresExactlyTheMarkersBeforeEachTarget) {
  if (GetParam() == "s3") GTEST_SKIP() << "the local backend runs the oracle; S3 runs the fault test";
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->CreateCollection("", "a", s).status());
  ASSERT_OK(db_->CreateIndex("", "a", "embedding", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 32}}).status());
  ASSERT_OK(db_->CreateDatabase("sales").status());
  ASSERT_OK(db_->CreateCollection("sales", "b", s).status());
  StartArchiver(Config());

  constexpr int kMarkers = 30;
  std::vector<Position> pos_a(kMarkers), pos_b(kMarkers);
  Position delete_pos;
  for (int k = 0; k < kMarkers; ++k) {
    ASSERT_OK_AND_ASSIGN(auto wa, db_->Insert("", "a", TestRows(s, 10 * k, 5)));
    ASSERT_OK_AND_ASSIGN(auto wb, db_->Insert("sales", "b", TestRows(s, 10 * k, 5)));
    pos_a[k] = wa.position;
    pos_b[k] = wb.position;
    if (k == 8) ASSERT_OK(Backup("b1"));
    if (k == 12) {
      ASSERT_OK(db_->Flush("", "a"));  // a seal: a file change with a new segment
      while (db_->RunIndexBuild()) {
      }
    }
    if (k == 16) {
      ASSERT_OK_AND_ASSIGN(auto d, db_->Delete("", "a", {PrimaryKey(int64_t{50}), PrimaryKey(int64_t{51})}));
      delete_pos = d.position;
    }
    if (k == 20) ASSERT_OK(Backup("b2"));
  }
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  const auto times = ArchivedTimes();
  auto ts = [&](Position p) { return times.at(p.lsn); };

  auto expect_markers = [&](Database* db, auto present) {
    std::set<int64_t> want_a, want_b;
    for (int k = 0; k < kMarkers; ++k) {
      if (present(pos_b[k])) {
        for (int i = 0; i < 5; ++i) want_b.insert(10 * k + i);
      }
      if (present(pos_a[k])) {
        for (int i = 0; i < 5; ++i) {
          if (10 * k + i >= 50 && 10 * k + i <= 51 && present(delete_pos)) continue;
          want_a.insert(10 * k + i);
        }
      }
    }
    EXPECT_EQ(Ids(db, "default", "a"), want_a);
    EXPECT_EQ(Ids(db, "sales", "b"), want_b);
  };

  int n = 0;
  for (int k : {9, 11, 13, 17, 29}) {  // positions: after b1, before and after the seal, after the delete, the end
    Position target = pos_a[k];
    ASSERT_OK_AND_ASSIGN(auto report, Restore({PitrTarget::Kind::kPosition, 0, target}, "pos" + std::to_string(n)));
    EXPECT_EQ(report.reached, target);
    auto db = OpenRestored("pos" + std::to_string(n++));
    ASSERT_NE(db, nullptr);
    expect_markers(db.get(), [&](Position p) { return p.lsn <= target.lsn; });
  }
  for (int k : {9, 12, 15, 21, 27}) {
    // Half the targets fall exactly on a record's time, half just before it.
    uint64_t t = k % 2 ? ts(pos_b[k]) : ts(pos_a[k]) - 1;
    ASSERT_OK_AND_ASSIGN(auto report, Restore({PitrTarget::Kind::kTime, t, {}}, "time" + std::to_string(n)));
    EXPECT_LE(report.reached_micros, t);
    auto db = OpenRestored("time" + std::to_string(n++));
    ASSERT_NE(db, nullptr);
    expect_markers(db.get(), [&](Position p) { return ts(p) <= t; });
  }
  // Latest: everything, with the source's files byte for byte (fetched, not rebuilt).
  ASSERT_OK_AND_ASSIGN(auto report, Restore({}, "latest"));
  EXPECT_EQ(report.reached, DrSeam(db_.get()).DurablePosition());
  EXPECT_EQ(report.backup, "b2");
  auto latest = OpenRestored("latest");
  ASSERT_NE(latest, nullptr);
  expect_markers(latest.get(), [](Position) { return true; });
  ASSERT_OK_AND_ASSIGN(auto mine, DrSeam(db_.get()).GetConsistentCut("", 0));
  ASSERT_OK_AND_ASSIGN(auto theirs, DrSeam(latest.get()).GetConsistentCut("", 0));
  EXPECT_EQ(theirs.manifest.LiveFiles(), mine.manifest.LiveFiles());
  EXPECT_FALSE(mine.manifest.LiveFiles().empty());
  // The restored database writes in a new epoch, recorded in the repository.
  EXPECT_GT(latest->CurrentEpoch(), 1u);
  ASSERT_OK_AND_ASSIGN(auto index, ArchiveIndex::Load(repo_.get()));
  EXPECT_TRUE(index.epochs().count(latest->CurrentEpoch()));
  // The archive verifies; status shows both backups' windows reaching the end.
  ASSERT_OK(VerifyArchive(repo_.get(), 0, {}, {}, false).status());
  ASSERT_OK_AND_ASSIGN(auto status, GetArchiveStatus(repo_.get()));
  EXPECT_TRUE(status.gaps.empty());
  ASSERT_EQ(status.windows.size(), 2u);
  EXPECT_EQ(status.windows[1].to, report.reached);
}

TEST_P(ArchiveTest, RefusesTargetsItCannotReachAndNamesWhy) {
  if (GetParam() == "s3") GTEST_SKIP() << "local only";
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->CreateCollection("", "a", s).status());
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 0, 5)).status());
  // No archive yet: a point-in-time restore says so.
  auto none = Restore({}, "none");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("no archived WAL"), std::string::npos) << none.status().ToString();
  StartArchiver(Config());
  ASSERT_OK(Backup("b1"));
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 10, 5)).status());
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  const Position end = DrSeam(db_.get()).DurablePosition();
  // Before the only backup.
  auto early = Restore({PitrTarget::Kind::kPosition, 0, {1, 1}}, "early");
  EXPECT_EQ(early.status().code(), StatusCode::kNotFound) << early.status().ToString();
  EXPECT_NE(early.status().message().find("b1"), std::string::npos) << early.status().ToString();
  // Past the end.
  auto late = Restore({PitrTarget::Kind::kPosition, 0, {1, end.lsn + 100}}, "late");
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition) << late.status().ToString();
  EXPECT_NE(late.status().message().find("--to-latest"), std::string::npos);
  auto future = Restore({PitrTarget::Kind::kTime, Env::Default()->WallMicros() + 3600ull * 1000000, {}}, "future");
  EXPECT_EQ(future.status().code(), StatusCode::kFailedPrecondition) << future.status().ToString();
  // Nothing was left behind by the refusals.
  for (const char* d : {"none", "early", "late", "future"}) EXPECT_FALSE(std::filesystem::exists(dir_.Sub(d))) << d;
}

// Errors, hangs and torn uploads while archiving: once the store is back,
// the archive is contiguous and complete, and re-shipped ranges were no-ops.
TEST_P(ArchiveTest, StoreFaultsLeaveNoGapOnceTheStoreIsBack) {
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->CreateCollection("", "a", s).status());
  ASSERT_OK(Backup("b0"));
  StartArchiver(Config());
  faulty_->FailRandomly(FaultInjectingStore::kAll, 0.4, 42, Status::Unavailable("injected"),
                        FaultInjectingStore::PutFailure::kRandom);
  for (int k = 0; k < 40; ++k) {
    ASSERT_OK(db_->Insert("", "a", TestRows(s, 10 * k, 5)).status());
    if (k == 20) ASSERT_OK(db_->Flush("", "a"));  // a file to ship under faults too
  }
  // The archiver keeps failing and retrying while faults last ...
  EXPECT_EQ(archiver_->Flush(300000).code(), StatusCode::kTimedOut);
  EXPECT_GT(archiver_->GetStatus().failures, 0u);
  // The lag is the age of the oldest record the archive lacks: at least the
  // 300 ms Flush waited, at most the age of the database's first record.
  {
    const double lag = archiver_->GetStatus().lag_seconds;
    const double since_open = static_cast<double>(Env::Default()->WallMicros() - opened_micros_) / 1e6;
    EXPECT_GE(lag, 0.3);
    EXPECT_LE(lag, since_open);
  }
  EXPECT_OK(archiver_->Health());
  faulty_->Clear();
  faulty_->Hang(FaultInjectingStore::kPut, 50);
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 1000, 5)).status());
  faulty_->Clear();
  // ... and catches up once the store is back.
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  EXPECT_GT(faulty_->injected(), 0u);
  ASSERT_OK_AND_ASSIGN(auto verify, VerifyArchive(repo_.get(), 0, {}, {}, false));
  EXPECT_TRUE(verify.problems.empty());
  ASSERT_OK_AND_ASSIGN(auto report, Restore({}, "latest"));
  auto db = OpenRestored("latest");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Ids(db.get(), "default", "a"), Ids(db_.get(), "default", "a"));
}

// A restart resumes exactly where the archive ends: no gap, no overlap.
TEST_P(ArchiveTest, ResumesAfterARestartWithoutGapOrOverlap) {
  if (GetParam() == "s3") GTEST_SKIP() << "local only";
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->CreateCollection("", "a", s).status());
  ASSERT_OK(Backup("b0"));
  StartArchiver(Config());
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 0, 5)).status());
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  archiver_->Stop();
  archiver_.reset();
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), data_, TestOptions()));
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 10, 5)).status());  // written before the archiver starts
  StartArchiver(Config());
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 20, 5)).status());
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  ASSERT_OK_AND_ASSIGN(auto verify, VerifyArchive(repo_.get(), 0, {}, {}, false));
  ASSERT_OK_AND_ASSIGN(auto status, GetArchiveStatus(repo_.get()));
  EXPECT_TRUE(status.gaps.empty());
  EXPECT_EQ(status.last, DrSeam(db_.get()).DurablePosition());
  ASSERT_OK_AND_ASSIGN(auto report, Restore({}, "latest"));
  auto db = OpenRestored("latest");
  EXPECT_EQ(Ids(db.get(), "default", "a").size(), 15u);
}

// Another database archiving into the same repository is refused: the two
// histories never mix, and nothing of the first is overwritten.
TEST_P(ArchiveTest, AnotherDatabaseCannotArchiveIntoTheSameHistory) {
  if (GetParam() == "s3") GTEST_SKIP() << "local only";
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->CreateCollection("", "a", s).status());
  StartArchiver(Config());
  for (int k = 0; k < 5; ++k) ASSERT_OK(db_->Insert("", "a", TestRows(s, 10 * k, 5)).status());
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  ASSERT_OK_AND_ASSIGN(auto before, ArchiveIndex::Load(repo_.get()));

  // A shorter history: the archive is ahead of it.
  ASSERT_OK_AND_ASSIGN(auto small, Database::Open(Env::Default(), dir_.Sub("small"), TestOptions()));
  ASSERT_OK(small->CreateCollection("", "x", s).status());
  Archiver a1(Env::Default(), small.get(), Config(), repo_.get());
  Status s1 = a1.Start();
  EXPECT_EQ(s1.code(), StatusCode::kFailedPrecondition) << s1.ToString();
  EXPECT_NE(s1.message().find("another database"), std::string::npos) << s1.ToString();
  // A longer one: the record at the archive's end differs.
  ASSERT_OK_AND_ASSIGN(auto big, Database::Open(Env::Default(), dir_.Sub("big"), TestOptions()));
  ASSERT_OK(big->CreateCollection("", "y", s).status());
  for (int k = 0; k < 20; ++k) ASSERT_OK(big->Insert("", "y", TestRows(s, 100 + k, 1)).status());
  Archiver a2(Env::Default(), big.get(), Config(), repo_.get());
  Status s2 = a2.Start();
  EXPECT_EQ(s2.code(), StatusCode::kFailedPrecondition) << s2.ToString();
  ASSERT_OK_AND_ASSIGN(auto after, ArchiveIndex::Load(repo_.get()));
  EXPECT_EQ(after.AllRanges(), before.AllRanges());
}

// A full spool (the store down, the WAL past the bound): writes go on, the
// slot is dropped, the gap is counted and named, and a restore refuses to
// cross it; a backup after the gap restores to the latest again.
TEST_P(ArchiveTest, AFullSpoolLeavesANamedGapAndWritesGoOn) {
  if (GetParam() == "s3") GTEST_SKIP() << "local only";
  ReopenWithSmallSegments();
  CollectionSchema s = TestSchema(256);
  ASSERT_OK(db_->CreateCollection("", "a", s).status());
  ASSERT_OK(Backup("b0"));
  ArchiveConfig c = Config();
  c.max_spool_bytes = 1 << 20;
  StartArchiver(c);
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 0, 10)).status());
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  faulty_->FailNext(FaultInjectingStore::kPut, 1 << 30);
  // ~3 MiB of WAL while nothing can be shipped; a seal moves the checkpoint
  // so the WAL may drop the segments the slot no longer holds.
  for (int k = 1; k <= 30; ++k) ASSERT_OK(db_->Insert("", "a", TestRows(s, 1000 * k, 100)).status());
  ASSERT_OK(db_->Flush("", "a"));
  ASSERT_OK(db_->EnforceSlotBounds());
  faulty_->Clear();
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 999999, 1)).status());
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  EXPECT_GE(archiver_->GetStatus().gaps, 1u);
  EXPECT_OK(archiver_->Health());
  ASSERT_OK_AND_ASSIGN(auto status, GetArchiveStatus(repo_.get()));
  ASSERT_FALSE(status.gaps.empty());
  auto crossed = Restore({}, "crossed");
  EXPECT_EQ(crossed.status().code(), StatusCode::kFailedPrecondition) << crossed.status().ToString();
  EXPECT_NE(crossed.status().message().find(status.gaps[0].ToString()), std::string::npos) << crossed.status().ToString();
  // A backup after the gap opens a new window.
  ASSERT_OK(Backup("b1"));
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 5000000, 3)).status());
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  ASSERT_OK_AND_ASSIGN(auto report, Restore({}, "after"));
  EXPECT_EQ(report.backup, "b1");
  auto db = OpenRestored("after");
  EXPECT_EQ(Ids(db.get(), "default", "a"), Ids(db_.get(), "default", "a"));
}

// on_spool_full: stop-writes refuses writes (naming the spool) while the
// store is down and lets them through once archiving caught up.
TEST_P(ArchiveTest, StopWritesRefusesWritesUntilTheArchiveCatchesUp) {
  if (GetParam() == "s3") GTEST_SKIP() << "local only";
  ReopenWithSmallSegments();
  CollectionSchema s = TestSchema(256);
  ASSERT_OK(db_->CreateCollection("", "a", s).status());
  ArchiveConfig c = Config();
  c.max_spool_bytes = 1 << 20;
  c.on_spool_full = "stop-writes";
  StartArchiver(c);
  faulty_->FailNext(FaultInjectingStore::kPut, 1 << 30);
  Status refused;
  for (int k = 1; k <= 200 && refused.ok(); ++k) {
    refused = db_->Insert("", "a", TestRows(s, 1000 * k, 100)).status();
    if (refused.ok()) {
      // Let the archiver look at its spool: it blocks writes once it is full.
      (void)archiver_->Flush(60000);
    }
  }
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_NE(refused.message().find("max_spool_bytes"), std::string::npos) << refused.ToString();
  EXPECT_TRUE(archiver_->GetStatus().writes_blocked);
  faulty_->Clear();
  ASSERT_OK(archiver_->Flush(kFlushTimeout));  // caught up: the round lifted the block
  EXPECT_FALSE(archiver_->GetStatus().writes_blocked);
  EXPECT_OK(db_->Insert("", "a", TestRows(s, 7, 1)).status());
  EXPECT_EQ(archiver_->GetStatus().gaps, 0u);
}

// Prune keeps what each kept backup needs for its window and removes the rest.
TEST_P(ArchiveTest, PruneKeepsTheWindowOfEveryKeptBackup) {
  if (GetParam() == "s3") GTEST_SKIP() << "local only";
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->CreateCollection("", "a", s).status());
  StartArchiver(Config());
  for (int k = 0; k < 3; ++k) {
    ASSERT_OK(db_->Insert("", "a", TestRows(s, 10 * k, 5)).status());
    ASSERT_OK(archiver_->Flush(kFlushTimeout));
  }
  ASSERT_OK(Backup("b1"));
  ASSERT_OK(db_->Insert("", "a", TestRows(s, 100, 5)).status());
  ASSERT_OK(archiver_->Flush(kFlushTimeout));
  ASSERT_OK_AND_ASSIGN(auto before, ArchiveIndex::Load(repo_.get()));
  PruneOptions po;
  po.grace_micros = 0;
  ASSERT_OK_AND_ASSIGN(auto pruned, PruneBackups(repo_.get(), po));
  EXPECT_GT(pruned.archive_ranges_removed, 0u);
  ASSERT_OK_AND_ASSIGN(auto after, ArchiveIndex::Load(repo_.get()));
  EXPECT_LT(after.AllRanges().size(), before.AllRanges().size());
  ASSERT_OK(VerifyArchive(repo_.get(), 0, {}, {}, false).status());
  ASSERT_OK_AND_ASSIGN(auto report, Restore({}, "latest"));
  EXPECT_EQ(report.backup, "b1");
  auto db = OpenRestored("latest");
  EXPECT_EQ(Ids(db.get(), "default", "a"), Ids(db_.get(), "default", "a"));
}

// An encrypted repository's archive holds no plaintext of the rows.
TEST(ArchiveEncryptionTest, EncryptedArchiveHoldsNoPlaintext) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, OpenObjectStore("file://" + dir.Sub("repo")));
  RepositoryInitOptions init;
  init.encrypt = true;
  init.scrypt_n = 1024;
  EncryptionKey key;
  key.passphrase = "correct horse";
  ASSERT_OK(Repository::Init(Env::Default(), store.get(), init, key));
  ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(Env::Default(), store.get(), key));
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(Env::Default(), dir.Sub("data"), TestOptions()));
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db->CreateCollection("", "secretcollection", s).status());
  ArchiveConfig c;
  c.interval_seconds = 0.05;
  Archiver archiver(Env::Default(), db.get(), c, repo.get());
  ASSERT_OK(archiver.Start());
  ASSERT_OK(db->Insert("", "secretcollection", TestRows(s, 424242, 3, /*version=*/777777)).status());
  ASSERT_OK(db->Flush("", "secretcollection"));
  ASSERT_OK(archiver.Flush(kFlushTimeout));
  archiver.Stop();
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.Sub("repo"))) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    files++;
    EXPECT_EQ(bytes.find("v777777"), std::string::npos) << e.path();
    EXPECT_EQ(bytes.find("secretcollection"), std::string::npos) << e.path();
  }
  EXPECT_GT(files, 3);
  ASSERT_OK_AND_ASSIGN(auto index, ArchiveIndex::Load(repo.get()));
  EXPECT_FALSE(index.AllRanges().empty());
}

}  // namespace
}  // namespace ark::dr
