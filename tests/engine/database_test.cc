#include "engine/database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/hash.h"
#include "engine/manifest.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

using ::testing::HasSubstr;

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    Reopen();
  }
  void Reopen() {
    db_.reset();
    auto r = Database::Open(Env::Default(), dir_.path(), options_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    db_ = std::move(r).value();
  }
  void CreateDocs(uint32_t dim = 4, bool auto_id = false) {
    schema_ = testing::TestSchema(dim, auto_id);
    ASSERT_TRUE(db_->CreateCollection("", "docs", schema_).ok());
  }
  std::vector<PrimaryKey> Keys(int64_t first, int64_t n) {
    std::vector<PrimaryKey> k;
    for (int64_t i = 0; i < n; ++i) k.emplace_back(first + i);
    return k;
  }
  uint64_t Count() { return (*db_->GetSnapshot("", "docs"))->CountRows(); }

  testing::TempDir dir_;
  DatabaseOptions options_;
  std::unique_ptr<Database> db_;
  CollectionSchema schema_;
};

TEST_F(DatabaseTest, CreateListDescribeRenameDrop) {
  CreateDocs();
  EXPECT_TRUE(db_->CreateCollection("default", "docs", schema_).status().Is(StatusCode::kAlreadyExists));
  EXPECT_TRUE(db_->CreateCollection("other", "docs", schema_).status().IsNotFound());  // no such database
  ASSERT_TRUE(db_->CreateDatabase("other").ok());
  ASSERT_TRUE(db_->CreateCollection("other", "docs", schema_).ok());  // databases are namespaces
  EXPECT_EQ(db_->ListCollections("default").size(), 1u);
  EXPECT_EQ(db_->ListCollections("other").size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto info, db_->DescribeCollection("", "docs"));
  EXPECT_EQ(info.schema, schema_);
  uint64_t id = info.id;
  ASSERT_TRUE(db_->RenameCollection("", "docs", "", "papers").ok());
  EXPECT_TRUE(db_->DescribeCollection("", "docs").status().IsNotFound());
  ASSERT_OK_AND_ASSIGN(auto renamed, db_->DescribeCollection("", "papers"));
  EXPECT_EQ(renamed.id, id);  // a rename keeps the id
  ASSERT_TRUE(db_->DropCollection("", "papers").ok());
  EXPECT_TRUE(db_->DescribeCollection("", "papers").status().IsNotFound());
  Reopen();
  EXPECT_EQ(db_->ListCollections("default").size(), 0u);
  EXPECT_EQ(db_->ListCollections("other").size(), 1u);
}

TEST_F(DatabaseTest, BadSchemaAndUnknownCollection) {
  auto s = testing::TestSchema();
  s.fields[4].dim = 0;
  EXPECT_TRUE(db_->CreateCollection("", "docs", s).status().Is(StatusCode::kInvalidArgument));
  auto r = db_->Insert("", "nope", testing::TestRows(testing::TestSchema(), 1, 1));
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_THAT(r.status().message(), HasSubstr("collection 'nope' not found in database 'default'"));
}

TEST_F(DatabaseTest, InsertGetUpsertDeleteInGrowingSegment) {
  CreateDocs();
  ASSERT_OK_AND_ASSIGN(auto w, db_->Insert("", "docs", testing::TestRows(schema_, 1, 10)));
  EXPECT_EQ(w.count, 10u);
  EXPECT_GT(w.position.lsn, 0u);
  ASSERT_OK_AND_ASSIGN(RowBatch got, db_->Get("", "docs", Keys(3, 2)));
  EXPECT_EQ(got, testing::TestRows(schema_, 3, 2));
  ASSERT_TRUE(db_->Upsert("", "docs", testing::TestRows(schema_, 5, 2, 1)).ok());
  ASSERT_OK_AND_ASSIGN(got, db_->Get("", "docs", Keys(5, 1)));
  EXPECT_EQ(got, testing::TestRows(schema_, 5, 1, 1));
  ASSERT_OK_AND_ASSIGN(auto d, db_->Delete("", "docs", {int64_t{1}, int64_t{2}, int64_t{99}}));
  EXPECT_EQ(d.count, 2u);
  EXPECT_EQ(Count(), 8u);
  ASSERT_OK_AND_ASSIGN(got, db_->Get("", "docs", Keys(1, 3)));
  EXPECT_EQ(got.num_rows, 1u);
}

