// Every file change is a WAL record: seals, index builds and compactions log
// the files they add and remove by SHA-256, recovery and followers apply
// those records through the one apply path, and a follower that replays a
// primary's WAL (fetching files by hash) ends with byte-identical files.
#include <random>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/database.h"
#include "engine/file_change.h"
#include "engine/manifest.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

constexpr uint32_t kDim = 8;

RowBatch Rows(const CollectionSchema& schema, int64_t first, size_t n, int version = 0) {
  RowBatch b = testing::TestRows(schema, first, n, version);
  for (size_t i = 0; i < n; ++i) {
    std::mt19937 rng(static_cast<uint32_t>(first + i + 7919 * version));
    std::normal_distribution<float> g;
    for (uint32_t d = 0; d < kDim; ++d) b.columns[4].floats[i * kDim + d] = g(rng);
  }
  return b;
}

std::vector<PrimaryKey> Keys(int64_t first, int64_t last, int64_t step = 1) {
  std::vector<PrimaryKey> keys;
  for (int64_t k = first; k < last; k += step) keys.emplace_back(k);
  return keys;
}

// The file-change records of a database's WAL, in order.
std::vector<std::pair<Position, FileChange>> FileChanges(Database* db) {
  std::vector<std::pair<Position, FileChange>> out;
  Status s = db->wal()->Replay({0, 0}, [&](const WalRecord& r) {
    if (r.op != kOpFileChange) return Status::OK();
    ARK_ASSIGN_OR_RETURN(FileChange c, DecodeFileChange(r.body, r.position));
    out.emplace_back(r.position, std::move(c));
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Every key and row of a collection, as a string, for comparing two copies.
std::string Dump(Database* db, const std::string& database, const std::string& name) {
  auto snap = db->GetSnapshot(database, name);
  if (!snap.ok()) return snap.status().ToString();
  auto keys = (*snap)->MatchingKeys("", nullptr);
  if (!keys.ok()) return keys.status().ToString();
  std::vector<PrimaryKey> sorted = *keys;
  std::sort(sorted.begin(), sorted.end());
  RowBatch rows = *(*snap)->Get(sorted);
  std::string out = std::to_string(sorted.size()) + " rows\n";
  for (size_t r = 0; r < rows.num_rows; ++r) out += RowToJson((*snap)->schema(), rows, r).dump() + "\n";
  return out;
}

class FileChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    options_.index_build_threads = 0;  // builds run when the test says
    options_.seal_rows = 1000;
    schema_ = testing::TestSchema(kDim);
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
    // Keep every WAL record so that the tests can read the whole history.
    ASSERT_OK(db_->Pin("test-history", {}, Position{1, 1}, 0));
  }
  void BuildAll() {
    while (db_->RunIndexBuild()) {
    }
  }

  testing::TempDir dir_;
  DatabaseOptions options_;
  CollectionSchema schema_;
  std::unique_ptr<Database> db_;
};

TEST_F(FileChangeTest, SealIndexBuildAndCompactionAreWalRecordsNamingTheirFiles) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 32}}).status());
  for (int s = 0; s < 3; ++s) {
    ASSERT_OK(db_->Insert("", "docs", Rows(schema_, s * 100, 100)).status());
    ASSERT_OK(db_->Flush("", "docs"));
  }
  BuildAll();
  ASSERT_OK(db_->Delete("", "docs", Keys(0, 300, 3)).status());
  ASSERT_OK(db_->Flush("", "docs"));  // a tombstone file, no segment
  Manifest before_compaction = db_->CurrentManifest();
  ASSERT_OK_AND_ASSIGN(CompactionResult compacted, db_->Compact("", "docs"));
  ASSERT_GT(compacted.segments_before, 0u);
  Manifest after = db_->CurrentManifest();

  auto changes = FileChanges(db_.get());
  std::vector<std::string> kinds;
  for (const auto& [pos, c] : changes) kinds.emplace_back(FileChangeKindName(c.kind));
  EXPECT_THAT(kinds, ::testing::ElementsAre("seal", "seal", "seal", "index", "index", "index", "seal", "compact"));
  // Each seal names the segment file the manifest got, and its rows.
  std::set<std::string> sealed_files;
  for (const auto& mc : before_compaction.collections) {
    for (const auto& s : mc.segments) sealed_files.insert(s.file);
  }
  for (int i = 0; i < 3; ++i) {
    const FileChange& seal = changes[i].second;
    ASSERT_TRUE(seal.has_segment);
    EXPECT_EQ(seal.segment.rows, 100u);
    EXPECT_TRUE(sealed_files.count(seal.segment.file)) << seal.segment.file;
    EXPECT_EQ(seal.Added(), std::vector<std::string>{seal.segment.file});
  }
  const FileChange& tomb = changes[6].second;
  EXPECT_FALSE(tomb.has_segment);
  ASSERT_FALSE(tomb.tombstone.empty());
  EXPECT_EQ(before_compaction.collections[0].tombstone_files, std::vector<std::string>{tomb.tombstone});
  // Index records name the files the segments list.
  for (int i = 3; i < 6; ++i) {
    const FileChange& idx = changes[i].second;
    EXPECT_TRUE(before_compaction.LiveFiles().count(idx.index_file));
    EXPECT_TRUE(sealed_files.count(idx.index_segment));
    EXPECT_EQ(idx.field, "embedding");
  }
  // The compaction adds exactly the new live files and removes the old ones.
  const FileChange& compact = changes[7].second;
  const std::set<std::string> live = after.LiveFiles();
  for (const auto& f : compact.Added()) EXPECT_TRUE(live.count(f)) << f;
  for (const auto& f : compact.Removed()) EXPECT_FALSE(live.count(f)) << f;
  EXPECT_EQ(compact.Removed().size(), compacted.segments_before + compacted.tombstone_files_dropped);
  // Each record's position is covered by the manifest that followed it.
  EXPECT_LE(changes.back().first, after.applied);
}

