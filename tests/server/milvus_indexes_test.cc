// indexes/create, list, describe, drop, and the indexes that collections/create
// declares, through a real HttpServer.
#include "milvus_fixture.h"

namespace ark::server {
namespace {

using nlohmann::json;

class MilvusIndexesTest : public MilvusFixture {};

TEST_F(MilvusIndexesTest, QuickCreateDeclaresAnAutoindexWithTheMetric) {
  ASSERT_EQ(Call("collections/create",
                 {{"collectionName", "q"}, {"dimension", 4}, {"metricType", "IP"}})["code"],
            0);
  json d = Call("collections/describe", {{"collectionName", "q"}})["data"];
  EXPECT_EQ(d["indexes"], json::parse(R"([{"fieldName":"vector","indexName":"vector","metricType":"IP"}])"));
  EXPECT_EQ(Call("indexes/list", {{"collectionName", "q"}})["data"], json::array({"vector"}));
  json i = Call("indexes/describe", {{"collectionName", "q"}, {"indexName", "vector"}});
  ASSERT_EQ(i["code"], 0) << i.dump();
  EXPECT_EQ(i["data"][0]["indexType"], "AUTOINDEX");
  EXPECT_EQ(i["data"][0]["metricType"], "IP");
  EXPECT_EQ(i["data"][0]["fieldName"], "vector");
  for (const char* key : {"indexState", "totalRows", "indexedRows", "pendingRows", "failReason"}) {
    EXPECT_TRUE(i["data"][0].contains(key)) << key;
  }
  // Search defaults to the index's metric.
  ASSERT_EQ(Call("entities/insert", {{"collectionName", "q"},
                                     {"data", {{{"id", 1}, {"vector", {1, 0, 0, 0}}},
                                               {{"id", 2}, {"vector", {2, 0, 0, 0}}}}}})["code"],
            0);
  json s = Call("entities/search", {{"collectionName", "q"}, {"data", {{1, 0, 0, 0}}}});
  EXPECT_EQ(s["data"][0]["id"], 2);  // IP: larger is closer
  EXPECT_FLOAT_EQ(s["data"][0]["distance"].get<float>(), 2.0f);
}

TEST_F(MilvusIndexesTest, FullCreateWithIndexParamsAndIndexLifecycle) {
  json body = json::parse(R"({"collectionName":"kb","schema":{
    "fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
              {"fieldName":"vec","dataType":"FloatVector","elementTypeParams":{"dim":"8"}}]},
    "indexParams":[{"fieldName":"vec","indexName":"hnsw","metricType":"L2",
                    "params":{"index_type":"HNSW","M":"16","efConstruction":64}}]})");
  ASSERT_EQ(Call("collections/create", body)["code"], 0);
  json i = Call("indexes/describe", {{"collectionName", "kb"}, {"indexName", "hnsw"}});
  ASSERT_EQ(i["code"], 0) << i.dump();
  EXPECT_EQ(i["data"][0]["indexType"], "HNSW");
  EXPECT_EQ(i["data"][0]["metricType"], "L2");
  EXPECT_EQ(Call("indexes/drop", {{"collectionName", "kb"}, {"indexName", "hnsw"}})["code"], 0);
  EXPECT_EQ(Call("indexes/list", {{"collectionName", "kb"}})["data"], json::array());
  EXPECT_EQ(Call("collections/describe", {{"collectionName", "kb"}})["data"]["indexes"],
            json::array());
  json c = Call("indexes/create", {{"collectionName", "kb"},
                                   {"indexParams", {{{"fieldName", "vec"},
                                                     {"indexName", "flat"},
                                                     {"metricType", "COSINE"},
                                                     {"indexType", "FLAT"}}}}});
  ASSERT_EQ(c["code"], 0) << c.dump();
  EXPECT_EQ(Call("indexes/list", {{"collectionName", "kb"}})["data"], json::array({"flat"}));
}

TEST_F(MilvusIndexesTest, IndexErrorsAnswerMilvusCodesAndDeclareNothing) {
  ASSERT_EQ(Call("collections/create", {{"collectionName", "q"}, {"dimension", 4}})["code"], 0);
  struct Case {
    const char* route;
    json body;
    int code;
    const char* text;
  };
  auto params = [](json p) { return json{{"collectionName", "q"}, {"indexParams", {p}}}; };
  std::vector<Case> cases = {
      {"indexes/describe", {{"collectionName", "q"}, {"indexName", "nope"}}, 700, "nope"},
      {"indexes/drop", {{"collectionName", "q"}, {"indexName", "nope"}}, 700, "nope"},
      {"indexes/describe", {{"collectionName", "q"}}, 1802, "indexName"},
      {"indexes/list", {{"collectionName", "zz"}}, 100, "zz"},
      {"indexes/create", {{"collectionName", "q"}}, 1802, "indexParams"},
      {"indexes/create", params({{"fieldName", "id"}, {"metricType", "L2"}}), 1100, "id"},
      {"indexes/create", params({{"fieldName", "nosuch"}, {"metricType", "L2"}}), 1100, "nosuch"},
      {"indexes/create",
       params({{"fieldName", "vector"}, {"metricType", "L2"}, {"indexType", "BOGUS"}}), 1100,
       "BOGUS"},
      {"indexes/create", params({{"fieldName", "vector"}, {"metricType", "HAMMING"}}), 1100, ""},
      {"indexes/create",
       params({{"fieldName", "vector"}, {"indexType", "HNSW"}, {"params", {{"M", 1}}}}), 1100,
       "M"},
  };
  for (const auto& c : cases) {
    json reply = Call(c.route, c.body);
    EXPECT_EQ(reply["code"], c.code) << c.route << " " << c.body.dump() << " -> " << reply.dump();
    EXPECT_NE(reply.value("message", "").find(c.text), std::string::npos) << reply.dump();
  }
  EXPECT_EQ(Call("indexes/list", {{"collectionName", "q"}})["data"], json::array({"vector"}));
  // A bad index in a create leaves no collection behind.
  json bad = json::parse(R"({"collectionName":"kb","schema":{
    "fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
              {"fieldName":"vec","dataType":"FloatVector","elementTypeParams":{"dim":8}}]},
    "indexParams":[{"fieldName":"vec","metricType":"L2","params":{"index_type":"NOPE"}}]})");
  EXPECT_EQ(Call("collections/create", bad)["code"], 1100);
  EXPECT_EQ(Call("collections/has", {{"collectionName", "kb"}})["data"]["has"], false);
}

}  // namespace
}  // namespace ark::server