TEST_F(DatabaseTest, InsertOfExistingKeyIsAlreadyExistsAndChangesNothing) {
  CreateDocs();
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 1, 5)).ok());
  auto r = db_->Insert("", "docs", testing::TestRows(schema_, 5, 3, 1));
  ASSERT_TRUE(r.status().Is(StatusCode::kAlreadyExists));
  EXPECT_THAT(r.status().message(),
              HasSubstr("collection 'docs', field 'id': primary key 5 already exists (use upsert"));
  EXPECT_EQ(Count(), 5u);
  ASSERT_TRUE(db_->Flush("", "docs").ok());
  EXPECT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 2, 1)).status().Is(StatusCode::kAlreadyExists));
}

TEST_F(DatabaseTest, ValidationErrorsComeBackFromTheEngine) {
  CreateDocs();
  auto rows = testing::TestRows(schema_, 1, 2);
  rows.columns[4].floats[0] = std::nanf("");
  auto r = db_->Insert("", "docs", rows);
  EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument));
  EXPECT_THAT(r.status().message(), HasSubstr("field 'embedding': row 0, element 0: vectors must be finite"));
}

TEST_F(DatabaseTest, AutoIdAssignsIncreasingKeysThatSurviveRestart) {
  CreateDocs(4, true);
  auto rows = testing::TestRows(schema_, 0, 3);
  ASSERT_OK_AND_ASSIGN(auto w, db_->Insert("", "docs", rows));
  ASSERT_EQ(w.keys.size(), 3u);
  EXPECT_EQ(w.keys[0], PrimaryKey(int64_t{1}));
  EXPECT_EQ(w.keys[2], PrimaryKey(int64_t{3}));
  Reopen();
  ASSERT_OK_AND_ASSIGN(auto w2, db_->Insert("", "docs", testing::TestRows(schema_, 0, 1)));
  EXPECT_EQ(w2.keys[0], PrimaryKey(int64_t{4}));
  EXPECT_EQ(Count(), 4u);
}

TEST_F(DatabaseTest, SealWritesContentAddressedSegmentAndManifest) {
  CreateDocs(16);
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 1, 100)).ok());
  ASSERT_OK(db_->Flush("", "docs"));
  Manifest m = db_->CurrentManifest();
  ASSERT_EQ(m.collections.size(), 1u);
  ASSERT_EQ(m.collections[0].segments.size(), 1u);
  const auto& seg = m.collections[0].segments[0];
  EXPECT_EQ(seg.rows, 100u);
  std::string data;
  ASSERT_OK(Env::Default()->ReadFileToString(JoinPath(db_->FilesDir(), seg.file), &data));
  EXPECT_EQ(ToHex(Sha256(data)), seg.file);
  EXPECT_EQ(m.checkpoint, m.applied);  // nothing left only in the WAL
  ASSERT_OK_AND_ASSIGN(auto info, db_->DescribeCollection("", "docs"));
  EXPECT_EQ(info.sealed_segments, 1u);
  EXPECT_EQ(info.growing_rows, 0u);
  ASSERT_OK_AND_ASSIGN(auto f, db_->OpenFileByHash(seg.file));
  EXPECT_EQ(*f->Size(), data.size());
}

TEST_F(DatabaseTest, RowsAcrossGrowingAndSealedWithDeletesAndUpsertsSurviveRestart) {
  CreateDocs();
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 0, 50)).ok());
  ASSERT_OK(db_->Flush("", "docs"));                                         // 0..49 sealed
  ASSERT_TRUE(db_->Delete("", "docs", Keys(0, 10)).ok());                   // tombstones
  ASSERT_TRUE(db_->Upsert("", "docs", testing::TestRows(schema_, 10, 5, 1)).ok());  // 10..14 v1
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 50, 20)).ok());    // growing
  ASSERT_OK(db_->Flush("", "docs"));
  ASSERT_TRUE(db_->Delete("", "docs", Keys(60, 5)).ok());                   // delete sealed again
  ASSERT_TRUE(db_->Upsert("", "docs", testing::TestRows(schema_, 12, 1, 2)).ok());  // 12 v2 growing
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 70, 5)).ok());
  ASSERT_TRUE(db_->Delete("", "docs", Keys(72, 1)).ok());                   // delete growing
  auto check = [&] {
    EXPECT_EQ(Count(), 50u - 10 + 20 - 5 + 5 - 1);
    ASSERT_OK_AND_ASSIGN(RowBatch got, db_->Get("", "docs", Keys(0, 80)));
    EXPECT_EQ(got.num_rows, Count());
    ASSERT_OK_AND_ASSIGN(got, db_->Get("", "docs", Keys(12, 1)));
    EXPECT_EQ(got, testing::TestRows(schema_, 12, 1, 2));
    ASSERT_OK_AND_ASSIGN(got, db_->Get("", "docs", Keys(13, 1)));
    EXPECT_EQ(got, testing::TestRows(schema_, 13, 1, 1));
    ASSERT_OK_AND_ASSIGN(got, db_->Get("", "docs", Keys(5, 1)));
    EXPECT_EQ(got.num_rows, 0u);
  };
  check();
  Reopen();  // growing part comes back from the WAL
  check();
  ASSERT_OK(db_->Flush("", "docs"));
  Reopen();  // everything from files
  check();
  EXPECT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 13, 1)).status().Is(StatusCode::kAlreadyExists));
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 5, 1)).ok());  // deleted key is free
}

