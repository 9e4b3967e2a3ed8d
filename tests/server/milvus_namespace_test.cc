// databases/* and aliases/* routes through a real HTTP server on loopback.
#include "server/milvus_namespace.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "milvus_fixture.h"

namespace ark::server {
namespace {

using nlohmann::json;

// The shared route fixture plus the namespace routes.
class MilvusNamespaceTest : public MilvusFixture {
 protected:
  void RegisterMore(HttpServer& http) override {
    ns_ = std::make_unique<MilvusNamespaceService>(db_.get());
    ns_->Register(http);
  }
  std::unique_ptr<MilvusNamespaceService> ns_;
};

TEST_F(MilvusNamespaceTest, DatabasesCreateListDescribeDropWithMilvusCodes) {
  EXPECT_EQ(Call("databases/list", json::object())["data"], json::array({"default"}));
  json missing = Call("collections/create", {{"dbName", "sales"}, {"collectionName", "a"}, {"dimension", 2}});
  EXPECT_NE(missing["code"], 0);
  EXPECT_NE(missing["message"].get<std::string>().find("sales"), std::string::npos);
  EXPECT_EQ(Call("databases/create", {{"dbName", "sales"}})["code"], 0);
  EXPECT_EQ(Call("databases/create", {{"dbName", "sales"}})["code"], 1100);
  EXPECT_EQ(Call("databases/create", json::object())["code"], 1802);
  EXPECT_EQ(Call("databases/create", {{"dbName", "a/b"}})["code"], 1100);
  EXPECT_EQ(Call("collections/create", {{"dbName", "sales"}, {"collectionName", "a"}, {"dimension", 2}})["code"], 0);
  EXPECT_EQ(Call("databases/list", json::object())["data"], json::array({"default", "sales"}));
  json d = Call("databases/describe", {{"dbName", "sales"}});
  EXPECT_EQ(d["data"]["dbName"], "sales");
  EXPECT_EQ(Call("databases/describe", {{"dbName", "nope"}})["code"], 800);
  json busy = Call("databases/drop", {{"dbName", "sales"}});
  EXPECT_EQ(busy["code"], 1100);
  EXPECT_NE(busy["message"].get<std::string>().find("collection 'a'"), std::string::npos);
  EXPECT_EQ(Call("databases/drop", {{"dbName", "nope"}})["code"], 800);
  Stop();
  Start();
  EXPECT_EQ(Call("databases/list", json::object())["data"], json::array({"default", "sales"}));
  EXPECT_EQ(Call("collections/drop", {{"dbName", "sales"}, {"collectionName", "a"}})["code"], 0);
  EXPECT_EQ(Call("databases/drop", {{"dbName", "sales"}})["code"], 0);
  EXPECT_EQ(Call("databases/list", json::object())["data"], json::array({"default"}));
}

TEST_F(MilvusNamespaceTest, AliasesCreateAlterDescribeListDrop) {
  ASSERT_EQ(Call("collections/create", {{"collectionName", "v1"}, {"dimension", 2}})["code"], 0);
  ASSERT_EQ(Call("collections/create", {{"collectionName", "v2"}, {"dimension", 2}})["code"], 0);
  ASSERT_EQ(Call("entities/insert", {{"collectionName", "v2"}, {"data", {{{"id", 1}, {"vector", {1, 0}}}}}})["code"], 0);
  EXPECT_EQ(Call("aliases/create", {{"collectionName", "v1"}, {"aliasName", "docs"}})["code"], 0);
  EXPECT_EQ(Call("aliases/create", {{"collectionName", "v2"}, {"aliasName", "docs"}})["code"], 1100);
  EXPECT_EQ(Call("aliases/create", {{"collectionName", "nope"}, {"aliasName", "x"}})["code"], 100);
  EXPECT_EQ(Call("aliases/create", {{"collectionName", "v1"}})["code"], 1802);
  json desc = Call("aliases/describe", {{"aliasName", "docs"}});
  EXPECT_EQ(desc["data"]["collectionName"], "v1");
  EXPECT_EQ(desc["data"]["dbName"], "default");
  EXPECT_EQ(Call("collections/get_stats", {{"collectionName", "docs"}})["data"]["rowCount"], 0);
  EXPECT_EQ(Call("aliases/alter", {{"collectionName", "v2"}, {"aliasName", "docs"}})["code"], 0);
  EXPECT_EQ(Call("collections/get_stats", {{"collectionName", "docs"}})["data"]["rowCount"], 1);
  EXPECT_EQ(Call("aliases/alter", {{"collectionName", "v2"}, {"aliasName", "nope"}})["code"], 1100);
  EXPECT_EQ(Call("aliases/list", json::object())["data"], json::array({"docs"}));
  EXPECT_EQ(Call("aliases/list", {{"collectionName", "v1"}})["data"], json::array());
  EXPECT_NE(Call("collections/drop", {{"collectionName", "v2"}})["code"], 0);  // still aliased
  EXPECT_EQ(Call("collections/has", {{"collectionName", "v2"}})["data"]["has"], true);
  Stop();
  Start();
  EXPECT_EQ(Call("aliases/describe", {{"aliasName", "docs"}})["data"]["collectionName"], "v2");
  EXPECT_EQ(Call("aliases/drop", {{"aliasName", "docs"}})["code"], 0);
  EXPECT_EQ(Call("aliases/drop", {{"aliasName", "docs"}})["code"], 1100);
  EXPECT_EQ(Call("aliases/describe", {{"aliasName", "docs"}})["code"], 1100);
  EXPECT_EQ(Call("collections/drop", {{"collectionName", "v2"}})["code"], 0);
}

TEST_F(MilvusNamespaceTest, CompactDropsDeletedRowsAndReportsState) {
  ASSERT_EQ(Call("collections/create", {{"collectionName", "docs"}, {"dimension", 2}})["code"], 0);
  for (int b = 0; b < 3; ++b) {
    json rows = json::array();
    for (int i = 0; i < 10; ++i) rows.push_back({{"id", b * 10 + i}, {"vector", {1.0 * i, 1.0}}});
    ASSERT_EQ(Call("entities/insert", {{"collectionName", "docs"}, {"data", rows}})["code"], 0);
    ASSERT_EQ(Call("collections/flush", {{"collectionName", "docs"}})["code"], 0);
  }
  ASSERT_OK(db_->Delete("", "docs", {PrimaryKey{int64_t{3}}, PrimaryKey{int64_t{13}}}).status());
  json c = Call("collections/compact", {{"collectionName", "docs"}});
  ASSERT_EQ(c["code"], 0) << c.dump();
  json state = Call("collections/get_compaction_state", {{"compactionID", c["data"]["compactionID"]}});
  EXPECT_EQ(state["data"]["state"], "Completed");
  EXPECT_EQ(state["data"]["segmentsBefore"], 3);
  EXPECT_EQ(state["data"]["segmentsAfter"], 1);
  EXPECT_EQ(state["data"]["rowsAfter"], 28);
  EXPECT_EQ(db_->CurrentManifest().collections[0].segments.size(), 1u);
  EXPECT_EQ(Call("collections/get_stats", {{"collectionName", "docs"}})["data"]["rowCount"], 28);
  EXPECT_EQ(Call("collections/compact", {{"collectionName", "nope"}})["code"], 100);
  EXPECT_EQ(Call("collections/get_compaction_state", {{"compactionID", 999}})["code"], 1100);
  EXPECT_EQ(Call("collections/get_compaction_state", json::object())["code"], 1802);
}

}  // namespace
}  // namespace ark::server
