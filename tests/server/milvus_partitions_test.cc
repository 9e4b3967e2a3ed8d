// partitions/* routes, partitionName(s) in the entity routes, partition load
// state; databases/alter and drop_properties; one index per field.
#include <set>

#include "milvus_fixture.h"
#include "server/milvus_namespace.h"

namespace ark::server {
namespace {

using nlohmann::json;

class MilvusPartitionsTest : public MilvusFixture {
 protected:
  void RegisterMore(HttpServer& http) override {
    namespaces_ = std::make_unique<MilvusNamespaceService>(db_.get());
    namespaces_->Register(http);
  }
  void CreateDocs() {
    ASSERT_EQ(Call("collections/create", {{"collectionName", "docs"}, {"dimension", 2}, {"metricType", "L2"}})["code"], 0);
  }
  // Inserts ids [first, first+n) with vectors (id, 0) into `partition` ("" = none given).
  void Insert(int first, int n, const std::string& partition) {
    json rows = json::array();
    for (int i = first; i < first + n; ++i) rows.push_back({{"id", i}, {"vector", {float(i), 0.0f}}});
    json body = {{"collectionName", "docs"}, {"data", rows}};
    if (!partition.empty()) body["partitionName"] = partition;
    json r = Call("entities/insert", body);
    ASSERT_EQ(r["code"], 0) << r.dump();
    ASSERT_EQ(r["data"]["insertCount"], n);
  }
  std::set<int64_t> Ids(const json& reply) {
    EXPECT_EQ(reply["code"], 0) << reply.dump();
    std::set<int64_t> out;
    for (const auto& row : reply["data"]) out.insert(row["id"].get<int64_t>());
    return out;
  }
  json Query(json parts) {
    json body = {{"collectionName", "docs"}, {"filter", "id >= 0"}, {"limit", 1000}};
    if (!parts.is_null()) body["partitionNames"] = parts;
    return Call("entities/query", body);
  }
  std::unique_ptr<MilvusNamespaceService> namespaces_;
};

TEST_F(MilvusPartitionsTest, PartitionRoutesAndScopedEntityRoutes) {
  CreateDocs();
  EXPECT_EQ(Call("partitions/list", {{"collectionName", "docs"}})["data"], json::array({"_default"}));
  ASSERT_EQ(Call("partitions/create", {{"collectionName", "docs"}, {"partitionName", "jan"}})["code"], 0);
  ASSERT_EQ(Call("partitions/create", {{"collectionName", "docs"}, {"partitionName", "feb"}})["code"], 0);
  EXPECT_EQ(Call("partitions/list", {{"collectionName", "docs"}})["data"], json::array({"_default", "feb", "jan"}));
  EXPECT_EQ(Call("partitions/has", {{"collectionName", "docs"}, {"partitionName", "jan"}})["data"]["has"], true);
  EXPECT_EQ(Call("partitions/has", {{"collectionName", "docs"}, {"partitionName", "mar"}})["data"]["has"], false);

  Insert(0, 3, "");
  Insert(10, 4, "jan");
  Insert(20, 5, "feb");
  json bad = Call("entities/insert", {{"collectionName", "docs"}, {"partitionName", "mar"},
                                      {"data", {{{"id", 99}, {"vector", {1.0, 2.0}}}}}});
  EXPECT_EQ(bad["code"], 200) << bad.dump();
  EXPECT_NE(bad["message"].get<std::string>().find("partition not found[partition=mar]"), std::string::npos);

  EXPECT_EQ(Call("partitions/get_stats", {{"collectionName", "docs"}, {"partitionName", "jan"}})["data"]["rowCount"], 4);
  EXPECT_EQ(Call("partitions/get_stats", {{"collectionName", "docs"}, {"partitionName", "_default"}})["data"]["rowCount"], 3);
  EXPECT_EQ(Call("collections/get_stats", {{"collectionName", "docs"}})["data"]["rowCount"], 12);

  EXPECT_EQ(Ids(Query(json::array({"jan"}))), (std::set<int64_t>{10, 11, 12, 13}));
  EXPECT_EQ(Ids(Query(json::array({"jan", "_default"}))), (std::set<int64_t>{0, 1, 2, 10, 11, 12, 13}));
  EXPECT_EQ(Ids(Query(json())).size(), 12u);
  json count = Call("entities/query", {{"collectionName", "docs"}, {"partitionNames", {"feb"}}, {"outputFields", {"count(*)"}}});
  EXPECT_EQ(count["data"][0]["count(*)"], 5) << count.dump();
  // Search: the nearest to (0,0) within feb are 20, 21, 22.
  json s = Call("entities/search", {{"collectionName", "docs"}, {"data", {{0.0, 0.0}}}, {"limit", 3},
                                    {"partitionNames", {"feb"}}});
  EXPECT_EQ(Ids(s), (std::set<int64_t>{20, 21, 22}));
  // Get: keys outside the partition are not returned.
  json g = Call("entities/get", {{"collectionName", "docs"}, {"id", {0, 10, 20}}, {"partitionNames", {"jan"}}});
  EXPECT_EQ(Ids(g), (std::set<int64_t>{10}));
  // Unknown partition in a read: 200; not an array: 1100.
  EXPECT_EQ(Query(json::array({"mar"}))["code"], 200);
  EXPECT_EQ(Query(json("jan"))["code"], 1100);
  // Delete by filter within a partition.
  json d = Call("entities/delete", {{"collectionName", "docs"}, {"filter", "id >= 0"}, {"partitionName", "feb"}});
  ASSERT_EQ(d["code"], 0) << d.dump();
  EXPECT_EQ(d["data"]["deleteCount"], 5);
  EXPECT_EQ(Ids(Query(json())).size(), 7u);

  // Drop: refused while loaded, then deletes the partition's rows.
  json loaded = Call("partitions/drop", {{"collectionName", "docs"}, {"partitionName", "jan"}});
  EXPECT_EQ(loaded["code"], 1100);
  EXPECT_NE(loaded["message"].get<std::string>().find("release it first"), std::string::npos);
  EXPECT_EQ(Ids(Query(json::array({"jan"}))).size(), 4u);  // nothing dropped
  ASSERT_EQ(Call("partitions/release", {{"collectionName", "docs"}, {"partitionNames", {"jan"}}})["code"], 0);
  // Partly loaded: reads see the loaded partitions; naming the released one is 201.
  EXPECT_EQ(Query(json::array({"jan"}))["code"], 201);
  EXPECT_EQ(Ids(Query(json())), (std::set<int64_t>{0, 1, 2}));
  EXPECT_EQ(Call("collections/get_load_state", {{"collectionName", "docs"}, {"partitionNames", {"jan"}}})["data"]["loadState"],
            "LoadStateNotLoad");
  ASSERT_EQ(Call("partitions/drop", {{"collectionName", "docs"}, {"partitionName", "jan"}})["code"], 0);
  EXPECT_EQ(Call("partitions/list", {{"collectionName", "docs"}})["data"], json::array({"_default", "feb"}));
  EXPECT_EQ(Call("collections/get_stats", {{"collectionName", "docs"}})["data"]["rowCount"], 3);
  EXPECT_EQ(Call("partitions/drop", {{"collectionName", "docs"}, {"partitionName", "_default"}})["code"], 1100);
  EXPECT_EQ(Call("partitions/drop", {{"collectionName", "docs"}, {"partitionName", "nope"}})["code"], 200);
  EXPECT_EQ(Call("partitions/create", {{"collectionName", "docs"}, {"partitionName", "feb"}})["code"], 1100);
  EXPECT_EQ(Call("partitions/create", {{"collectionName", "docs"}, {"partitionName", "a/b"}})["code"], 1100);
  EXPECT_EQ(Call("partitions/create", {{"collectionName", "docs"}})["code"], 1802);
  EXPECT_EQ(Call("partitions/list", {{"collectionName", "nope"}})["code"], 100);

  // Releasing every partition releases the collection; loading one loads it partly.
  ASSERT_EQ(Call("partitions/release", {{"collectionName", "docs"}, {"partitionNames", {"_default", "feb"}}})["code"], 0);
  EXPECT_EQ(Query(json())["code"], 101);
  ASSERT_EQ(Call("partitions/load", {{"collectionName", "docs"}, {"partitionNames", {"_default"}}})["code"], 0);
  EXPECT_EQ(Ids(Query(json())), (std::set<int64_t>{0, 1, 2}));
  ASSERT_EQ(Call("collections/load", {{"collectionName", "docs"}})["code"], 0);
  EXPECT_EQ(Call("collections/get_load_state", {{"collectionName", "docs"}, {"partitionNames", {"feb"}}})["data"]["loadState"],
            "LoadStateLoaded");
}

// entities/delete by id honours partitionName: only the listed keys whose row
// is in that partition go (Milvus's rule), and the WAL keeps exactly those.
TEST_F(MilvusPartitionsTest, DeleteByIdWithinAPartition) {
  CreateDocs();
  ASSERT_EQ(Call("partitions/create", {{"collectionName", "docs"}, {"partitionName", "jan"}})["code"], 0);
  Insert(0, 3, "");
  Insert(10, 3, "jan");
  json d = Call("entities/delete", {{"collectionName", "docs"}, {"id", {0, 10, 11, 99}}, {"partitionName", "jan"}});
  ASSERT_EQ(d["code"], 0) << d.dump();
  EXPECT_EQ(d["data"]["deleteCount"], 2);
  EXPECT_EQ(Ids(Query(json())), (std::set<int64_t>{0, 1, 2, 12}));
  d = Call("entities/delete", {{"collectionName", "docs"}, {"id", {1, 12}}, {"partitionName", "_default"}});
  EXPECT_EQ(d["data"]["deleteCount"], 1);
  EXPECT_EQ(Call("entities/delete", {{"collectionName", "docs"}, {"id", {2}}, {"partitionName", "mar"}})["code"], 200);
  EXPECT_EQ(Call("entities/delete", {{"collectionName", "docs"}, {"id", {2}}, {"partitionName", 7}})["code"], 1100);
  Stop();
  Start();
  EXPECT_EQ(Ids(Query(json())), (std::set<int64_t>{0, 2, 12}));
}

TEST_F(MilvusPartitionsTest, PartitionsSurviveARestart) {
  CreateDocs();
  ASSERT_EQ(Call("partitions/create", {{"collectionName", "docs"}, {"partitionName", "jan"}})["code"], 0);
  Insert(0, 2, "jan");
  Insert(5, 2, "");
  Stop();
  Start();
  EXPECT_EQ(Call("partitions/list", {{"collectionName", "docs"}})["data"], json::array({"_default", "jan"}));
  EXPECT_EQ(Ids(Query(json::array({"jan"}))), (std::set<int64_t>{0, 1}));
}

TEST_F(MilvusPartitionsTest, DatabasePropertiesAreDurableAndMaxCollectionsIsEnforced) {
  ASSERT_EQ(Call("databases/create", {{"dbName", "sales"}})["code"], 0);
  json a = Call("databases/alter", {{"dbName", "sales"},
                                    {"properties", {{"database.max.collections", 1}, {"team", "emea"}}}});
  ASSERT_EQ(a["code"], 0) << a.dump();
  auto describe = [&] { return Call("databases/describe", {{"dbName", "sales"}})["data"]["properties"]; };
  EXPECT_EQ(describe(), json::parse(R"([{"key":"database.max.collections","value":"1"},{"key":"team","value":"emea"}])"));
  ASSERT_EQ(Call("collections/create", {{"dbName", "sales"}, {"collectionName", "a"}, {"dimension", 2}})["code"], 0);
  json over = Call("collections/create", {{"dbName", "sales"}, {"collectionName", "b"}, {"dimension", 2}});
  EXPECT_EQ(over["code"], 1100) << over.dump();
  EXPECT_NE(over["message"].get<std::string>().find("limit number of collections"), std::string::npos);
  EXPECT_EQ(Call("collections/has", {{"dbName", "sales"}, {"collectionName", "b"}})["data"]["has"], false);
  // Bad input changes nothing.
  EXPECT_EQ(Call("databases/alter", {{"dbName", "sales"}, {"properties", {{"database.max.collections", "-3"}}}})["code"], 1100);
  EXPECT_EQ(Call("databases/alter", {{"dbName", "sales"}, {"properties", {{"x", {{"nested", 1}}}}}})["code"], 1100);
  EXPECT_EQ(Call("databases/alter", {{"dbName", "sales"}, {"properties", json::object()}})["code"], 1100);
  EXPECT_EQ(Call("databases/alter", {{"dbName", "sales"}})["code"], 1802);
  EXPECT_EQ(Call("databases/alter", {{"dbName", "nope"}, {"properties", {{"a", "b"}}}})["code"], 800);
  EXPECT_EQ(Call("databases/drop_properties", {{"dbName", "sales"}, {"propertyKeys", {1}}})["code"], 1100);
  Stop();
  Start();
  EXPECT_EQ(describe().size(), 2u);
  ASSERT_EQ(Call("databases/drop_properties", {{"dbName", "sales"}, {"propertyKeys", {"database.max.collections"}}})["code"], 0);
  EXPECT_EQ(describe(), json::parse(R"([{"key":"team","value":"emea"}])"));
  EXPECT_EQ(Call("collections/create", {{"dbName", "sales"}, {"collectionName", "b"}, {"dimension", 2}})["code"], 0);
}

TEST_F(MilvusPartitionsTest, AFieldsIndexIsNeverReplacedWithOtherParams) {
  CreateDocs();  // AUTOINDEX L2 named "vector"
  json same = Call("indexes/create", {{"collectionName", "docs"},
                                      {"indexParams", {{{"fieldName", "vector"}, {"indexName", "vector"}, {"metricType", "L2"}}}}});
  EXPECT_EQ(same["code"], 0) << same.dump();
  json other = Call("indexes/create", {{"collectionName", "docs"},
                                       {"indexParams", {{{"fieldName", "vector"}, {"indexName", "vector"},
                                                         {"metricType", "L2"}, {"indexType", "FLAT"}}}}});
  EXPECT_EQ(other["code"], 1100) << other.dump();
  EXPECT_NE(other["message"].get<std::string>().find("at most one distinct index"), std::string::npos);
  json d = Call("indexes/describe", {{"collectionName", "docs"}, {"indexName", "vector"}});
  EXPECT_EQ(d["data"][0]["indexType"], "AUTOINDEX") << d.dump();
  ASSERT_EQ(Call("indexes/drop", {{"collectionName", "docs"}, {"indexName", "vector"}})["code"], 0);
  EXPECT_EQ(Call("indexes/create", {{"collectionName", "docs"},
                                    {"indexParams", {{{"fieldName", "vector"}, {"indexName", "vector"},
                                                      {"metricType", "L2"}, {"indexType", "FLAT"}}}}})["code"], 0);
}

}  // namespace
}  // namespace ark::server
