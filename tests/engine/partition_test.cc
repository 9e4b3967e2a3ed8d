// Partitions: rows carry their partition in "$partition"; reads can be
// restricted to partitions; create/drop are durable (WAL and manifest) and a
// drop deletes the partition's rows, also across a seal and a reopen.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "engine/database.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class PartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    options_.index_build_threads = 0;
    Reopen();
    schema_ = testing::TestSchema();
    schema_.partition_column = true;
    ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  }
  void Reopen() {
    db_.reset();
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  }
  // Keys visible in the snapshot restricted to `parts` (all when empty).
  std::set<int64_t> Keys(const std::vector<std::string>& parts) {
    auto snap = db_->GetSnapshot("", "docs");
    EXPECT_OK(snap.status());
    auto scoped = (*snap)->Restrict(parts);
    EXPECT_OK(scoped.status());
    QueryRequest q;
    auto rows = (*scoped)->Query(q);
    EXPECT_OK(rows.status());
    std::set<int64_t> out(rows->columns[0].ints.begin(), rows->columns[0].ints.end());
    auto n = (*scoped)->Count("", nullptr);
    EXPECT_OK(n.status());
    EXPECT_EQ(*n, out.size());
    return out;
  }
  static std::set<int64_t> Range(int64_t first, int64_t n) {
    std::set<int64_t> s;
    for (int64_t i = first; i < first + n; ++i) s.insert(i);
    return s;
  }
  testing::TempDir dir_;
  DatabaseOptions options_;
  std::unique_ptr<Database> db_;
  CollectionSchema schema_;
};

TEST_F(PartitionTest, CreateListDropAndTheirErrors) {
  EXPECT_THAT(*db_->ListPartitions("", "docs"), ElementsAre("_default"));
  ASSERT_OK(db_->CreatePartition("", "docs", "jan").status());
  ASSERT_OK(db_->CreatePartition("", "docs", "feb").status());
  EXPECT_THAT(*db_->ListPartitions("", "docs"), ElementsAre("_default", "feb", "jan"));
  EXPECT_TRUE(db_->CreatePartition("", "docs", "jan").status().Is(StatusCode::kAlreadyExists));
  EXPECT_TRUE(db_->CreatePartition("", "docs", "_default").status().Is(StatusCode::kAlreadyExists));
  EXPECT_TRUE(db_->CreatePartition("", "docs", "../x").status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(db_->CreatePartition("", "docs", "").status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(db_->CreatePartition("", "nope", "x").status().IsNotFound());
  auto dflt = db_->DropPartition("", "docs", "_default");
  EXPECT_TRUE(dflt.status().Is(StatusCode::kFailedPrecondition));
  auto missing = db_->DropPartition("", "docs", "mar");
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_THAT(missing.status().message(), HasSubstr("partition not found[partition=mar]"));
  ASSERT_OK(db_->DropPartition("", "docs", "feb").status());
  EXPECT_THAT(*db_->ListPartitions("", "docs"), ElementsAre("_default", "jan"));

  // A collection without the partition column has only _default.
  ASSERT_OK(db_->CreateCollection("", "plain", testing::TestSchema()).status());
  auto plain = db_->CreatePartition("", "plain", "jan");
  EXPECT_TRUE(plain.status().Is(StatusCode::kFailedPrecondition));
  EXPECT_THAT(plain.status().message(), HasSubstr("partition column"));
  ASSERT_OK(db_->Insert("", "plain", testing::TestRows(testing::TestSchema(), 1, 3), "_default").status());
  EXPECT_TRUE(db_->Insert("", "plain", testing::TestRows(testing::TestSchema(), 9, 1), "jan").status().IsNotFound());
}

TEST_F(PartitionTest, RowsGoToTheirPartitionAndReadsCanBeRestricted) {
  ASSERT_OK(db_->CreatePartition("", "docs", "jan").status());
  ASSERT_OK(db_->CreatePartition("", "docs", "feb").status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 0, 10)).status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 100, 5), "jan").status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 200, 7), "feb").status());
  auto unknown = db_->Insert("", "docs", testing::TestRows(schema_, 300, 1), "mar");
  EXPECT_TRUE(unknown.status().IsNotFound());
  EXPECT_THAT(unknown.status().message(), HasSubstr("partition not found[partition=mar]"));

  EXPECT_EQ(Keys({"_default"}), Range(0, 10));
  EXPECT_EQ(Keys({"jan"}), Range(100, 5));
  EXPECT_EQ(Keys({"feb"}), Range(200, 7));
  auto both = Range(100, 5);
  both.merge(Range(200, 7));
  EXPECT_EQ(Keys({"feb", "jan"}), both);
  EXPECT_EQ(Keys({}).size(), 22u);

  auto snap = *db_->GetSnapshot("", "docs");
  EXPECT_TRUE(snap->Restrict({"mar"}).status().IsNotFound());
  auto jan = *snap->Restrict({"jan"});
  // Get of keys in and out of the partition.
  RowBatch got = *jan->Get({PrimaryKey{int64_t{101}}, PrimaryKey{int64_t{1}}, PrimaryKey{int64_t{201}}});
  ASSERT_EQ(got.num_rows, 1u);
  EXPECT_EQ(got.columns[0].ints[0], 101);
  // Search sees only the partition; with a filter too.
  SearchRequest s;
  s.vectors = {200, 200.25f, 200.5f, 200.75f};  // nearest to key 200 overall
  s.num_queries = 1;
  s.limit = 3;
  s.metric = Metric::kL2;
  auto hits = jan->Search(s);
  ASSERT_OK(hits.status());
  ASSERT_EQ(hits->queries[0].rows.num_rows, 3u);
  for (size_t i = 0; i < 3; ++i) {
    int64_t k = hits->queries[0].rows.columns[0].ints[i];
    EXPECT_TRUE(k >= 100 && k < 105) << k;
  }
  s.filter = "id > 102";
  hits = jan->Search(s);
  ASSERT_OK(hits.status());
  EXPECT_EQ(hits->queries[0].rows.num_rows, 2u);
  // Delete by filter limited to a partition.
  auto del = db_->DeleteByFilter("", "docs", "id >= 0", nullptr, {"feb"});
  ASSERT_OK(del.status());
  EXPECT_EQ(del->count, 7u);
  EXPECT_EQ(Keys({}).size(), 15u);
  // The filter language sees the column as "$partition" (0 = _default).
  EXPECT_EQ(*snap->Count("$partition == 0", nullptr), 10u);
}