TEST_F(FileChangeTest, RecoveryAppliesASealRecordTheManifestNeverSaw) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 0, 50)).status());
  ASSERT_OK(db_->Flush("", "docs"));
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 50, 50)).status());
  ASSERT_OK(db_->Delete("", "docs", Keys(0, 10)).status());  // sealed rows: a tombstone
  // The state just before the second seal's manifest commit: keep the live
  // manifest's bytes, seal, then put them back as a crash would have left them.
  Env* env = Env::Default();
  std::string current_name;
  ASSERT_OK_AND_ASSIGN(Manifest old, LoadCurrentManifest(env, dir_.path(), &current_name));
  ASSERT_OK(db_->Flush("", "docs"));
  const Manifest sealed = db_->CurrentManifest();
  const std::string before = Dump(db_.get(), "", "docs");
  db_.reset();
  ASSERT_OK(CommitManifest(env, dir_.path(), old));  // CURRENT names the pre-seal manifest again

  ASSERT_OK_AND_ASSIGN(db_, Database::Open(env, dir_.path(), options_));
  EXPECT_EQ(Dump(db_.get(), "", "docs"), before);
  Manifest reopened = db_->CurrentManifest();
  ASSERT_EQ(reopened.collections.size(), 1u);
  EXPECT_EQ(reopened.collections[0].segments, sealed.collections[0].segments);
  EXPECT_EQ(reopened.collections[0].tombstone_files, sealed.collections[0].tombstone_files);
  EXPECT_EQ(reopened.collections[0].flushed, sealed.collections[0].flushed);
}

TEST_F(FileChangeTest, EpochStartsAtItsRecordWhenTheManifestMissedIt) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 0, 10)).status());
  // A crash between Wal::StartEpoch and the manifest commit: the epoch's
  // record is durable, the manifest does not know the epoch.
  ASSERT_OK_AND_ASSIGN(Position epoch_start, db_->wal()->StartEpoch(2));
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 10, 10)).status());
  const Position last = db_->wal()->LastPosition();
  ASSERT_GT(last.lsn, epoch_start.lsn);
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  std::vector<EpochStart> history = db_->EpochHistory();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].epoch, 2u);
  EXPECT_EQ(history[1].first, epoch_start) << "not at LastPosition()+1 = " << last.lsn + 1;
  EXPECT_EQ(db_->CurrentManifest().epochs, history);
}

