// indexes/create, list, describe, drop, and the indexes that collections/create
// declares, through a real HttpServer.
#include <cmath>

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

// HNSW_SQ end to end: created over REST with Milvus's params, described
// with them, built on a sealed segment, and searched with refine (exact
// distances from the segment's vectors).
TEST_F(MilvusIndexesTest, HnswSqIndexCreateDescribeAndSearch) {
  json body = json::parse(R"({"collectionName":"sq","schema":{
    "fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
              {"fieldName":"vec","dataType":"FloatVector","elementTypeParams":{"dim":"4"}}]}})");
  ASSERT_EQ(Call("collections/create", body)["code"], 0);
  json bad = Call("indexes/create", {{"collectionName", "sq"},
                                     {"indexParams", {{{"fieldName", "vec"}, {"metricType", "L2"},
                                                       {"indexType", "HNSW_SQ"},
                                                       {"params", {{"sq_type", "BF16"}}}}}}});
  EXPECT_EQ(bad["code"], 1100) << bad.dump();
  EXPECT_NE(bad.value("message", "").find("sq_type"), std::string::npos) << bad.dump();
  json c = Call("indexes/create",
                {{"collectionName", "sq"},
                 {"indexParams", {{{"fieldName", "vec"}, {"indexName", "q"}, {"metricType", "L2"},
                                   {"indexType", "HNSW_SQ"},
                                   {"params", {{"M", 8}, {"efConstruction", 64}, {"sq_type", "SQ8"},
                                               {"refine", true}, {"refine_type", "FP32"}}}}}}});
  ASSERT_EQ(c["code"], 0) << c.dump();
  json rows = json::array();
  for (int i = 0; i < 300; ++i) {
    rows.push_back({{"id", i}, {"vec", {i * 0.5, std::sin(i * 0.1), std::cos(i * 0.37), (i % 7) * 0.25}}});
  }
  for (size_t from = 0; from < rows.size(); from += 100) {  // limits.max_rows_per_insert
    json part(rows.begin() + static_cast<std::ptrdiff_t>(from), rows.begin() + static_cast<std::ptrdiff_t>(from + 100));
    json ins = Call("entities/insert", {{"collectionName", "sq"}, {"data", part}});
    ASSERT_EQ(ins["code"], 0) << ins.dump();
  }
  ASSERT_EQ(Call("collections/flush", {{"collectionName", "sq"}})["code"], 0);
  while (db_->RunIndexBuild()) {
  }
  json i = Call("indexes/describe", {{"collectionName", "sq"}, {"indexName", "q"}});
  ASSERT_EQ(i["code"], 0) << i.dump();
  EXPECT_EQ(i["data"][0]["indexType"], "HNSW_SQ");
  EXPECT_EQ(i["data"][0]["indexedRows"], 300) << i.dump();
  EXPECT_NE(i.dump().find("SQ8"), std::string::npos) << i.dump();
  // Row 123 itself: distance exactly 0 only if the candidates were re-ranked
  // against the float vectors (SQ8 codes alone give a small non-zero value).
  json s = Call("entities/search", {{"collectionName", "sq"},
                                    {"data", {rows[123]["vec"]}},
                                    {"limit", 3},
                                    {"searchParams", {{"params", {{"ef", 32}, {"refine_k", 2}}}}}});
  ASSERT_EQ(s["code"], 0) << s.dump();
  ASSERT_EQ(s["data"].size(), 3u) << s.dump();
  EXPECT_EQ(s["data"][0]["id"], 123);
  EXPECT_EQ(s["data"][0]["distance"].get<float>(), 0.0f) << s.dump();

  // The same rows under HNSW_SQ without refine: the index answers from the
  // codes, so the row's distance to itself is the (non-zero) SQ8 error —
  // which shows the searches above went through the quantized index.
  body["collectionName"] = "sqn";
  ASSERT_EQ(Call("collections/create", body)["code"], 0);
  ASSERT_EQ(Call("indexes/create", {{"collectionName", "sqn"},
                                    {"indexParams", {{{"fieldName", "vec"}, {"metricType", "L2"},
                                                      {"indexType", "HNSW_SQ"}, {"params", {{"M", 8}}}}}}})["code"],
            0);
  for (size_t from = 0; from < rows.size(); from += 100) {
    json part(rows.begin() + static_cast<std::ptrdiff_t>(from), rows.begin() + static_cast<std::ptrdiff_t>(from + 100));
    ASSERT_EQ(Call("entities/insert", {{"collectionName", "sqn"}, {"data", part}})["code"], 0);
  }
  ASSERT_EQ(Call("collections/flush", {{"collectionName", "sqn"}})["code"], 0);
  while (db_->RunIndexBuild()) {
  }
  json n = Call("entities/search", {{"collectionName", "sqn"}, {"data", {rows[123]["vec"]}}, {"limit", 3}});
  ASSERT_EQ(n["code"], 0) << n.dump();
  EXPECT_EQ(n["data"][0]["id"], 123) << n.dump();
  EXPECT_GT(n["data"][0]["distance"].get<float>(), 0.0f) << n.dump();
  EXPECT_LT(n["data"][0]["distance"].get<float>(), 0.5f) << n.dump();
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
