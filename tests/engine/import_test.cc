// Restore into a running server, the engine part: Database::ImportCollections
// and the FileChange "import" record — its codec, its apply on the primary,
// replay after a restart, a follower fed the record, and refusals that
// leave nothing behind.
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

// CollectionSnapshot::Get answers a RowBatch or (with lazily read columns) a
// Result of one: the rows either way.
[[maybe_unused]] const RowBatch& RowsOf(const RowBatch& rows) { return rows; }
[[maybe_unused]] const RowBatch& RowsOf(const Result<RowBatch>& rows) { return *rows; }

std::string Dump(Database* db, const std::string& database, const std::string& name) {
  auto snap = db->GetSnapshot(database, name);
  if (!snap.ok()) return snap.status().ToString();
  auto keys = (*snap)->MatchingKeys("", nullptr);
  if (!keys.ok()) return keys.status().ToString();
  std::vector<PrimaryKey> sorted = *keys;
  std::sort(sorted.begin(), sorted.end());
  auto got = (*snap)->Get(sorted);
  const RowBatch& rows = RowsOf(got);
  std::string out = std::to_string(sorted.size()) + " rows\n";
  for (size_t r = 0; r < rows.num_rows; ++r) out += RowToJson((*snap)->schema(), rows, r).dump() + "\n";
  return out;
}

std::set<std::string> FilesOnDisk(Database* db) {
  auto names = Env::Default()->ListDir(db->FilesDir());
  std::set<std::string> out;
  if (names.ok()) {
    for (const auto& n : *names) out.insert(n);
  }
  return out;
}

const ManifestCollection* Find(const Manifest& m, const std::string& name) {
  for (const auto& c : m.collections) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    options_.index_build_threads = 0;
    schema_ = testing::TestSchema(kDim);
    // The source: many small writes, so its lsns run far ahead of the target's.
    ASSERT_OK_AND_ASSIGN(source_, Database::Open(Env::Default(), source_dir_.path(), options_));
    ASSERT_OK(source_->CreateCollection("", "docs", schema_).status());
    ASSERT_OK(source_->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 32}})
                  .status());
    for (int i = 0; i < 60; ++i) ASSERT_OK(source_->Insert("", "docs", Rows(schema_, i * 5, 5)).status());
    ASSERT_OK(source_->Flush("", "docs"));
    for (int i = 60; i < 100; ++i) ASSERT_OK(source_->Insert("", "docs", Rows(schema_, i * 5, 5)).status());
    ASSERT_OK(source_->Flush("", "docs"));
    ASSERT_OK(source_->AlterCollectionProperties("", "docs", {{"collection.ttl.seconds", "0"}}, {}).status());
    while (source_->RunIndexBuild()) {
    }
    // The target: a live database with a collection of its own.
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
    ASSERT_OK(db_->Pin("test-history", {}, Position{1, 1}, 0));
    ASSERT_OK(db_->CreateCollection("", "other", schema_).status());
    ASSERT_OK(db_->Insert("", "other", Rows(schema_, 0, 10)).status());
  }

  // The source's collection, renamed for the target.
  ManifestCollection Entry(const std::string& name) {
    const Manifest m = source_->CurrentManifest();
    ManifestCollection c = *Find(m, "docs");
    c.name = name;
    return c;
  }

  testing::TempDir source_dir_, dir_;
  DatabaseOptions options_;
  CollectionSchema schema_;
  std::unique_ptr<Database> source_, db_;
};

TEST_F(ImportTest, RecordCodecRoundTripsAndListsEveryFile) {
  FileChange change;
  change.kind = FileChangeKind::kImport;
  change.imported = Entry("docs_copy");
  ASSERT_EQ(change.imported.segments.size(), 2u);
  const std::string body = EncodeFileChange(change);
  ASSERT_OK_AND_ASSIGN(FileChange back, DecodeFileChange(body, Position{1, 9}));
  EXPECT_EQ(back.kind, FileChangeKind::kImport);
  EXPECT_EQ(back.imported, change.imported);
  // `added`: every segment and index file, so a standby or the archiver
  // follows without knowing the kind.
  std::set<std::string> want;
  for (const auto& s : change.imported.segments) {
    want.insert(s.file);
    ASSERT_EQ(s.index_files.at("embedding").size(), 1u);
    want.insert(s.index_files.at("embedding").front());
  }
  std::vector<std::string> added = back.Added();
  EXPECT_EQ(std::set<std::string>(added.begin(), added.end()), want);
  EXPECT_TRUE(back.Removed().empty());
  // A body whose `added` disagrees, or that names tombstone files, is refused.
  auto j = nlohmann::json::parse(body);
  j["added"].erase(0);
  EXPECT_THAT(DecodeFileChange(j.dump(), Position{1, 9}).status().message(), ::testing::HasSubstr("disagree"));
  FileChange with_tombstone = change;
  with_tombstone.imported.tombstone_files = {change.imported.segments[0].file};
  EXPECT_THAT(DecodeFileChange(EncodeFileChange(with_tombstone), Position{1, 9}).status().message(),
              ::testing::HasSubstr("tombstone"));
}

