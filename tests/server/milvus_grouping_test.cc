// entities/search with groupingField (grouping search) through a real
// HttpServer, checked against a brute-force oracle: the groups are the
// distinct values of the field in the order of their best hit, each holding
// its best groupSize hits; offset skips groups; a filter applies first.
#include <algorithm>
#include <map>
#include <random>

#include "milvus_fixture.h"

namespace ark::server {
namespace {

using nlohmann::json;

constexpr int kRows = 240;

class MilvusGroupingTest : public MilvusFixture {
 protected:
  // chunks: id Int64 pk, doc Int64 (i % 17), lang VarChar (i % 5), even Bool,
  // weight Float, meta JSON, vec FloatVector(4) random (seeded), FLAT/L2,
  // dynamic field on (key "extra" on every row).
  void MakeChunks() {
    json body = json::parse(R"({"collectionName":"chunks","schema":{"enableDynamicField":true,
      "fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
                {"fieldName":"doc","dataType":"Int64"},
                {"fieldName":"lang","dataType":"VarChar","elementTypeParams":{"max_length":16}},
                {"fieldName":"even","dataType":"Bool"},
                {"fieldName":"weight","dataType":"Float"},
                {"fieldName":"meta","dataType":"JSON"},
                {"fieldName":"vec","dataType":"FloatVector","elementTypeParams":{"dim":4}}]},
      "indexParams":[{"fieldName":"vec","indexName":"vec_idx","metricType":"L2",
                      "params":{"index_type":"FLAT"}}]})");
    ASSERT_EQ(Call("collections/create", body)["code"], 0);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    json rows = json::array();
    for (int i = 0; i < kRows; ++i) {
      std::vector<float> v(4);
      for (float& x : v) x = u(rng);
      vectors_.push_back(v);
      json r = {{"id", i},          {"doc", i % 17},      {"lang", "l" + std::to_string(i % 5)},
                {"even", i % 2 == 0}, {"weight", 0.5 * i}, {"meta", {{"i", i}}},
                {"vec", v},          {"extra", i}};
      rows.push_back(r);
      if (rows.size() == 100 || i == kRows - 1) {
        ASSERT_EQ(Call("entities/insert", {{"collectionName", "chunks"}, {"data", rows}})["code"], 0);
        rows = json::array();
      }
    }
  }

  // The oracle: ids grouped by `key(id)`, groups by best hit, best
  // `group_size` per group, groups [offset, offset + limit), rows with
  // keep(id) only.
  template <typename Key, typename Keep>
  std::vector<std::vector<int>> Expected(const std::vector<float>& q, Key key, Keep keep, size_t limit,
                                         size_t offset, size_t group_size) const {
    std::vector<std::pair<float, int>> all;
    for (int i = 0; i < kRows; ++i) {
      if (!keep(i)) continue;
      float d = 0;
      for (size_t j = 0; j < q.size(); ++j) d += (q[j] - vectors_[i][j]) * (q[j] - vectors_[i][j]);
      all.emplace_back(d, i);
    }
    std::sort(all.begin(), all.end());
    std::vector<std::vector<int>> groups;
    std::map<std::string, size_t> index;
    for (const auto& [d, i] : all) {
      auto [it, fresh] = index.emplace(key(i), groups.size());
      if (fresh) groups.emplace_back();
      if (groups[it->second].size() < group_size) groups[it->second].push_back(i);
    }
    std::vector<std::vector<int>> out;
    for (size_t g = offset; g < groups.size() && g < offset + limit; ++g) out.push_back(groups[g]);
    return out;
  }

  // The answer's hits of query `q` split into groups by `field` (consecutive
  // runs of one value); checks that no value appears in two runs.
  static std::vector<std::vector<int>> Groups(const json& r, size_t q, const std::string& field) {
    size_t start = 0;
    for (size_t i = 0; i < q; ++i) start += r["topks"][i].get<size_t>();
    std::vector<std::vector<int>> groups;
    std::vector<json> values;
    for (size_t i = start; i < start + r["topks"][q].get<size_t>(); ++i) {
      const json& hit = r["data"][i];
      EXPECT_TRUE(hit.contains(field)) << hit.dump();
      if (values.empty() || values.back() != hit[field]) {
        EXPECT_EQ(std::count(values.begin(), values.end(), hit[field]), 0) << "value split: " << hit.dump();
        values.push_back(hit[field]);
        groups.emplace_back();
      }
      groups.back().push_back(hit["id"].get<int>());
    }
    return groups;
  }

  json Search(json extra) {
    json body = {{"collectionName", "chunks"}, {"data", {vectors_[3], vectors_[100]}}, {"annsField", "vec"}};
    for (auto& [k, v] : extra.items()) body[k] = v;
    return Call("entities/search", body);
  }

  std::vector<std::vector<float>> vectors_;
};