TEST_F(PartitionTest, UpsertMovesARowToThePartitionWritten) {
  ASSERT_OK(db_->CreatePartition("", "docs", "jan").status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 0, 4)).status());
  ASSERT_OK(db_->Upsert("", "docs", testing::TestRows(schema_, 2, 1, 1), "jan").status());
  EXPECT_EQ(Keys({"_default"}), (std::set<int64_t>{0, 1, 3}));
  EXPECT_EQ(Keys({"jan"}), (std::set<int64_t>{2}));
}

// Drop deletes the partition's rows in sealed segments and the growing one;
// the result is the same from the WAL, from the manifest, and after compaction.
TEST_F(PartitionTest, DropDeletesItsRowsDurably) {
  ASSERT_OK(db_->CreatePartition("", "docs", "jan").status());
  ASSERT_OK(db_->CreatePartition("", "docs", "feb").status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 0, 5), "jan").status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 10, 5), "feb").status());
  ASSERT_OK(db_->Flush("", "docs"));  // sealed: jan 0-4, feb 10-14
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 5, 5), "jan").status());
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 20, 3)).status());
  ASSERT_OK(db_->DropPartition("", "docs", "jan").status());
  auto expect = [&] {
    EXPECT_THAT(*db_->ListPartitions("", "docs"), ElementsAre("_default", "feb"));
    EXPECT_EQ(Keys({"feb"}), Range(10, 5));
    EXPECT_EQ(Keys({"_default"}), Range(20, 3));
    EXPECT_EQ(Keys({}).size(), 8u);
  };
  expect();
  Reopen();  // the drop replayed from the WAL
  expect();
  ASSERT_OK(db_->Flush("", "docs"));
  Reopen();  // from the manifest (tombstones, partition list)
  expect();
  // A partition created again gets a new id: old rows do not come back.
  ASSERT_OK(db_->CreatePartition("", "docs", "jan").status());
  EXPECT_TRUE(Keys({"jan"}).empty());
  ASSERT_OK(db_->Compact("", "docs").status());
  Reopen();
  EXPECT_TRUE(Keys({"jan"}).empty());
  EXPECT_EQ(Keys({"feb"}), Range(10, 5));
  EXPECT_EQ(Keys({}).size(), 8u);
}

}  // namespace
}  // namespace ark