// A follower fed the primary's WAL record by record, fetching files by hash.
class FollowerTest : public FileChangeTest {
 protected:
  void SetUp() override {
    FileChangeTest::SetUp();
    follower_options_ = options_;
    follower_options_.follower = true;
    follower_options_.fetch_file = [this](const std::string& hex) -> Result<std::string> {
      ++fetched_;
      ARK_ASSIGN_OR_RETURN(auto file, db_->OpenFileByHash(hex));
      ARK_ASSIGN_OR_RETURN(uint64_t size, file->Size());
      std::string content(size, '\0');
      std::string_view got;
      ARK_RETURN_IF_ERROR(file->Read(0, content.size(), &got, content.data()));
      return std::string(got);
    };
    ASSERT_OK_AND_ASSIGN(follower_, Database::Open(Env::Default(), follower_dir_.path(), follower_options_));
  }
  // Streams every primary record after `shipped_` into the follower.
  void CatchUp() {
    Status s = db_->wal()->Replay(shipped_, [&](const WalRecord& r) {
      ARK_RETURN_IF_ERROR(follower_->AppendReplicated(r).status());
      shipped_ = r.position;
      return Status::OK();
    });
    ASSERT_OK(s);
    ASSERT_EQ(follower_->wal()->LastPosition(), db_->wal()->LastPosition());
  }
  void ExpectSameFilesAndRows(const std::vector<std::pair<std::string, std::string>>& collections) {
    EXPECT_EQ(follower_->CurrentManifest().LiveFiles(), db_->CurrentManifest().LiveFiles());
    for (const auto& [database, name] : collections) {
      EXPECT_EQ(Dump(follower_.get(), database, name), Dump(db_.get(), database, name)) << database << "." << name;
    }
  }

  testing::TempDir follower_dir_;
  DatabaseOptions follower_options_;
  std::unique_ptr<Database> follower_;
  Position shipped_{0, 0};
  int fetched_ = 0;
};

TEST_F(FollowerTest, ReplayingThePrimaryWalFetchesByteIdenticalFiles) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 32}}).status());
  CatchUp();
  for (int s = 0; s < 4; ++s) {
    ASSERT_OK(db_->Insert("", "docs", Rows(schema_, s * 100, 100)).status());
    ASSERT_OK(db_->Upsert("", "docs", Rows(schema_, s * 100, 20, /*version=*/1)).status());
    ASSERT_OK(db_->Delete("", "docs", Keys(s * 100 + 50, s * 100 + 60)).status());
    ASSERT_OK(db_->Flush("", "docs"));
    CatchUp();
  }
  BuildAll();
  CatchUp();
  // Deletes of sealed rows (a tombstone at the next seal), growing rows that
  // stay unsealed, then a compaction that rewrites everything.
  ASSERT_OK(db_->Delete("", "docs", Keys(0, 400, 3)).status());
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 1000, 30)).status());
  ASSERT_OK(db_->Flush("", "docs"));
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 2000, 25)).status());
  CatchUp();
  ASSERT_OK(db_->Compact("", "docs").status());
  CatchUp();
  // Other DDL: a database, a second collection renamed into it, an alias, a drop.
  ASSERT_OK(db_->CreateDatabase("sales").status());
  ASSERT_OK(db_->CreateCollection("", "tmp", schema_).status());
  ASSERT_OK(db_->Insert("", "tmp", Rows(schema_, 0, 40)).status());
  ASSERT_OK(db_->Flush("", "tmp"));
  ASSERT_OK(db_->RenameCollection("", "tmp", "sales", "orders").status());
  ASSERT_OK(db_->CreateAlias("", "kb", "docs", false).status());
  ASSERT_OK(db_->CreateCollection("", "gone", schema_).status());
  ASSERT_OK(db_->DropCollection("", "gone").status());
  CatchUp();

  EXPECT_GT(fetched_, 0);
  ExpectSameFilesAndRows({{"", "docs"}, {"sales", "orders"}});
  EXPECT_EQ(follower_->CurrentManifest().collections.size(), 2u);
  EXPECT_EQ(*follower_->DescribeAlias("", "kb"), "docs");
  // Searches answer the same (the HNSW graphs are the primary's, byte for byte).
  SearchRequest req;
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  for (uint32_t d = 0; d < kDim; ++d) req.vectors.push_back(g(rng));
  req.num_queries = 1;
  req.limit = 10;
  auto a = (*db_->GetSnapshot("", "docs"))->Search(req);
  auto b = (*follower_->GetSnapshot("", "docs"))->Search(req);
  ASSERT_OK(a.status());
  ASSERT_OK(b.status());
  EXPECT_EQ(a->queries[0].rows.columns[0].ints, b->queries[0].rows.columns[0].ints);

  // The follower's own recovery reaches the same state.
  follower_.reset();
  ASSERT_OK_AND_ASSIGN(follower_, Database::Open(Env::Default(), follower_dir_.path(), follower_options_));
  ExpectSameFilesAndRows({{"", "docs"}, {"sales", "orders"}});
}

