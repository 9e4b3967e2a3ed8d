// A collection's Milvus properties and load state: durable through the WAL
// and the manifest, carried to a follower, following a rename, gone with a
// drop; manifests written before version 5 still read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/coding.h"
#include "core/hash.h"
#include "engine/database.h"
#include "engine/manifest.h"
#include "engine/manifest_format.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Props = std::map<std::string, std::string>;

class CollectionStateTest : public ::testing::Test {
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
  // Commits a manifest without sealing anything.
  void CommitManifest() { ASSERT_OK(db_->StartEpoch(db_->CurrentEpoch() + 1).status()); }
  CollectionInfo Info(const std::string& database, const std::string& name) {
    auto info = db_->DescribeCollection(database, name);
    EXPECT_OK(info.status());
    return info.ok() ? *info : CollectionInfo{};
  }
  static CollectionLoadState Partly(std::set<std::string> partitions) {
    CollectionLoadState s;
    s.partitions = std::move(partitions);
    return s;
  }
  static CollectionLoadState Released() {
    CollectionLoadState s;
    s.released = true;
    return s;
  }
  testing::TempDir dir_;
  DatabaseOptions options_;
  std::unique_ptr<Database> db_;
  CollectionSchema schema_;
};

TEST_F(CollectionStateTest, PropertiesSurviveRestartFromTheWalAndTheManifest) {
  EXPECT_TRUE(Info("", "docs").properties.empty());
  ASSERT_OK(db_->AlterCollectionProperties("", "docs", {{"collection.ttl.seconds", "60"}, {"team", "a"}}, {})
                .status());
  ASSERT_OK(db_->AlterCollectionProperties("", "docs", {{"team", "b"}}, {"collection.ttl.seconds", "absent"})
                .status());
  EXPECT_EQ(Info("", "docs").properties, (Props{{"team", "b"}}));
  Reopen();  // from the WAL
  EXPECT_EQ(Info("", "docs").properties, (Props{{"team", "b"}}));
  CommitManifest();
  ASSERT_OK(db_->AlterCollectionProperties("", "docs", {{"owner", "x"}}, {}).status());
  Reopen();  // manifest + WAL
  EXPECT_EQ(Info("", "docs").properties, (Props{{"owner", "x"}, {"team", "b"}}));
  EXPECT_EQ(db_->CurrentManifest().collections.at(0).properties, (Props{{"team", "b"}}));
  CommitManifest();
  Reopen();  // manifest only
  EXPECT_EQ(Info("", "docs").properties, (Props{{"owner", "x"}, {"team", "b"}}));
}