TEST_F(DatabaseTest, SnapshotDoesNotSeeLaterWrites) {
  CreateDocs();
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 0, 10)).ok());
  ASSERT_OK_AND_ASSIGN(auto snap, db_->GetSnapshot("", "docs"));
  ASSERT_TRUE(db_->Delete("", "docs", Keys(0, 5)).ok());
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 10, 10)).ok());
  ASSERT_OK(db_->Flush("", "docs"));
  EXPECT_EQ(snap->CountRows(), 10u);
  EXPECT_EQ(snap->Get(Keys(0, 1))->num_rows, 1u);
  EXPECT_EQ(Count(), 15u);
}

TEST_F(DatabaseTest, AutoSealAtRowThreshold) {
  options_.auto_seal = true;
  options_.seal_rows = 25;
  Reopen();
  CreateDocs();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, i * 10, 10)).ok());
  ASSERT_OK_AND_ASSIGN(auto info, db_->DescribeCollection("", "docs"));
  EXPECT_EQ(info.sealed_segments, 2u);
  EXPECT_EQ(info.growing_rows, 0u);
  EXPECT_EQ(info.live_rows, 60u);
}

TEST_F(DatabaseTest, DroppedCollectionFilesAreDeletedUnlessPinned) {
  CreateDocs();
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 0, 10)).ok());
  ASSERT_OK(db_->Flush("", "docs"));
  ASSERT_OK_AND_ASSIGN(ConsistentCut cut, db_->GetConsistentCut("backup-1", 0));
  ASSERT_EQ(cut.manifest.LiveFiles().size(), 1u);
  EXPECT_GE(cut.position, cut.manifest.applied);
  std::string file = *cut.manifest.LiveFiles().begin();
  ASSERT_TRUE(db_->DropCollection("", "docs").ok());
  EXPECT_TRUE(Env::Default()->FileExists(JoinPath(db_->FilesDir(), file)));
  ASSERT_TRUE(db_->OpenFileByHash(file).ok());
  ASSERT_OK(db_->ReleasePin("backup-1"));
  ASSERT_TRUE(db_->CreateCollection("", "again", schema_).ok());  // commits a manifest, collects garbage
  EXPECT_FALSE(Env::Default()->FileExists(JoinPath(db_->FilesDir(), file)));
  EXPECT_TRUE(db_->OpenFileByHash(file).status().IsNotFound());
}

// A manifest commit used to delete every *.tmp in files/, including the
// temp file a concurrent compaction or index build was about to rename
// (found by the kill loop). Temp files now go only at open.
TEST_F(DatabaseTest, ManifestCommitLeavesTempFilesInProgressAndOpenRemovesLeftovers) {
  CreateDocs();
  const std::string tmp = JoinPath(db_->FilesDir(), std::string(64, 'a') + ".7.tmp");
  {
    auto f = Env::Default()->NewWritableFile(tmp);
    ASSERT_OK(f.status());
    ASSERT_OK((*f)->Append("being written"));
    ASSERT_OK((*f)->Close());
  }
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 0, 10)).ok());
  ASSERT_OK(db_->Flush("", "docs"));  // commits a manifest and collects garbage
  EXPECT_TRUE(Env::Default()->FileExists(tmp)) << "a file being written survives a commit";
  Reopen();
  EXPECT_FALSE(Env::Default()->FileExists(tmp)) << "a crash's leftover goes at open";
  EXPECT_EQ(Count(), 10u);
}