TEST_F(ImportTest, ImportedCollectionHasEveryRowAndTheSameIndexFilesAndSurvivesRestart) {
  const std::string want = Dump(source_.get(), "", "docs");
  ASSERT_GT(db_->wal()->LastPosition().lsn + 20, 0u);
  ASSERT_LT(db_->wal()->LastPosition().lsn, Find(source_->CurrentManifest(), "docs")->segments.back().max_lsn)
      << "the test needs the source's lsns ahead of the target's";
  ASSERT_OK_AND_ASSIGN(auto positions, db_->ImportCollections({Entry("docs_r")}, source_->FilesDir()));
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(Dump(db_.get(), "", "docs_r"), want);
  ASSERT_OK_AND_ASSIGN(CollectionInfo info, db_->DescribeCollection("", "docs_r"));
  EXPECT_EQ(info.live_rows, 500u);
  EXPECT_EQ(info.properties.at("collection.ttl.seconds"), "0");
  EXPECT_EQ(info.created, positions[0]);
  // The index files are the source's, by hash; nothing is waiting to be built.
  const Manifest m = db_->CurrentManifest();
  const ManifestCollection* imported = Find(m, "docs_r");
  ASSERT_NE(imported, nullptr);
  const Manifest source_manifest = source_->CurrentManifest();
  const ManifestCollection* source = Find(source_manifest, "docs");
  ASSERT_EQ(imported->segments.size(), source->segments.size());
  for (size_t i = 0; i < imported->segments.size(); ++i) {
    EXPECT_EQ(imported->segments[i].file, source->segments[i].file);
    EXPECT_EQ(imported->segments[i].index_files, source->segments[i].index_files);
    EXPECT_EQ(imported->segments[i].row_lsn, positions[0].lsn);
  }
  ASSERT_OK_AND_ASSIGN(auto indexes, db_->ListIndexes("", "docs_r"));
  ASSERT_EQ(indexes.size(), 1u);
  EXPECT_EQ(indexes[0].indexed_rows, 500u);
  EXPECT_EQ(indexes[0].pending_rows, 0u);
  EXPECT_FALSE(db_->RunIndexBuild()) << "an imported index must not be rebuilt";
  // Writes after the import order after its rows.
  ASSERT_OK(db_->Delete("", "docs_r", {PrimaryKey(int64_t{7})}).status());
  ASSERT_OK(db_->Upsert("", "docs_r", Rows(schema_, 8, 1, /*version=*/3)).status());
  ASSERT_OK(db_->Insert("", "docs_r", Rows(schema_, 1000, 2)).status());
  const std::string after_writes = Dump(db_.get(), "", "docs_r");
  EXPECT_THAT(after_writes, ::testing::StartsWith("501 rows\n"));
  EXPECT_THAT(after_writes, ::testing::Not(::testing::HasSubstr("\"t7v0\"")));
  EXPECT_THAT(after_writes, ::testing::HasSubstr("\"t8v3\""));
  // Restart: once from the manifest (which lists the import), once
  // replaying the import record itself from the WAL.
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  EXPECT_EQ(Dump(db_.get(), "", "docs_r"), after_writes);
  ASSERT_OK(db_->Flush("", "docs_r"));  // the deletes of imported rows go to a tombstone file
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  EXPECT_EQ(Dump(db_.get(), "", "docs_r"), after_writes);
}

TEST_F(ImportTest, ReplayingTheRecordWithoutItsManifestGivesTheSameCollection) {
  std::string current_name;
  ASSERT_OK_AND_ASSIGN(Manifest before, LoadCurrentManifest(Env::Default(), dir_.path(), &current_name));
  ASSERT_OK(db_->ImportCollections({Entry("docs_r")}, source_->FilesDir()).status());
  const std::string want = Dump(db_.get(), "", "docs_r");
  const Manifest imported = db_->CurrentManifest();
  db_.reset();
  // A crash after the record was durable, before its manifest commit.
  ASSERT_OK(CommitManifest(Env::Default(), dir_.path(), before));
  ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  EXPECT_EQ(Dump(db_.get(), "", "docs_r"), want);
  EXPECT_EQ(Find(db_->CurrentManifest(), "docs_r")->segments, Find(imported, "docs_r")->segments);
}