auto ByDoc = [](int i) { return std::to_string(i % 17); };
auto All = [](int) { return true; };

TEST_F(MilvusGroupingTest, GroupsAreTheDistinctValuesBestFirstWithTheirBestHits) {
  MakeChunks();
  json r = Search({{"limit", 5}, {"groupingField", "doc"}, {"groupSize", 3}, {"strictGroupSize", true}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  ASSERT_EQ(r["topks"].size(), 2u);
  for (size_t q = 0; q < 2; ++q) {
    const auto& query = q == 0 ? vectors_[3] : vectors_[100];
    auto expected = Expected(query, ByDoc, All, 5, 0, 3);
    ASSERT_EQ(expected.size(), 5u);
    EXPECT_EQ(Groups(r, q, "doc"), expected) << "query " << q;
    EXPECT_EQ(r["topks"][q], 15);
  }
  // The distance of each hit is its own, ascending within a group (L2).
  EXPECT_FLOAT_EQ(r["data"][0]["distance"].get<float>(), 0.0f);
  EXPECT_LE(r["data"][1]["distance"].get<float>(), r["data"][2]["distance"].get<float>());
}

TEST_F(MilvusGroupingTest, OffsetSkipsGroupsAndAFilterAppliesFirst) {
  MakeChunks();
  json r = Search({{"limit", 4}, {"offset", 3}, {"filter", "id > 60"}, {"groupingField", "lang"},
                   {"groupSize", 2}, {"outputFields", {"weight"}}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  auto by_lang = [](int i) { return "\"l" + std::to_string(i % 5) + "\""; };
  auto keep = [](int i) { return i > 60; };
  for (size_t q = 0; q < 2; ++q) {
    const auto& query = q == 0 ? vectors_[3] : vectors_[100];
    auto expected = Expected(query, by_lang, keep, 4, 3, 2);
    ASSERT_EQ(expected.size(), 2u);  // five languages, three skipped
    EXPECT_EQ(Groups(r, q, "lang"), expected) << "query " << q;
  }
  EXPECT_TRUE(r["data"][0].contains("weight"));
  EXPECT_FALSE(r["data"][0].contains("doc"));
}

TEST_F(MilvusGroupingTest, BoolGroupsAndDefaultGroupSizeOfOne) {
  MakeChunks();
  json r = Search({{"limit", 10}, {"groupingField", "even"}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  auto parity = [](int i) { return std::to_string(i % 2); };
  for (size_t q = 0; q < 2; ++q) {
    const auto& query = q == 0 ? vectors_[3] : vectors_[100];
    EXPECT_EQ(Groups(r, q, "even"), Expected(query, parity, All, 10, 0, 1));
    EXPECT_EQ(r["topks"][q], 2);  // only two values exist
  }
}

TEST_F(MilvusGroupingTest, StrictSearchesDeeperUntilTheGroupsAreFull) {
  MakeChunks();
  // Make doc 0's third row the farthest of all: a first window of
  // limit x groupSize x 4 = 24 hits does not reach it.
  json far = {{"id", 0}, {"doc", 0}, {"lang", "l0"}, {"even", true}, {"weight", 0.0},
              {"meta", json::object()}, {"vec", {50, 50, 50, 50}}};
  vectors_[0] = {50, 50, 50, 50};
  ASSERT_EQ(Call("entities/upsert", {{"collectionName", "chunks"}, {"data", {far}}})["code"], 0);
  // The query is a doc-0 row, so doc 0 is the best group.
  json body = {{"collectionName", "chunks"}, {"data", {vectors_[17]}}, {"limit", 2}, {"groupingField", "doc"},
               {"groupSize", 3}};
  auto wanted = [&](size_t group_size) { return Expected(vectors_[17], ByDoc, All, 2, 0, group_size); };
  const size_t doc0_rows = (kRows + 16) / 17;  // ids 0, 17, 34, ...
  ASSERT_GE(doc0_rows, 3u);
  body["strictGroupSize"] = true;
  json strict = Call("entities/search", body);
  ASSERT_EQ(strict["code"], 0) << strict.dump();
  EXPECT_EQ(Groups(strict, 0, "doc"), wanted(3));
  // Larger groups than rows: every row of the group, and the search stops.
  body["groupSize"] = 20;
  strict = Call("entities/search", body);
  ASSERT_EQ(strict["code"], 0) << strict.dump();
  auto all_of = Groups(strict, 0, "doc");
  ASSERT_EQ(all_of.size(), 2u);
  EXPECT_EQ(all_of[0].size(), doc0_rows);
  EXPECT_EQ(all_of[0].back(), 0);  // the far row, found by the deeper search
  EXPECT_EQ(all_of, wanted(20));
  // Not strict: enough groups end the search; a group holds the hits of the
  // first window (160 of 240 rows), a prefix of its best ones.
  body["strictGroupSize"] = false;
  json loose = Call("entities/search", body);
  ASSERT_EQ(loose["code"], 0) << loose.dump();
  auto some = Groups(loose, 0, "doc");
  ASSERT_EQ(some.size(), 2u);
  ASSERT_LT(some[0].size(), doc0_rows);
  EXPECT_TRUE(std::equal(some[0].begin(), some[0].end(), all_of[0].begin()));
}

TEST_F(MilvusGroupingTest, StringInt64ValuesWhenTheClientAsksForThem) {
  MakeChunks();
  json body = {{"collectionName", "chunks"}, {"data", {vectors_[3]}}, {"limit", 2}, {"groupingField", "doc"}};
  auto r = Call("entities/search", body, {{"Accept-Type-Allow-Int64", "false"}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  EXPECT_EQ(r["data"][0]["doc"], "3");
}

TEST_F(MilvusGroupingTest, BadGroupingParametersAre1100NamingThemAndHybridRefusesGrouping) {
  MakeChunks();
  struct Case {
    json extra;
    std::string needle;
  };
  std::vector<Case> cases = {
      {{{"groupingField", "nope"}}, "nope"},
      {{{"groupingField", "vec"}}, "vec"},
      {{{"groupingField", "meta"}}, "meta"},
      {{{"groupingField", "weight"}}, "weight"},
      {{{"groupingField", "extra"}}, "extra"},  // a dynamic key
      {{{"groupingField", 5}}, "groupingField"},
      {{{"groupingField", "doc"}, {"groupSize", 0}}, "groupSize"},
      {{{"groupingField", "doc"}, {"groupSize", -2}}, "groupSize"},
      {{{"groupingField", "doc"}, {"groupSize", "3"}}, "groupSize"},
      {{{"groupingField", "doc"}, {"groupSize", 16384}, {"limit", 2}}, "groupSize"},
      {{{"groupingField", "doc"}, {"strictGroupSize", "yes"}}, "strictGroupSize"},
  };
  for (const Case& c : cases) {
    json r = Search(c.extra);
    EXPECT_EQ(r["code"], 1100) << c.extra.dump() << " -> " << r.dump();
    EXPECT_NE(r.value("message", "").find(c.needle), std::string::npos) << r.dump();
  }
  json hybrid = {{"collectionName", "chunks"},
                 {"search", {{{"data", {vectors_[3]}}, {"annsField", "vec"}, {"limit", 3}}}},
                 {"groupingField", "doc"}};
  json r = Call("entities/hybrid_search", hybrid);
  EXPECT_EQ(r["code"], 1100) << r.dump();
  EXPECT_NE(r.value("message", "").find("groupingField"), std::string::npos) << r.dump();
  hybrid.erase("groupingField");
  hybrid["search"][0]["groupingField"] = "doc";
  r = Call("entities/hybrid_search", hybrid);
  EXPECT_EQ(r["code"], 1100) << r.dump();
  // Nothing was changed by the refusals.
  json count = Call("entities/query", {{"collectionName", "chunks"}, {"filter", ""}, {"outputFields", {"count(*)"}}});
  EXPECT_EQ(count["data"][0]["count(*)"], kRows);
}

TEST_F(MilvusGroupingTest, SealedSegmentsGroupAsTheGrowingOneDoes) {
  MakeChunks();
  json q = {{"limit", 6}, {"groupingField", "doc"}, {"groupSize", 2}, {"strictGroupSize", true}};
  json growing = Search(q);
  ASSERT_EQ(growing["code"], 0) << growing.dump();
  ASSERT_EQ(Call("collections/flush", {{"collectionName", "chunks"}})["code"], 0);
  while (db_->RunIndexBuild()) {
  }
  json sealed = Search(q);
  ASSERT_EQ(sealed["code"], 0) << sealed.dump();
  EXPECT_EQ(Groups(sealed, 0, "doc"), Groups(growing, 0, "doc"));
  EXPECT_EQ(Groups(sealed, 1, "doc"), Groups(growing, 1, "doc"));
  EXPECT_EQ(Groups(sealed, 0, "doc"), Expected(vectors_[3], ByDoc, All, 6, 0, 2));
}

}  // namespace
}  // namespace ark::server