TEST_F(DatabaseTest, ExpiredPinStopsHoldingFiles) {
  CreateDocs();
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 0, 10)).ok());
  ASSERT_OK(db_->Flush("", "docs"));
  ASSERT_OK_AND_ASSIGN(ConsistentCut cut, db_->GetConsistentCut("short", 1));  // 1 microsecond
  std::string file = *cut.manifest.LiveFiles().begin();
  uint64_t deadline = Env::Default()->NowMicros() + 1'000'000;
  while (!db_->ListPins().empty() && Env::Default()->NowMicros() < deadline) {
  }
  EXPECT_TRUE(db_->ListPins().empty());
  ASSERT_TRUE(db_->DropCollection("", "docs").ok());
  EXPECT_FALSE(Env::Default()->FileExists(JoinPath(db_->FilesDir(), file)));
}

TEST_F(DatabaseTest, EpochHistoryIsDurable) {
  ASSERT_EQ(db_->EpochHistory().size(), 1u);
  EXPECT_EQ(db_->CurrentEpoch(), 1u);
  CreateDocs();
  ASSERT_OK_AND_ASSIGN(Position p, db_->StartEpoch(2));
  EXPECT_EQ(p.epoch, 2u);
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 0, 3)).ok());
  EXPECT_TRUE(db_->StartEpoch(2).status().Is(StatusCode::kFailedPrecondition));
  Reopen();
  EXPECT_EQ(db_->CurrentEpoch(), 2u);
  auto h = db_->EpochHistory();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].epoch, 2u);
  EXPECT_EQ(h[1].first, p);
  EXPECT_EQ(Count(), 3u);
}

TEST_F(DatabaseTest, SecondOpenOfSameDirectoryFails) {
  auto r = Database::Open(Env::Default(), dir_.path(), options_);
  EXPECT_TRUE(r.status().Is(StatusCode::kFailedPrecondition)) << r.status().ToString();
}

TEST_F(DatabaseTest, CorruptSegmentFileFailsFirstUseNamingTheFile) {
  CreateDocs();
  ASSERT_TRUE(db_->Insert("", "docs", testing::TestRows(schema_, 0, 10)).ok());
  ASSERT_OK(db_->Flush("", "docs"));
  std::string file = db_->CurrentManifest().collections[0].segments[0].file;
  db_.reset();
  std::string path = JoinPath(dir_.Sub("files"), file);
  std::string data;
  ASSERT_OK(Env::Default()->ReadFileToString(path, &data));
  data[200] ^= 1;  // inside the "title" block (the key column ends at 144)
  ASSERT_OK(Env::Default()->WriteFileAtomic(path, data));
  // Columns are decoded on first use (engine/lazy_segment.h): open succeeds,
  // reading the damaged column fails naming the file.
  ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  auto r = db_->Get("", "docs", Keys(3, 1));
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr(file));
  EXPECT_THAT(r.status().message(), HasSubstr("'title'"));
  data[100] ^= 1;  // inside the key column: found at open, as before
  ASSERT_OK(Env::Default()->WriteFileAtomic(path, data));
  db_.reset();
  auto reopened = Database::Open(Env::Default(), dir_.path(), options_);
  ASSERT_TRUE(reopened.status().IsCorruption());
  EXPECT_THAT(reopened.status().message(), HasSubstr(file));
}

TEST_F(DatabaseTest, VarCharPrimaryKeys) {
  CollectionSchema s;
  s.fields.push_back({"pk", DataType::kVarChar, true, 16, 0, ""});
  s.fields.push_back({"v", DataType::kFloatVector, false, 0, 2, ""});
  ASSERT_TRUE(db_->CreateCollection("", "names", s).ok());
  auto rows = RowBatchFromJson(s, "names", nlohmann::json::parse(R"([{"pk":"a","v":[1,2]},{"pk":"b","v":[3,4]}])"),
                               WriteKind::kInsert);
  ASSERT_TRUE(rows.ok());
  ASSERT_TRUE(db_->Insert("", "names", *rows).ok());
  ASSERT_OK(db_->Flush("", "names"));
  ASSERT_TRUE(db_->Delete("", "names", {std::string("a")}).ok());
  EXPECT_TRUE(db_->Delete("", "names", {int64_t{1}}).status().Is(StatusCode::kInvalidArgument));
  Reopen();
  ASSERT_OK_AND_ASSIGN(RowBatch got, db_->Get("", "names", {std::string("a"), std::string("b")}));
  ASSERT_EQ(got.num_rows, 1u);
  EXPECT_EQ(got.columns[0].strings[0], "b");
}

}  // namespace
}  // namespace ark