TEST_F(FollowerTest, RefusesWritesAndNeverChangesItsFilesByItself) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 0, 10)).status());
  CatchUp();
  auto refused = follower_->Insert("", "docs", Rows(schema_, 100, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("follower"));
  EXPECT_EQ(follower_->CreateCollection("", "x", schema_).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(follower_->Flush("", "docs").code(), StatusCode::kFailedPrecondition);
  ASSERT_OK(follower_->MaybeSealAged());
  EXPECT_TRUE(follower_->CurrentManifest().collections[0].segments.empty());
  // A record that is not the next one is refused and nothing is written.
  WalRecord stray;
  stray.position = Position{1, follower_->wal()->LastPosition().lsn + 5};
  stray.op = static_cast<uint16_t>(WalOp::kCheckpoint);
  EXPECT_EQ(follower_->AppendReplicated(stray).status().code(), StatusCode::kFailedPrecondition);
  // The primary itself takes no replicated records.
  EXPECT_EQ(db_->AppendReplicated(stray).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FollowerTest, AFileThatCannotBeFetchedWritesNothing) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  ASSERT_OK(db_->Insert("", "docs", Rows(schema_, 0, 10)).status());
  CatchUp();
  ASSERT_OK(db_->Flush("", "docs"));
  follower_options_.fetch_file = [](const std::string& hex) -> Result<std::string> {
    return std::string("not the file ") + hex;  // wrong bytes: the hash check refuses them
  };
  follower_.reset();
  ASSERT_OK_AND_ASSIGN(follower_, Database::Open(Env::Default(), follower_dir_.path(), follower_options_));
  const Position before = follower_->wal()->LastPosition();
  Status s = db_->wal()->Replay(shipped_, [&](const WalRecord& r) { return follower_->AppendReplicated(r).status(); });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), ::testing::HasSubstr("SHA-256"));
  EXPECT_EQ(follower_->wal()->LastPosition(), before);
  EXPECT_OK(follower_->Health());
}

TEST_F(FollowerTest, ALaggingSlotKeepsTheFilesACompactionRetired) {
  // The primary's WAL consumer (a standby) has seen nothing yet: its durable
  // slot holds the WAL, and the files its records will name.
  ASSERT_OK(db_->wal()->CreateSlot("standby", Position{1, 0}, 0));
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  for (int s = 0; s < 3; ++s) {
    ASSERT_OK(db_->Insert("", "docs", Rows(schema_, s * 100, 100)).status());
    ASSERT_OK(db_->Flush("", "docs"));
  }
  std::set<std::string> sealed = db_->CurrentManifest().LiveFiles();
  ASSERT_OK(db_->Compact("", "docs").status());
  const Manifest m = db_->CurrentManifest();
  for (const auto& f : sealed) {
    EXPECT_FALSE(m.LiveFiles().count(f));
    EXPECT_TRUE(m.retired.count(f)) << f << " was retired while a slot still needs it";
    EXPECT_OK(db_->OpenFileByHash(f).status());
  }
  // Now the lagging follower replays the whole history, fetching the
  // retired segment files by hash, and ends identical.
  CatchUp();
  ExpectSameFilesAndRows({{"", "docs"}});
  // Once the slot has passed them, the retired files go at the next commit.
  ASSERT_OK(db_->wal()->AdvanceSlot("standby", db_->wal()->LastPosition()));
  ASSERT_OK(db_->CreateCollection("", "other", schema_).status());  // any commit
  EXPECT_TRUE(db_->CurrentManifest().retired.empty());
  for (const auto& f : sealed) {
    EXPECT_FALSE(Env::Default()->FileExists(JoinPath(db_->FilesDir(), f))) << f;
    EXPECT_EQ(db_->OpenFileByHash(f).status().code(), StatusCode::kNotFound);
  }
}

TEST_F(FileChangeTest, WithoutSlotsRetiredFilesGoAtOnce) {
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  for (int s = 0; s < 2; ++s) {
    ASSERT_OK(db_->Insert("", "docs", Rows(schema_, s * 100, 100)).status());
    ASSERT_OK(db_->Flush("", "docs"));
  }
  std::set<std::string> sealed = db_->CurrentManifest().LiveFiles();
  ASSERT_OK(db_->Compact("", "docs").status());
  EXPECT_TRUE(db_->CurrentManifest().retired.empty());
  for (const auto& f : sealed) EXPECT_FALSE(Env::Default()->FileExists(JoinPath(db_->FilesDir(), f))) << f;
}

}  // namespace
}  // namespace ark
