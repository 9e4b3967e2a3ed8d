// entities/search, query, get, delete and hybrid_search through a real
// HttpServer: reply shapes, Milvus codes, and that failed calls store nothing.
#include <cmath>

#include "milvus_fixture.h"

namespace ark::server {
namespace {

using nlohmann::json;

class MilvusEntitiesTest : public MilvusFixture {
 protected:
  // docs: id Int64 pk, color VarChar, n Int64, vec FloatVector(2), dynamic on,
  // FLAT/L2 index. Row i (1..10): vec (i, 1), color red for odd i, n = 10 i,
  // dynamic key tag = "t<i>" on even rows.
  void MakeDocs() {
    json body = json::parse(R"({"collectionName":"docs","schema":{"enableDynamicField":true,
      "fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
                {"fieldName":"color","dataType":"VarChar","elementTypeParams":{"max_length":16}},
                {"fieldName":"n","dataType":"Int64"},
                {"fieldName":"vec","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
      "indexParams":[{"fieldName":"vec","indexName":"vec_idx","metricType":"L2",
                      "params":{"index_type":"FLAT"}}]})");
    ASSERT_EQ(Call("collections/create", body)["code"], 0);
    json rows = json::array();
    for (int i = 1; i <= 10; ++i) {
      json r = {{"id", i}, {"color", i % 2 ? "red" : "blue"}, {"n", 10 * i}, {"vec", {i, 1}}};
      if (i % 2 == 0) r["tag"] = "t" + std::to_string(i);
      rows.push_back(r);
    }
    ASSERT_EQ(Call("entities/insert", {{"collectionName", "docs"}, {"data", rows}})["code"], 0);
  }
  int64_t Count(const std::string& filter = "") {
    json r = Call("entities/query", {{"collectionName", "docs"},
                                     {"filter", filter},
                                     {"outputFields", {"count(*)"}}});
    EXPECT_EQ(r["code"], 0) << r.dump();
    return r["data"][0]["count(*)"].get<int64_t>();
  }
  void Seal() {
    ASSERT_EQ(Call("collections/flush", {{"collectionName", "docs"}})["code"], 0);
    while (db_->RunIndexBuild()) {
    }
  }
};

TEST_F(MilvusEntitiesTest, SearchOneVectorGivesAFlatListWithIdDistanceAndOutputFields) {
  MakeDocs();
  json r = Call("entities/search", {{"collectionName", "docs"},
                                    {"data", {{0, 1}}},
                                    {"annsField", "vec"},
                                    {"limit", 3},
                                    {"outputFields", {"color", "tag"}}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  ASSERT_EQ(r["data"].size(), 3u);
  EXPECT_EQ(r["topks"], json::array({3}));
  // L2 is squared, as in Milvus: row i is at distance i^2.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r["data"][i]["id"], i + 1);
    EXPECT_FLOAT_EQ(r["data"][i]["distance"].get<float>(), float((i + 1) * (i + 1)));
    EXPECT_EQ(r["data"][i]["color"], (i + 1) % 2 ? "red" : "blue");
    EXPECT_FALSE(r["data"][i].contains("n"));
    EXPECT_FALSE(r["data"][i].contains("vec"));
  }
  EXPECT_FALSE(r["data"][0].contains("tag"));
  EXPECT_EQ(r["data"][1]["tag"], "t2");
}

TEST_F(MilvusEntitiesTest, SearchSeveralVectorsFilterOffsetAndTopks) {
  MakeDocs();
  json r = Call("entities/search", {{"collectionName", "docs"},
                                    {"data", {{0, 1}, {10, 1}}},
                                    {"filter", "color == \"red\""},
                                    {"limit", 2},
                                    {"offset", 1},
                                    {"searchParams", {{"metricType", "L2"}, {"params", json::object()}}}},
                {{"Accept-Type-Allow-Int64", "false"}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  EXPECT_EQ(r["topks"], json::array({2, 2}));
  std::vector<std::string> ids;
  for (const auto& h : r["data"]) ids.push_back(h["id"].get<std::string>());
  // Red rows are the odd ones; after skipping the closest one.
  EXPECT_EQ(ids, (std::vector<std::string>{"3", "5", "7", "5"}));
}

TEST_F(MilvusEntitiesTest, SearchAfterSealUsesTheIndexAndAgreesWithGrowing) {
  MakeDocs();
  json body = {{"collectionName", "docs"}, {"data", {{3.2, 1}}}, {"limit", 4}};
  json before = Call("entities/search", body);
  Seal();
  json after = Call("entities/search", body);
  ASSERT_EQ(after["code"], 0) << after.dump();
  EXPECT_EQ(before["data"], after["data"]);
  json d = Call("indexes/describe", {{"collectionName", "docs"}, {"indexName", "vec_idx"}});
  ASSERT_EQ(d["code"], 0) << d.dump();
  EXPECT_EQ(d["data"][0]["indexState"], "Finished");
  EXPECT_EQ(d["data"][0]["indexedRows"], 10);
}

TEST_F(MilvusEntitiesTest, SearchErrorsAnswerMilvusCodes) {
  MakeDocs();
  struct Case {
    json body;
    int code;
    const char* text;
  };
  std::vector<Case> cases = {
      {{{"collectionName", "docs"}, {"data", {{1, 2, 3}}}}, 1100, "dimension 3"},
      {{{"collectionName", "docs"}, {"data", {{1, "x"}}}}, 1100, "non-number"},
      {{{"collectionName", "docs"}, {"data", "abc"}}, 1100, "data"},
      {{{"collectionName", "docs"}}, 1802, "data is required"},
      {{{"collectionName", "nope"}, {"data", {{1, 2}}}}, 100, "can't find collection"},
      {{{"collectionName", "docs"}, {"data", {{1, 2}}}, {"filter", "color =="}}, 1100, ""},
      {{{"collectionName", "docs"}, {"data", {{1, 2}}}, {"limit", 16000}, {"offset", 1000}},
       1100, "16384"},
      {{{"collectionName", "docs"}, {"data", {{1, 2}}}, {"limit", -1}}, 1100, "negative"},
      {{{"collectionName", "docs"}, {"data", {{1, 2}}}, {"limit", "ten"}}, 1100, "limit"},
      {{{"collectionName", "docs"}, {"data", {{1, 2}}}, {"annsField", "color"}}, 1100, "color"},
      {{{"collectionName", "docs"}, {"data", {{1, 2}}}, {"outputFields", "color"}}, 1100,
       "outputFields"},
      {{{"collectionName", "docs"},
        {"data", {{1, 2}}},
        {"searchParams", {{"metricType", "IP"}}}},
       1100, ""},
      {{{"collectionName", "docs"},
        {"data", {{1, 2}}},
        {"searchParams", {{"params", {{"ef", 0}}}}}},
       1100, "ef"},
  };
  for (const auto& c : cases) {
    json reply = Call("entities/search", c.body);
    EXPECT_EQ(reply["code"], c.code) << c.body.dump() << " -> " << reply.dump();
    EXPECT_NE(reply.value("message", "").find(c.text), std::string::npos) << reply.dump();
  }
  EXPECT_EQ(CallRaw("entities/search", "{\"collectionName\":\"docs\",\"data\":[[1,")["code"], 1801);
  ASSERT_EQ(Call("collections/release", {{"collectionName", "docs"}})["code"], 0);
  EXPECT_EQ(Call("entities/search", {{"collectionName", "docs"}, {"data", {{1, 2}}}})["code"], 101);
  EXPECT_EQ(Call("entities/query", {{"collectionName", "docs"}, {"filter", "id > 0"}})["code"], 101);
}

TEST_F(MilvusEntitiesTest, QueryFilterOutputFieldsLimitOffsetAndCount) {
  MakeDocs();
  json r = Call("entities/query", {{"collectionName", "docs"},
                                   {"filter", "n >= 30 and color == \"blue\""},
                                   {"outputFields", {"n"}},
                                   {"limit", 2},
                                   {"offset", 1}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  EXPECT_EQ(r["data"], json::parse(R"([{"id":6,"n":60},{"id":8,"n":80}])"));
  json all = Call("entities/query", {{"collectionName", "docs"},
                                     {"filter", "id == 2"},
                                     {"outputFields", {"*"}}},
                  {{"Accept-Type-Allow-Int64", "false"}});
  EXPECT_EQ(all["data"],
            json::parse(R"([{"id":"2","color":"blue","n":"20","vec":[2.0,1.0],"tag":"t2"}])"));
  json meta = Call("entities/query",
                   {{"collectionName", "docs"}, {"filter", "tag == \"t4\""}, {"outputFields", {"$meta"}}});
  EXPECT_EQ(meta["data"], json::parse(R"([{"id":4,"tag":"t4"}])"));
  EXPECT_EQ(Count(), 10);
  EXPECT_EQ(Count("color == \"red\""), 5);
  json tmpl = Call("entities/query", {{"collectionName", "docs"},
                                      {"filter", "n > {low}"},
                                      {"exprParams", {{"low", 85}}},
                                      {"outputFields", {"count(*)"}}});
  EXPECT_EQ(tmpl["data"][0]["count(*)"], 2) << tmpl.dump();
  // Milvus refuses an unbounded scan of everything.
  EXPECT_EQ(Call("entities/query", {{"collectionName", "docs"}})["code"], 1100);
  EXPECT_EQ(Call("entities/query", {{"collectionName", "docs"}, {"limit", 3}})["data"].size(), 3u);
  EXPECT_EQ(Call("entities/query",
                 {{"collectionName", "docs"}, {"filter", "nosuch > 1 and"}, {"limit", 3}})["code"],
            1100);
  EXPECT_EQ(Call("entities/query", {{"collectionName", "docs"}, {"limit", 16385}})["code"], 1100);
}

TEST_F(MilvusEntitiesTest, GetAppliesOutputFields) {
  MakeDocs();
  json r = Call("entities/get", {{"collectionName", "docs"}, {"id", {4, 99, 1}},
                                 {"outputFields", {"color", "tag"}}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  EXPECT_EQ(r["data"], json::parse(R"([{"id":4,"color":"blue","tag":"t4"},{"id":1,"color":"red"}])"));
  json full = Call("entities/get", {{"collectionName", "docs"}, {"id", 3}});
  EXPECT_EQ(full["data"], json::parse(R"([{"id":3,"color":"red","n":30,"vec":[3.0,1.0]}])"));
}

TEST_F(MilvusEntitiesTest, DeleteByFilterAndByIdsAndTheirErrors) {
  MakeDocs();
  EXPECT_EQ(Call("entities/delete", {{"collectionName", "docs"}, {"filter", "nosuchfield >"}})["code"],
            1100);
  EXPECT_EQ(Call("entities/delete", {{"collectionName", "docs"}})["code"], 1802);
  EXPECT_EQ(Call("entities/delete", {{"collectionName", "docs"}, {"filter", ""}})["code"], 1100);
  EXPECT_EQ(Call("entities/delete", {{"collectionName", "nope"}, {"filter", "id > 1"}})["code"], 100);
  EXPECT_EQ(Count(), 10);  // nothing was deleted by the failed calls
  json r = Call("entities/delete", {{"collectionName", "docs"}, {"filter", "n > 70"}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  EXPECT_EQ(r["data"]["deleteCount"], 3);
  EXPECT_EQ(Count(), 7);
  r = Call("entities/delete", {{"collectionName", "docs"}, {"id", {1, 2, 42}}});
  EXPECT_EQ(r["data"]["deleteCount"], 2);
  EXPECT_EQ(Count(), 5);
  json s = Call("entities/search", {{"collectionName", "docs"}, {"data", {{0, 1}}}, {"limit", 1}});
  EXPECT_EQ(s["data"][0]["id"], 3);  // deleted rows never come back
}

TEST_F(MilvusEntitiesTest, HybridSearchFusesWithRrfAndWeighted) {
  MakeDocs();
  // Sub-search A ranks 1,2,3 (near (0,1)); B ranks 10,9,8 (near (11,1)) and,
  // restricted by a filter, B' ranks 3,2,4 (near (3,1), ids < 5).
  json a = {{"data", {{0, 1}}}, {"annsField", "vec"}, {"limit", 3}};
  json b = {{"data", {{3, 1}}}, {"annsField", "vec"}, {"limit", 3}, {"filter", "id < 5"}};
  json r = Call("entities/hybrid_search",
                {{"collectionName", "docs"},
                 {"search", {a, b}},
                 {"rerank", {{"strategy", "rrf"}, {"params", {{"k", 60}}}}},
                 {"limit", 3},
                 {"outputFields", {"color"}}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  // A: 1 (rank1), 2 (rank2), 3 (rank3); B: 3 (rank1), 2 or 4 (rank2/3).
  // 2 and 3 appear in both lists: 3 = 1/63 + 1/61, 2 = 1/62 + 1/62 (or 1/63).
  ASSERT_EQ(r["data"].size(), 3u);
  EXPECT_EQ(r["topks"], json::array({3}));
  std::set<int> top2 = {r["data"][0]["id"].get<int>(), r["data"][1]["id"].get<int>()};
  EXPECT_EQ(top2, (std::set<int>{2, 3}));
  EXPECT_NEAR(r["data"][0]["distance"].get<double>(), 1.0 / 63 + 1.0 / 61, 1e-6);
  EXPECT_TRUE(r["data"][0].contains("color"));

  json w = Call("entities/hybrid_search",
                {{"collectionName", "docs"},
                 {"search", {a, b}},
                 {"rerank", {{"strategy", "weighted"}, {"params", {{"weights", {1.0, 0.0}}}}}},
                 {"limit", 2}});
  ASSERT_EQ(w["code"], 0) << w.dump();
  // Only A counts: L2 distances 1 and 4 normalise to 1 - 2 atan(d) / pi.
  EXPECT_EQ(w["data"][0]["id"], 1);
  EXPECT_NEAR(w["data"][0]["distance"].get<double>(), 1 - 2 * std::atan(1.0) / M_PI, 1e-6);
  EXPECT_NEAR(w["data"][1]["distance"].get<double>(), 1 - 2 * std::atan(4.0) / M_PI, 1e-6);

  struct Case {
    json body;
    int code;
  };
  std::vector<Case> cases = {
      {{{"collectionName", "docs"}}, 1802},
      {{{"collectionName", "docs"}, {"search", json::array()}}, 1100},
      {{{"collectionName", "docs"}, {"search", {a}}, {"rerank", {{"strategy", "max"}}}}, 1100},
      {{{"collectionName", "docs"},
        {"search", {a, b}},
        {"rerank", {{"strategy", "weighted"}, {"params", {{"weights", {0.5}}}}}}},
       1100},
      {{{"collectionName", "docs"},
        {"search", {a}},
        {"rerank", {{"strategy", "rrf"}, {"params", {{"k", -1}}}}}},
       1100},
      {{{"collectionName", "docs"}, {"search", {{{"data", {{1, 2, 3}}}}}}}, 1100},
  };
  for (const auto& c : cases) {
    json reply = Call("entities/hybrid_search", c.body);
    EXPECT_EQ(reply["code"], c.code) << c.body.dump() << " -> " << reply.dump();
  }
}

TEST_F(MilvusEntitiesTest, OversizeBodyIsRefusedAndStoresNothing) {
  Stop();
  max_body_bytes_ = 4096;
  Start();
  MakeDocs();
  json rows = json::array();
  for (int i = 100; i < 190; ++i) {
    rows.push_back({{"id", i}, {"color", "sixteen-chars-xx"}, {"n", 1}, {"vec", {1, 1}}});
  }
  ASSERT_GT(rows.dump().size(), 4096u);  // over the body limit, under max_rows_per_insert
  json r = Call("entities/insert", {{"collectionName", "docs"}, {"data", rows}});
  EXPECT_EQ(r["code"], 1100) << r.dump();
  EXPECT_NE(r.value("message", "").find("max_body_bytes"), std::string::npos);
  EXPECT_EQ(Count(), 10);
}

}  // namespace
}  // namespace ark::server
