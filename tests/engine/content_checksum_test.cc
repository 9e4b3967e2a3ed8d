// ContentChecksum: equal for the same rows however they are laid out
// (growing vs sealed, one vs many segments, after compaction, after a
// reopen, written in another order), different for any changed value,
// deleted row or other partition.
#include <gtest/gtest.h>

#include "engine/content_checksum.h"
#include "engine/database.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

class ContentChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    options_.index_build_threads = 0;
    ASSERT_OK_AND_ASSIGN(a_, Database::Open(Env::Default(), dir_a_.path(), options_));
    ASSERT_OK_AND_ASSIGN(b_, Database::Open(Env::Default(), dir_b_.path(), options_));
    schema_ = testing::TestSchema(4, false, /*dynamic=*/true);
    schema_.partition_column = true;
    ASSERT_OK(a_->CreateCollection("", "docs", schema_).status());
    ASSERT_OK(b_->CreateCollection("", "docs", schema_).status());
  }
  static ContentChecksum Of(Database* db) {
    auto snap = db->GetSnapshot("", "docs");
    EXPECT_OK(snap.status());
    return ComputeContentChecksum(**snap);
  }
  testing::TempDir dir_a_, dir_b_;
  DatabaseOptions options_;
  std::unique_ptr<Database> a_, b_;
  CollectionSchema schema_;
};

TEST_F(ContentChecksumTest, SameRowsInAnyLayoutAndOrderGiveOneChecksum) {
  const ContentChecksum empty = Of(a_.get());
  EXPECT_EQ(empty.rows, 0u);
  EXPECT_EQ(empty.checksum.rfind("v1:", 0), 0u);
  EXPECT_EQ(empty.checksum.size(), 3u + 32u);

  // a: one write, sealed into one segment.
  ASSERT_OK(a_->Insert("", "docs", testing::TestRows(schema_, 0, 300)).status());
  ASSERT_OK(a_->Flush("", "docs"));
  // b: three writes in reverse order, the first two sealed separately, one growing.
  ASSERT_OK(b_->Insert("", "docs", testing::TestRows(schema_, 200, 100)).status());
  ASSERT_OK(b_->Flush("", "docs"));
  ASSERT_OK(b_->Insert("", "docs", testing::TestRows(schema_, 100, 100)).status());
  ASSERT_OK(b_->Flush("", "docs"));
  ASSERT_OK(b_->Insert("", "docs", testing::TestRows(schema_, 0, 100)).status());

  const ContentChecksum ca = Of(a_.get());
  const ContentChecksum cb = Of(b_.get());
  EXPECT_EQ(ca.rows, 300u);
  EXPECT_EQ(cb.rows, 300u);
  EXPECT_EQ(ca.checksum, cb.checksum);
  EXPECT_NE(ca.checksum, empty.checksum);

  // Compaction and a reopen move rows between files, not the checksum.
  ASSERT_OK(b_->Flush("", "docs"));
  ASSERT_OK(b_->Compact("", "docs").status());
  b_.reset();
  ASSERT_OK_AND_ASSIGN(b_, Database::Open(Env::Default(), dir_b_.path(), options_));
  EXPECT_EQ(Of(b_.get()).checksum, ca.checksum);
}

