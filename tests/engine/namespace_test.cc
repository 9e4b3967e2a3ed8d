// Databases and aliases: Milvus semantics, durable through the WAL and the
// manifest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/database.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class NamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    Reopen();
    schema_ = testing::TestSchema();
  }
  void Reopen() {
    db_.reset();
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  }
  testing::TempDir dir_;
  DatabaseOptions options_;
  std::unique_ptr<Database> db_;
  CollectionSchema schema_;
};

TEST_F(NamespaceTest, DatabasesMustExistAndCannotBeDroppedWhileUsed) {
  EXPECT_THAT(db_->ListDatabases(), ElementsAre("default"));
  auto missing = db_->CreateCollection("sales", "docs", schema_);
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_THAT(missing.status().message(), HasSubstr("database 'sales' not found"));
  ASSERT_OK(db_->CreateDatabase("sales").status());
  EXPECT_TRUE(db_->CreateDatabase("sales").status().Is(StatusCode::kAlreadyExists));
  EXPECT_TRUE(db_->CreateDatabase("default").status().Is(StatusCode::kAlreadyExists));
  EXPECT_TRUE(db_->CreateDatabase("../x").status().Is(StatusCode::kInvalidArgument));
  ASSERT_OK(db_->CreateCollection("sales", "docs", schema_).status());
  EXPECT_THAT(db_->ListDatabases(), ElementsAre("default", "sales"));
  auto busy = db_->DropDatabase("sales");
  EXPECT_TRUE(busy.status().Is(StatusCode::kFailedPrecondition));
  EXPECT_THAT(busy.status().message(), HasSubstr("docs"));
  EXPECT_TRUE(db_->DropDatabase("default").status().Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(db_->DropDatabase("nope").status().IsNotFound());
  Reopen();  // from the WAL
  EXPECT_THAT(db_->ListDatabases(), ElementsAre("default", "sales"));
  ASSERT_OK(db_->DropCollection("sales", "docs").status());
  ASSERT_OK(db_->CreateDatabase("archive").status());
  ASSERT_OK(db_->StartEpoch(db_->CurrentEpoch() + 1).status());  // commits a manifest
  ASSERT_OK(db_->DropDatabase("sales").status());
  Reopen();  // manifest + WAL
  EXPECT_THAT(db_->ListDatabases(), ElementsAre("archive", "default"));
  EXPECT_FALSE(db_->HasDatabase("sales"));
  EXPECT_TRUE(db_->HasDatabase(""));
}

TEST_F(NamespaceTest, AliasesResolveEverywhereButDropAndSurviveRestart) {
  ASSERT_OK(db_->CreateCollection("", "docs_v1", schema_).status());
  ASSERT_OK(db_->CreateCollection("", "docs_v2", schema_).status());
  ASSERT_OK(db_->Insert("", "docs_v1", testing::TestRows(schema_, 1, 3)).status());
  ASSERT_OK(db_->Insert("", "docs_v2", testing::TestRows(schema_, 1, 5)).status());
  ASSERT_OK(db_->CreateAlias("", "docs", "docs_v1", false).status());
  EXPECT_TRUE(db_->CreateAlias("", "docs", "docs_v2", false).status().Is(StatusCode::kAlreadyExists));
  EXPECT_TRUE(db_->CreateAlias("", "docs_v2", "docs_v1", false).status().Is(StatusCode::kAlreadyExists));
  EXPECT_TRUE(db_->CreateAlias("", "x", "nope", false).status().IsNotFound());
  EXPECT_TRUE(db_->CreateAlias("", "other", "docs_v1", true).status().IsNotFound());  // alter needs an alias
  EXPECT_TRUE(db_->CreateCollection("", "docs", schema_).status().Is(StatusCode::kAlreadyExists));
  EXPECT_EQ(*db_->DescribeAlias("", "docs"), "docs_v1");
  EXPECT_EQ((*db_->GetSnapshot("", "docs"))->CountRows(), 3u);
  ASSERT_OK(db_->Insert("", "docs", testing::TestRows(schema_, 10, 1)).status());  // writes through the alias
  EXPECT_EQ((*db_->GetSnapshot("", "docs_v1"))->CountRows(), 4u);
  auto drop = db_->DropCollection("", "docs");
  EXPECT_TRUE(drop.status().Is(StatusCode::kFailedPrecondition));
  EXPECT_THAT(drop.status().message(), HasSubstr("alias"));
  EXPECT_THAT(db_->DropCollection("", "docs_v1").status().message(), HasSubstr("still has alias 'docs'"));
  // Blue/green switch: alter the alias.
  ASSERT_OK(db_->CreateAlias("", "docs", "docs_v2", true).status());
  EXPECT_EQ((*db_->GetSnapshot("", "docs"))->CountRows(), 5u);
  EXPECT_THAT(*db_->ListAliases("", ""), ElementsAre("docs"));
  EXPECT_THAT(*db_->ListAliases("", "docs_v2"), ElementsAre("docs"));
  EXPECT_TRUE(db_->ListAliases("", "docs_v1")->empty());
  Reopen();
  EXPECT_EQ(*db_->DescribeAlias("", "docs"), "docs_v2");
  EXPECT_EQ((*db_->GetSnapshot("", "docs"))->CountRows(), 5u);
  ASSERT_OK(db_->DropAlias("", "docs").status());
  EXPECT_TRUE(db_->DropAlias("", "docs").status().IsNotFound());
  EXPECT_TRUE(db_->GetSnapshot("", "docs").status().IsNotFound());
  ASSERT_OK(db_->DropCollection("", "docs_v2").status());
  Reopen();
  EXPECT_TRUE(db_->DescribeAlias("", "docs").status().IsNotFound());
}

}  // namespace
}  // namespace ark