TEST_F(CollectionStateTest, BadPropertiesAndUnknownCollectionsAreRefused) {
  auto missing = db_->AlterCollectionProperties("", "nope", {{"a", "b"}}, {});
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_THAT(missing.status().message(), HasSubstr("collection 'nope' not found in database 'default'"));
  EXPECT_TRUE(db_->AlterCollectionProperties("", "docs", {{"", "b"}}, {}).status().Is(StatusCode::kInvalidArgument));
  auto big = db_->AlterCollectionProperties("", "docs", {{"k", std::string(70000, 'v')}}, {});
  EXPECT_THAT(big.status().message(), HasSubstr("property 'k' is longer than 64 KiB"));
  EXPECT_TRUE(db_->AlterCollectionProperties("", "docs", {}, {}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(Info("", "docs").properties.empty());
  // An alias names the collection here as everywhere.
  ASSERT_OK(db_->CreateAlias("", "live", "docs", false).status());
  ASSERT_OK(db_->AlterCollectionProperties("", "live", {{"a", "b"}}, {}).status());
  EXPECT_EQ(Info("", "docs").properties, (Props{{"a", "b"}}));
}

TEST_F(CollectionStateTest, StateFollowsARenameAndVanishesWithADrop) {
  ASSERT_OK(db_->AlterCollectionProperties("", "docs", {{"a", "1"}}, {}).status());
  ASSERT_OK(db_->SetLoadState("", "docs", Released()).status());
  ASSERT_OK(db_->CreateDatabase("sales").status());
  ASSERT_OK(db_->RenameCollection("", "docs", "sales", "orders").status());
  EXPECT_EQ(Info("sales", "orders").properties, (Props{{"a", "1"}}));
  EXPECT_TRUE(Info("sales", "orders").load.released);
  Reopen();
  EXPECT_EQ(Info("sales", "orders").properties, (Props{{"a", "1"}}));
  EXPECT_TRUE(Info("sales", "orders").load.released);
  // A new collection under the old name starts with nothing and loaded.
  ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  EXPECT_TRUE(Info("", "docs").properties.empty());
  EXPECT_TRUE(Info("", "docs").load.FullyLoaded());
  ASSERT_OK(db_->DropCollection("sales", "orders").status());
  ASSERT_OK(db_->CreateCollection("sales", "orders", schema_).status());
  Reopen();
  EXPECT_TRUE(Info("sales", "orders").properties.empty());
  EXPECT_TRUE(Info("sales", "orders").load.FullyLoaded());
}

TEST_F(CollectionStateTest, LoadStateSurvivesRestartAndFollowsPartitionChanges) {
  ASSERT_OK(db_->CreatePartition("", "docs", "jan").status());
  ASSERT_OK(db_->CreatePartition("", "docs", "feb").status());
  EXPECT_TRUE(Info("", "docs").load.FullyLoaded());
  ASSERT_OK(db_->SetLoadState("", "docs", Released()).status());
  Reopen();
  EXPECT_TRUE(Info("", "docs").load.released);
  ASSERT_OK(db_->SetLoadState("", "docs", Partly({"jan"})).status());
  CommitManifest();
  Reopen();  // from the manifest
  EXPECT_EQ(Info("", "docs").load, Partly({"jan"}));
  // A partition created while partly loaded is loaded; dropping the last
  // loaded one releases the collection.
  ASSERT_OK(db_->CreatePartition("", "docs", "mar").status());
  EXPECT_EQ(Info("", "docs").load, Partly({"jan", "mar"}));
  ASSERT_OK(db_->DropPartition("", "docs", "mar").status());
  ASSERT_OK(db_->DropPartition("", "docs", "jan").status());
  EXPECT_TRUE(Info("", "docs").load.released);
  Reopen();  // the partition records replayed from the WAL
  EXPECT_TRUE(Info("", "docs").load.released);
  EXPECT_THAT(*db_->ListPartitions("", "docs"), ElementsAre("_default", "feb"));
  // Every partition listed is "fully loaded".
  ASSERT_OK(db_->SetLoadState("", "docs", Partly({"_default", "feb"})).status());
  EXPECT_TRUE(Info("", "docs").load.FullyLoaded());
}

TEST_F(CollectionStateTest, BadLoadStatesAreRefusedAndUnchangedOnesLogNothing) {
  auto unknown = db_->SetLoadState("", "docs", Partly({"nope"}));
  EXPECT_TRUE(unknown.status().IsNotFound());
  EXPECT_THAT(unknown.status().message(), HasSubstr("partition not found[partition=nope]"));
  CollectionLoadState both = Released();
  both.partitions = {"_default"};
  EXPECT_TRUE(db_->SetLoadState("", "docs", both).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(db_->SetLoadState("", "nope", Released()).status().IsNotFound());
  const Position before = db_->wal()->LastPosition();
  ASSERT_OK_AND_ASSIGN(Position same, db_->SetLoadState("", "docs", CollectionLoadState{}));
  EXPECT_EQ(same, before);
  EXPECT_EQ(db_->wal()->LastPosition(), before) << "loading a loaded collection writes nothing";
}

TEST_F(CollectionStateTest, AFollowerReplaysTheStateAndRefusesToChangeIt) {
  ASSERT_OK(db_->CreatePartition("", "docs", "jan").status());
  ASSERT_OK(db_->AlterCollectionProperties("", "docs", {{"ark.dr.rto_tier", "critical"}}, {}).status());
  ASSERT_OK(db_->SetLoadState("", "docs", Partly({"jan"})).status());
  testing::TempDir follower_dir;
  DatabaseOptions fo = options_;
  fo.follower = true;
  ASSERT_OK_AND_ASSIGN(auto follower, Database::Open(Env::Default(), follower_dir.path(), fo));
  ASSERT_OK(db_->wal()->Replay(Position{}, [&](const WalRecord& r) {
    return follower->AppendReplicated(r).status();
  }));
  auto info = follower->DescribeCollection("", "docs");
  ASSERT_OK(info.status());
  EXPECT_EQ(info->properties, (Props{{"ark.dr.rto_tier", "critical"}}));
  EXPECT_EQ(info->load, Partly({"jan"}));
  // Read-only: a change is refused, asking for the state it has is not.
  auto alter = follower->AlterCollectionProperties("", "docs", {{"a", "b"}}, {});
  EXPECT_TRUE(alter.status().Is(StatusCode::kFailedPrecondition)) << alter.status().ToString();
  EXPECT_TRUE(follower->SetLoadState("", "docs", Released()).status().Is(StatusCode::kFailedPrecondition));
  EXPECT_OK(follower->SetLoadState("", "docs", Partly({"jan"})).status());
  // Reopened, the follower still has it (its own WAL and manifest).
  follower.reset();
  ASSERT_OK_AND_ASSIGN(follower, Database::Open(Env::Default(), follower_dir.path(), fo));
  EXPECT_EQ(follower->DescribeCollection("", "docs")->load, Partly({"jan"}));
}

// ---- the manifest ----------------------------------------------------------------

std::string ManifestFile(uint32_t version, const nlohmann::json& body) {
  std::string text = body.dump();
  std::string file(manifest_format::kMagic, 8);
  PutFixed32(&file, version);
  PutFixed32(&file, 0);
  PutFixed64(&file, text.size());
  PutFixed64(&file, Xxh3_64(text.data(), text.size()));
  return file + text;
}

Manifest OneCollection() {
  Manifest m;
  m.version = 7;  // applied and checkpoint at 0: a database opens on it with an empty WAL
  m.next_collection_id = 2;
  ManifestCollection c;
  c.id = 1;
  c.database = "default";
  c.name = "docs";
  c.schema = testing::TestSchema();
  c.partitions = {{"jan", 1}};
  c.next_partition_id = 2;
  m.collections.push_back(c);
  return m;
}

TEST(CollectionStateManifest, RoundTripsPropertiesAndLoadState) {
  Manifest m = OneCollection();
  m.collections[0].properties = {{"k", "v"}};
  m.collections[0].load.partitions = {"jan"};
  ASSERT_OK_AND_ASSIGN(Manifest back, DecodeManifest(EncodeManifest(m), "m"));
  EXPECT_EQ(back, m);
  nlohmann::json j = ManifestToJson(m);
  EXPECT_EQ(j["collections"][0]["properties"], nlohmann::json({{"k", "v"}}));
  EXPECT_EQ(j["collections"][0]["loadState"], nlohmann::json({{"released", false}, {"partitions", {"jan"}}}));
  // Fully loaded and without properties: neither key is written.
  j = ManifestToJson(OneCollection());
  EXPECT_FALSE(j["collections"][0].contains("properties"));
  EXPECT_FALSE(j["collections"][0].contains("loadState"));
}

TEST(CollectionStateManifest, AVersion4ManifestReadsAsLoadedWithoutProperties) {
  // What a version-4 writer wrote: no "properties", no "loadState".
  nlohmann::json body = ManifestToJson(OneCollection());
  ASSERT_OK_AND_ASSIGN(Manifest back, DecodeManifest(ManifestFile(4, body), "MANIFEST-v4"));
  ASSERT_EQ(back.collections.size(), 1u);
  EXPECT_TRUE(back.collections[0].properties.empty());
  EXPECT_TRUE(back.collections[0].load.FullyLoaded());
  // And a database opens on it.
  testing::TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK(env->CreateDirs(dir.path()));
  ASSERT_OK(env->WriteFileAtomic(dir.Sub(ManifestFileName(7)), ManifestFile(4, body)));
  ASSERT_OK(env->WriteFileAtomic(dir.Sub("CURRENT"), ManifestFileName(7) + "\n"));
  DatabaseOptions o;
  o.auto_seal = false;
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(env, dir.path(), o));
  ASSERT_OK_AND_ASSIGN(CollectionInfo info, db->DescribeCollection("", "docs"));
  EXPECT_TRUE(info.load.FullyLoaded());
  ASSERT_OK(db->AlterCollectionProperties("", "docs", {{"a", "b"}}, {}).status());
}

TEST(CollectionStateManifest, ABadLoadStateIsCorruptionNamingTheCollection) {
  nlohmann::json body = ManifestToJson(OneCollection());
  body["collections"][0]["loadState"] = {{"released", false}, {"partitions", {"feb"}}};
  auto r = DecodeManifest(ManifestFile(manifest_format::kVersion, body), "MANIFEST-x");
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("collection 'docs': loadState names \"feb\", which is not a partition"));
  body["collections"][0]["loadState"] = {{"released", true}, {"partitions", {"jan"}}};
  EXPECT_TRUE(DecodeManifest(ManifestFile(manifest_format::kVersion, body), "m").status().IsCorruption());
  body["collections"][0].erase("loadState");
  body["collections"][0]["properties"] = {{"k", 1}};
  auto p = DecodeManifest(ManifestFile(manifest_format::kVersion, body), "m");
  EXPECT_THAT(p.status().message(), HasSubstr("property 'k' is not a string"));
}

}  // namespace
}  // namespace ark
