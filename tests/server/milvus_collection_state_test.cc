// collections/alter_properties and drop_properties, the properties in
// collections/describe, and the load state (collections and partitions)
// surviving a restart of the server on the same data.
#include <set>

#include "milvus_fixture.h"

namespace ark::server {
namespace {

using nlohmann::json;

class MilvusCollectionStateTest : public MilvusFixture {
 protected:
  void CreateDocs(const std::string& name = "docs") {
    ASSERT_EQ(Call("collections/create", {{"collectionName", name}, {"dimension", 2}, {"metricType", "L2"}})["code"], 0);
  }
  json Properties(const std::string& name = "docs") {
    json d = Call("collections/describe", {{"collectionName", name}});
    EXPECT_EQ(d["code"], 0) << d.dump();
    return d["data"]["properties"];
  }
  std::string LoadState(json partitions = nullptr) {
    json body = {{"collectionName", "docs"}};
    if (!partitions.is_null()) body["partitionNames"] = partitions;
    json r = Call("collections/get_load_state", body);
    EXPECT_EQ(r["code"], 0) << r.dump();
    return r["data"]["loadState"].get<std::string>();
  }
  // Ids a query without partitionNames sees; or the error code.
  json QueryIds() {
    json r = Call("entities/query", {{"collectionName", "docs"}, {"filter", "id >= 0"}, {"limit", 100}});
    if (r["code"] != 0) return r["code"];
    std::set<int64_t> ids;
    for (const auto& row : r["data"]) ids.insert(row["id"].get<int64_t>());
    return ids;
  }
  void Insert(int id, const std::string& partition) {
    json body = {{"collectionName", "docs"}, {"data", {{{"id", id}, {"vector", {float(id), 0.0f}}}}}};
    if (!partition.empty()) body["partitionName"] = partition;
    ASSERT_EQ(Call("entities/insert", body)["code"], 0);
  }
};

TEST_F(MilvusCollectionStateTest, PropertiesAreDescribedDurableAndFollowTheCollection) {
  CreateDocs();
  EXPECT_EQ(Properties(), json::array());
  json a = Call("collections/alter_properties",
                {{"collectionName", "docs"},
                 {"properties", {{"collection.ttl.seconds", 60}, {"mmap.enabled", true}, {"ark.dr.rto_tier", "critical"}}}});
  ASSERT_EQ(a["code"], 0) << a.dump();
  EXPECT_EQ(a["data"], json::object());
  EXPECT_EQ(Properties(), json::parse(R"([{"key":"ark.dr.rto_tier","value":"critical"},
    {"key":"collection.ttl.seconds","value":"60"},{"key":"mmap.enabled","value":"true"}])"));
  json d = Call("collections/drop_properties", {{"collectionName", "docs"}, {"propertyKeys", {"mmap.enabled"}}});
  ASSERT_EQ(d["code"], 0) << d.dump();
  Stop();
  Start();
  EXPECT_EQ(Properties(), json::parse(R"([{"key":"ark.dr.rto_tier","value":"critical"},
    {"key":"collection.ttl.seconds","value":"60"}])"));
  // A rename carries them; a drop ends them.
  ASSERT_EQ(Call("collections/rename", {{"collectionName", "docs"}, {"newCollectionName", "kb"}})["code"], 0);
  EXPECT_EQ(Properties("kb").size(), 2u);
  ASSERT_EQ(Call("collections/drop", {{"collectionName", "kb"}})["code"], 0);
  CreateDocs("kb");
  EXPECT_EQ(Properties("kb"), json::array());
}

TEST_F(MilvusCollectionStateTest, BadPropertiesAreRefusedAndStoreNothing) {
  CreateDocs();
  auto alter = [&](json body) {
    body["collectionName"] = body.value("collectionName", "docs");
    return Call("collections/alter_properties", body);
  };
  json tier = alter({{"properties", {{"ark.dr.rto_tier", "urgent"}, {"team", "a"}}}});
  EXPECT_EQ(tier["code"], 1100) << tier.dump();
  const std::string message = tier["message"].get<std::string>();
  EXPECT_NE(message.find("ark.dr.rto_tier"), std::string::npos) << message;
  EXPECT_NE(message.find("critical"), std::string::npos) << "names the choices: " << message;
  EXPECT_EQ(alter({{"properties", {{"x", {{"nested", 1}}}}}})["code"], 1100);
  EXPECT_EQ(alter({{"properties", {{"x", 1.5}}}})["code"], 1100);
  EXPECT_EQ(alter({{"properties", json::object()}})["code"], 1100);
  EXPECT_EQ(alter({{"properties", "a=b"}})["code"], 1100);
  EXPECT_EQ(alter(json::object())["code"], 1802);
  json missing = alter({{"collectionName", "nope"}, {"properties", {{"a", "b"}}}});
  EXPECT_EQ(missing["code"], 100) << missing.dump();
  EXPECT_EQ(Properties(), json::array()) << "nothing of a refused request is stored";
  auto drop = [&](json body) {
    body["collectionName"] = body.value("collectionName", "docs");
    return Call("collections/drop_properties", body);
  };
  EXPECT_EQ(drop(json::object())["code"], 1802);
  EXPECT_EQ(drop({{"propertyKeys", {1}}})["code"], 1100);
  EXPECT_EQ(drop({{"propertyKeys", json::array()}})["code"], 1100);
  EXPECT_EQ(drop({{"collectionName", "nope"}, {"propertyKeys", {"a"}}})["code"], 100);
  EXPECT_EQ(drop({{"propertyKeys", {"never-set"}}})["code"], 0) << "dropping an absent key is not an error";
}

TEST_F(MilvusCollectionStateTest, ReleasedCollectionStaysReleasedAcrossARestart) {
  CreateDocs();
  Insert(1, "");
  ASSERT_EQ(Call("collections/release", {{"collectionName", "docs"}})["code"], 0);
  Stop();
  Start();
  EXPECT_EQ(LoadState(), "LoadStateNotLoad");
  EXPECT_EQ(QueryIds(), 101);
  json d = Call("collections/describe", {{"collectionName", "docs"}});
  EXPECT_EQ(d["data"]["load"], "LoadStateNotLoad");
  ASSERT_EQ(Call("collections/load", {{"collectionName", "docs"}})["code"], 0);
  Stop();
  Start();
  EXPECT_EQ(LoadState(), "LoadStateLoaded");
  EXPECT_EQ(QueryIds(), json({1}));
}

TEST_F(MilvusCollectionStateTest, PartlyLoadedCollectionKeepsItsPartitionsAcrossARestart) {
  CreateDocs();
  for (const char* p : {"jan", "feb"}) {
    ASSERT_EQ(Call("partitions/create", {{"collectionName", "docs"}, {"partitionName", p}})["code"], 0);
  }
  Insert(1, "");
  Insert(2, "jan");
  Insert(3, "feb");
  ASSERT_EQ(Call("partitions/release", {{"collectionName", "docs"}, {"partitionNames", {"_default", "feb"}}})["code"], 0);
  Stop();
  Start();
  EXPECT_EQ(QueryIds(), json({2}));
  EXPECT_EQ(LoadState(json({"jan"})), "LoadStateLoaded");
  EXPECT_EQ(LoadState(json({"feb"})), "LoadStateNotLoad");
  json scoped = Call("entities/query", {{"collectionName", "docs"}, {"filter", "id >= 0"}, {"partitionNames", {"feb"}}});
  EXPECT_EQ(scoped["code"], 201) << scoped.dump();
  // A released partition can be dropped; a loaded one cannot.
  EXPECT_EQ(Call("partitions/drop", {{"collectionName", "docs"}, {"partitionName", "jan"}})["code"], 1100);
  ASSERT_EQ(Call("partitions/drop", {{"collectionName", "docs"}, {"partitionName", "feb"}})["code"], 0);
  // Loading the rest makes the collection fully loaded again, after a restart too.
  ASSERT_EQ(Call("partitions/load", {{"collectionName", "docs"}, {"partitionNames", {"_default"}}})["code"], 0);
  Stop();
  Start();
  EXPECT_EQ(QueryIds(), json({1, 2}));
  EXPECT_EQ(Call("partitions/drop", {{"collectionName", "docs"}, {"partitionName", "jan"}})["code"], 1100);
}

}  // namespace
}  // namespace ark::server