TEST_F(ContentChecksumTest, AnyChangedValueDeletedRowOrPartitionChangesIt) {
  ASSERT_OK(a_->Insert("", "docs", testing::TestRows(schema_, 0, 50)).status());
  ASSERT_OK(b_->Insert("", "docs", testing::TestRows(schema_, 0, 50)).status());
  const std::string same = Of(a_.get()).checksum;
  ASSERT_EQ(Of(b_.get()).checksum, same);

  // One vector component of one row.
  RowBatch changed = testing::TestRows(schema_, 7, 1);
  changed.columns[4].floats[2] += 1e-3f;
  ASSERT_OK(b_->Upsert("", "docs", changed).status());
  EXPECT_NE(Of(b_.get()).checksum, same);
  ASSERT_OK(b_->Upsert("", "docs", testing::TestRows(schema_, 7, 1)).status());
  EXPECT_EQ(Of(b_.get()).checksum, same) << "writing the original value back restores the checksum";

  // A dynamic field's value.
  RowBatch meta = testing::TestRows(schema_, 9, 1);
  meta.columns[5].strings[0] = R"({"lang":"en"})";
  ASSERT_OK(b_->Upsert("", "docs", meta).status());
  EXPECT_NE(Of(b_.get()).checksum, same);
  ASSERT_OK(b_->Upsert("", "docs", testing::TestRows(schema_, 9, 1)).status());
  ASSERT_EQ(Of(b_.get()).checksum, same);

  // A deleted row.
  ASSERT_OK(b_->Delete("", "docs", {PrimaryKey{int64_t{3}}}).status());
  ContentChecksum after_delete = Of(b_.get());
  EXPECT_EQ(after_delete.rows, 49u);
  EXPECT_NE(after_delete.checksum, same);
  ASSERT_OK(b_->Insert("", "docs", testing::TestRows(schema_, 3, 1)).status());
  ASSERT_EQ(Of(b_.get()).checksum, same);

  // The same row in another partition.
  ASSERT_OK(b_->CreatePartition("", "docs", "jan").status());
  ASSERT_OK(b_->Upsert("", "docs", testing::TestRows(schema_, 5, 1), "jan").status());
  EXPECT_NE(Of(b_.get()).checksum, same);
}

// Sealed segments' sums are cached; deletes in a sealed segment after the
// first checksum, and snapshots older than a delete, must still be exact.
TEST_F(ContentChecksumTest, CachedSealedSumsStayExactAcrossDeletesAndOlderSnapshots) {
  ASSERT_OK(a_->Insert("", "docs", testing::TestRows(schema_, 0, 200)).status());
  ASSERT_OK(a_->Flush("", "docs"));
  ASSERT_OK(b_->Insert("", "docs", testing::TestRows(schema_, 0, 200)).status());
  const std::string full = Of(a_.get()).checksum;  // fills the cache for a's segment
  ASSERT_EQ(Of(b_.get()).checksum, full);
  auto before_delete = a_->GetSnapshot("", "docs");
  ASSERT_OK(before_delete.status());

  // Delete two sealed rows and upsert a third (its old version is deleted in the segment).
  ASSERT_OK(a_->Delete("", "docs", {PrimaryKey{int64_t{10}}, PrimaryKey{int64_t{150}}}).status());
  ASSERT_OK(a_->Upsert("", "docs", testing::TestRows(schema_, 20, 1, /*version=*/3)).status());
  ASSERT_OK(b_->Delete("", "docs", {PrimaryKey{int64_t{10}}, PrimaryKey{int64_t{150}}}).status());
  ASSERT_OK(b_->Upsert("", "docs", testing::TestRows(schema_, 20, 1, /*version=*/3)).status());
  const ContentChecksum after = Of(a_.get());
  EXPECT_EQ(after.rows, 198u);
  EXPECT_NE(after.checksum, full);
  EXPECT_EQ(after.checksum, Of(b_.get()).checksum) << "b's rows were never sealed: hashed row by row";
  // The snapshot taken before the delete still sees the old rows.
  EXPECT_EQ(ComputeContentChecksum(**before_delete).checksum, full);

  // A snapshot restricted to partitions hashes what it shows.
  auto scoped = (*before_delete)->Restrict({"_default"});
  ASSERT_OK(scoped.status());
  EXPECT_EQ(ComputeContentChecksum(**scoped).checksum, full);
}

TEST_F(ContentChecksumTest, TheSchemaEntersTheChecksum) {
  CollectionSchema renamed = schema_;
  renamed.fields[1].name = "heading";
  ASSERT_OK(a_->CreateCollection("", "other", renamed).status());
  ASSERT_OK(a_->Insert("", "docs", testing::TestRows(schema_, 0, 10)).status());
  ASSERT_OK(a_->Insert("", "other", testing::TestRows(renamed, 0, 10)).status());
  auto docs = a_->GetSnapshot("", "docs");
  auto other = a_->GetSnapshot("", "other");
  ASSERT_OK(docs.status());
  ASSERT_OK(other.status());
  EXPECT_NE(ComputeContentChecksum(**docs).checksum, ComputeContentChecksum(**other).checksum);
}

}  // namespace
}  // namespace ark