TEST_F(ImportTest, AFollowerFedTheRecordFetchesTheFilesByHash) {
  testing::TempDir follower_dir;
  DatabaseOptions fo = options_;
  fo.follower = true;
  int fetched = 0;
  fo.fetch_file = [&](const std::string& hex) -> Result<std::string> {
    ++fetched;
    ARK_ASSIGN_OR_RETURN(auto file, db_->OpenFileByHash(hex));
    ARK_ASSIGN_OR_RETURN(uint64_t size, file->Size());
    std::string content(size, '\0');
    std::string_view got;
    ARK_RETURN_IF_ERROR(file->Read(0, content.size(), &got, content.data()));
    return std::string(got);
  };
  ASSERT_OK_AND_ASSIGN(auto follower, Database::Open(Env::Default(), follower_dir.path(), fo));
  ASSERT_OK(db_->ImportCollections({Entry("docs_r")}, source_->FilesDir()).status());
  Position last = follower->wal()->LastPosition();
  ASSERT_OK(db_->wal()->Replay(Position{0, 0}, [&](const WalRecord& r) -> Status {
    if (r.position <= last) return Status::OK();
    return follower->AppendReplicated(r).status();
  }));
  EXPECT_EQ(Dump(follower.get(), "", "docs_r"), Dump(db_.get(), "", "docs_r"));
  EXPECT_EQ(fetched, 4);  // two segments, two index files
  EXPECT_EQ(Find(follower->CurrentManifest(), "docs_r")->segments, Find(db_->CurrentManifest(), "docs_r")->segments);
}

TEST_F(ImportTest, AClashIsRefusedNamingTheCollectionAndChangesNothing) {
  const Manifest before = db_->CurrentManifest();
  const std::set<std::string> files = FilesOnDisk(db_.get());
  const Position last = db_->wal()->LastPosition();
  auto r = db_->ImportCollections({Entry("fresh"), Entry("other")}, source_->FilesDir());
  ASSERT_EQ(r.status().code(), StatusCode::kAlreadyExists) << r.status().ToString();
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("'other'"));
  EXPECT_EQ(db_->wal()->LastPosition(), last);
  EXPECT_EQ(FilesOnDisk(db_.get()), files);
  EXPECT_EQ(db_->ListCollections("").size(), 1u);
  EXPECT_EQ(db_->CurrentManifest().collections, before.collections);
  EXPECT_EQ(db_->CheckImportTargets({{"default", "other"}}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(db_->CheckImportTargets({{"nodb", "x"}}).code(), StatusCode::kNotFound);
  // Tombstone files are refused too (the caller compacts first).
  ManifestCollection with_tombstone = Entry("t");
  with_tombstone.tombstone_files = {with_tombstone.segments[0].file};
  EXPECT_EQ(db_->ImportCollections({with_tombstone}, source_->FilesDir()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ImportTest, ACancelledOrFailedImportLeavesNoCollectionAndItsFilesAreCollected) {
  const std::set<std::string> files = FilesOnDisk(db_.get());
  std::atomic<bool> cancelled{true};
  auto r = db_->ImportCollections({Entry("docs_r")}, source_->FilesDir(), &cancelled);
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  // A damaged source file: linked, then found bad before anything is logged.
  ManifestCollection bad = Entry("docs_bad");
  testing::TempDir broken;
  for (const auto& s : bad.segments) {
    ASSERT_OK(Env::Default()->WriteFileAtomic(JoinPath(broken.path(), s.file), "not a segment"));
    for (const auto& [f, idx] : s.index_files) {
      for (const auto& i : idx) {
        std::string content;
        ASSERT_OK(Env::Default()->ReadFileToString(JoinPath(source_->FilesDir(), i), &content));
        ASSERT_OK(Env::Default()->WriteFileAtomic(JoinPath(broken.path(), i), content));
      }
    }
  }
  const Position last = db_->wal()->LastPosition();
  r = db_->ImportCollections({bad}, broken.path());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(db_->wal()->LastPosition(), last);
  EXPECT_EQ(db_->ListCollections("").size(), 1u);
  // The next manifest commit sweeps what was linked in.
  ASSERT_OK(db_->Flush("", "other"));
  std::set<std::string> now = FilesOnDisk(db_.get());
  const Manifest m = db_->CurrentManifest();
  for (const auto& f : Find(m, "other")->segments) now.erase(f.file);
  EXPECT_EQ(now, files);
  ASSERT_OK(db_->Health());
}

}  // namespace
}  // namespace ark
