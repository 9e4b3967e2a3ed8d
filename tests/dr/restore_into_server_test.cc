// Restore into a running server, the DR part (dr/backup/restore_into_server.h):
// a backup's collections come back into a live Database beside its own, a
// clash is refused before anything is downloaded, and a backup of a database
// that holds an imported collection restores like any other.
#include "dr/backup/restore_into_server.h"

#include <gtest/gtest.h>

#include <map>

#include "engine/database.h"
#include "engine/file_change.h"
#include "engine/engine_test_util.h"
#include "storage/object_store_test_util.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

using ark::testing::TempDir;
using ark::testing::TestRows;
using ark::testing::TestSchema;

constexpr uint32_t kDim = 8;

DatabaseOptions TestOptions() {
  DatabaseOptions o;
  o.auto_seal = false;
  o.index_build_threads = 0;
  return o;
}

std::map<int64_t, std::string> Dump(Database* db, const std::string& database, const std::string& name) {
  auto snap = db->GetSnapshot(database, name);
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  std::map<int64_t, std::string> out;
  if (!snap.ok()) return out;
  auto rows = (*snap)->Query(QueryRequest{});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok()) return out;
  for (size_t i = 0; i < rows->num_rows; ++i) {
    std::string repr = rows->columns[1].strings[i] + "|" + std::to_string(rows->columns[2].doubles[i]);
    for (uint32_t d = 0; d < kDim; ++d) repr += "|" + std::to_string(rows->columns[4].floats[i * kDim + d]);
    out[rows->columns[0].ints[i]] = repr;
  }
  return out;
}

BackupOptions Named(const std::string& name) {
  BackupOptions o;
  o.name = name;
  return o;
}
StateFilter Select(CollectionName n) {
  StateFilter f;
  f.select = {std::move(n)};
  return f;
}
StateFilter Suffix(const std::string& suffix) {
  StateFilter f;
  f.suffix = suffix;
  return f;
}

class RestoreIntoServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, ark::testing::OpenTestStore("local", "repo", &dir_));
    ASSERT_OK(Repository::Init(Env::Default(), store_.get(), {}, {}));
    ASSERT_OK_AND_ASSIGN(repo_, Repository::Open(Env::Default(), store_.get(), {}));
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.Sub("data"), TestOptions()));
    // docs: two indexed segments, deletes of sealed rows, a growing tail;
    // sales.orders: growing rows only.
    CollectionSchema s = TestSchema(kDim);
    ASSERT_OK(db_->CreateCollection("", "docs", s).status());
    ASSERT_OK(db_->CreateIndex("", "docs", "embedding", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 32}})
                  .status());
    ASSERT_OK(db_->Insert("", "docs", TestRows(s, 0, 600)).status());
    ASSERT_OK(db_->Flush("", "docs"));
    ASSERT_OK(db_->Insert("", "docs", TestRows(s, 600, 600)).status());
    ASSERT_OK(db_->Flush("", "docs"));
    while (db_->RunIndexBuild()) {
    }
    ASSERT_OK(db_->Delete("", "docs", {PrimaryKey(int64_t{3}), PrimaryKey(int64_t{700})}).status());
    ASSERT_OK(db_->Insert("", "docs", TestRows(s, 1200, 100)).status());
    ASSERT_OK(db_->Upsert("", "docs", TestRows(s, 10, 5, /*version=*/1)).status());
    ASSERT_OK(db_->CreateDatabase("sales").status());
    ASSERT_OK(db_->CreateCollection("sales", "orders", s).status());
    ASSERT_OK(db_->Insert("sales", "orders", TestRows(s, 0, 50)).status());
  }

  Result<LiveRestoreReport> RestoreLive(const std::string& name, StateFilter filter) {
    LiveRestoreOptions o;
    o.name = name;
    o.filter = std::move(filter);
    return RestoreIntoDatabase(Env::Default(), db_.get(), repo_.get(), o);
  }

  std::vector<std::string> StagingLeft() {
    std::vector<std::string> out;
    auto names = Env::Default()->ListDir(db_->dir());
    if (!names.ok()) return {names.status().ToString()};
    for (const auto& n : names.value()) {
      if (n.rfind("restore-staging-", 0) == 0) out.push_back(n);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<Database> db_;
};

TEST_F(RestoreIntoServerTest, CollectionsComeBackBesideTheLiveOnesAndABackupOfThemRestores) {
  const auto docs = Dump(db_.get(), "", "docs");
  const auto orders = Dump(db_.get(), "sales", "orders");
  ASSERT_EQ(docs.size(), 1298u);
  ASSERT_OK(CreateBackup(db_.get(), repo_.get(), Named("b1")).status());

  // A clash is refused before anything is downloaded, naming the collection.
  auto clash = RestoreLive("b1", Select({"sales", "orders"}));
  ASSERT_EQ(clash.status().code(), StatusCode::kAlreadyExists) << clash.status().ToString();
  EXPECT_NE(clash.status().message().find("'orders'"), std::string::npos) << clash.status().ToString();

  ASSERT_OK_AND_ASSIGN(LiveRestoreReport r, RestoreLive("b1", Suffix("_r")));
  ASSERT_EQ(r.collections.size(), 2u);
  EXPECT_EQ(Dump(db_.get(), "", "docs_r"), docs);
  EXPECT_EQ(Dump(db_.get(), "sales", "orders_r"), orders);
  EXPECT_EQ(Dump(db_.get(), "", "docs"), docs);  // the originals are untouched
  EXPECT_TRUE(StagingLeft().empty());
  // The indexes came along: nothing is waiting to be built.
  ASSERT_OK_AND_ASSIGN(auto indexes, db_->ListIndexes("", "docs_r"));
  ASSERT_EQ(indexes.size(), 1u);
  EXPECT_EQ(indexes[0].pending_rows, 0u);
  EXPECT_EQ(indexes[0].indexed_rows, indexes[0].total_rows);
  EXPECT_FALSE(db_->RunIndexBuild());

  // The live database takes writes to the imported collection; a backup of
  // it (its WAL tail holds the import record) restores into a new directory.
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->Insert("", "docs_r", TestRows(s, 5000, 3)).status());
  ASSERT_OK(db_->Delete("", "docs_r", {PrimaryKey(int64_t{20})}).status());
  const auto docs_r = Dump(db_.get(), "", "docs_r");
  ASSERT_OK(CreateBackup(db_.get(), repo_.get(), Named("b2")).status());
  {  // (orders' growing rows keep the checkpoint before the import: its record is in the tail)
    ASSERT_OK_AND_ASSIGN(BackupManifest bm, LoadBackup(repo_.get(), "b2"));
    ASSERT_OK_AND_ASSIGN(BackupState state, LoadBackupState(repo_.get(), bm));
    int imports = 0;
    for (const auto& rec : state.tail) {
      if (rec.op != kOpFileChange) continue;
      ASSERT_OK_AND_ASSIGN(FileChange change, DecodeFileChange(rec.body, rec.position));
      imports += change.kind == FileChangeKind::kImport;
    }
    EXPECT_EQ(imports, 2);
  }
  RestoreOptions ro;
  ro.name = "b2";
  ro.target_dir = dir_.Sub("copy");
  ro.filter.select = {{"default", "docs_r"}};
  ro.filter.suffix = "_x";
  ASSERT_OK(RestoreBackup(Env::Default(), repo_.get(), ro).status());
  ASSERT_OK_AND_ASSIGN(auto copy, Database::Open(Env::Default(), dir_.Sub("copy"), TestOptions()));
  EXPECT_EQ(Dump(copy.get(), "", "docs_r_x"), docs_r);

  // A restart keeps the imported collection.
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.Sub("data"), TestOptions()));
  EXPECT_EQ(Dump(db_.get(), "", "docs_r"), docs_r);
  EXPECT_EQ(Dump(db_.get(), "sales", "orders_r"), orders);
}

TEST_F(RestoreIntoServerTest, ACancelledRestoreLeavesNoCollectionAndNoStaging) {
  ASSERT_OK(CreateBackup(db_.get(), repo_.get(), Named("b1")).status());
  std::atomic<bool> cancelled{true};
  LiveRestoreOptions o;
  o.name = "b1";
  o.filter.suffix = "_c";
  auto r = RestoreIntoDatabase(Env::Default(), db_.get(), repo_.get(), o, nullptr, &cancelled);
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().ToString();
  EXPECT_FALSE(db_->DescribeCollection("", "docs_c").ok());
  EXPECT_FALSE(db_->DescribeCollection("sales", "orders_c").ok());
  EXPECT_TRUE(StagingLeft().empty());
  ASSERT_OK(db_->Health());
}

}  // namespace
}  // namespace ark::dr
