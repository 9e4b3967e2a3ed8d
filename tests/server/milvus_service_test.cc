#include "server/milvus_service.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "milvus_fixture.h"

namespace ark::server {
namespace {

using nlohmann::json;

// The shared route fixture (milvus_fixture.h): a real Database behind a real
// HTTP server on loopback.
class MilvusServiceTest : public MilvusFixture {
 protected:
  std::string StoredState() {  // what a client can see, to prove a failed call changed nothing
    return Call("entities/get", {{"collectionName", "docs"}, {"id", {1, 2, 3, 4, 5}}}).dump();
  }
};

TEST_F(MilvusServiceTest, QuickCreateInsertGetStatsAcrossRestart) {
  EXPECT_EQ(Call("collections/create", {{"collectionName", "docs"}, {"dimension", 4}})["code"], 0);
  EXPECT_EQ(Call("collections/list", json::object())["data"], json::array({"docs"}));
  EXPECT_EQ(Call("collections/has", {{"collectionName", "docs"}})["data"]["has"], true);
  json ins = Call("entities/insert",
                  {{"collectionName", "docs"},
                   {"data", {{{"id", 1}, {"vector", {1, 0, 0, 0}}, {"color", "red"}},
                             {{"id", 2}, {"vector", {0, 1, 0, 0}}}}}});
  EXPECT_EQ(ins["data"]["insertCount"], 2);
  EXPECT_EQ(ins["data"]["insertIds"], json::array({1, 2}));
  Stop();
  Start();
  EXPECT_EQ(Call("collections/get_stats", {{"collectionName", "docs"}})["data"]["rowCount"], 2);
  json got = Call("entities/get", {{"collectionName", "docs"}, {"id", {2, 1, 7}}},
                  {{"Accept-Type-Allow-Int64", "false"}});
  ASSERT_EQ(got["data"].size(), 2u);
  EXPECT_EQ(got["data"][0]["id"], "2");
  EXPECT_EQ(got["data"][1]["color"], "red");
}

TEST_F(MilvusServiceTest, FullSchemaCreateAndDescribe) {
  json body = json::parse(R"({"collectionName":"kb","schema":{"autoID":true,"enableDynamicField":false,
    "fields":[{"fieldName":"pk","dataType":"Int64","isPrimary":true},
              {"fieldName":"title","dataType":"VarChar","elementTypeParams":{"max_length":8}},
              {"fieldName":"vec","dataType":"FloatVector","elementTypeParams":{"dim":"3"}}]}})");
  ASSERT_EQ(Call("collections/create", body)["code"], 0);
  json d = Call("collections/describe", {{"collectionName", "kb"}})["data"];
  EXPECT_EQ(d["autoId"], true);
  EXPECT_EQ(d["fields"].size(), 3u);
  EXPECT_EQ(d["fields"][2]["params"][0]["value"], "3");
  json ins = Call("entities/insert", {{"collectionName", "kb"},
                                      {"data", {{{"title", "a"}, {"vec", {1, 2, 3}}}}}});
  EXPECT_EQ(ins["code"], 0);
  EXPECT_EQ(ins["data"]["insertIds"].size(), 1u);
  // VarChar too long is an insert data error naming the field.
  json bad = Call("entities/insert", {{"collectionName", "kb"},
                                      {"data", {{{"title", "far too long"}, {"vec", {1, 2, 3}}}}}});
  EXPECT_EQ(bad["code"], 1804);
  EXPECT_NE(bad["message"].get<std::string>().find("title"), std::string::npos);
}

TEST_F(MilvusServiceTest, BadRequestsGetMilvusCodesAndStoreNothing) {
  ASSERT_EQ(Call("collections/create", {{"collectionName", "docs"}, {"dimension", 2}})["code"], 0);
  ASSERT_EQ(Call("entities/insert", {{"collectionName", "docs"},
                                     {"data", {{{"id", 1}, {"vector", {1, 2}}}}}})["code"],
            0);
  const std::string before = StoredState();
  struct Case {
    const char* route;
    json body;
    int code;
    const char* text;
  };
  std::vector<Case> cases = {
      {"entities/insert", {{"collectionName", "docs"}, {"data", {{{"id", 1}, {"vector", {3, 4}}}}}},
       1806, "already exists"},
      {"entities/insert", {{"collectionName", "docs"}, {"data", {{{"id", 2}, {"vector", {3}}}}}},
       1804, "dimension mismatch"},
      {"entities/insert", {{"collectionName", "docs"}, {"data", {{{"id", "x"}, {"vector", {3, 4}}}}}},
       1804, "id"},
      {"entities/insert", {{"collectionName", "docs"}}, 1802, "data is required"},
      {"entities/insert", {{"collectionName", "nope"}, {"data", json::array()}}, 100,
       "can't find collection[database=default][collection=nope]"},
      {"entities/insert", {{"collectionName", "docs"}, {"data", json::array()}}, 1804, "empty"},
      {"entities/insert",
       {{"collectionName", "docs"},
        {"data", json(std::vector<json>(101, {{"id", 5}, {"vector", {1, 1}}}))}},
       1804, "max_rows_per_insert"},
      {"entities/get", {{"collectionName", "docs"}, {"id", {"abc"}}}, 1100, "not a valid Int64"},
      {"collections/create", {{"collectionName", "docs"}, {"dimension", 2}}, 1100, "docs"},
      {"collections/create", {{"collectionName", "bad/name"}, {"dimension", 2}}, 1100, "bad/name"},
      {"collections/create", {{"collectionName", "z"}, {"dimension", 0}}, 1100, "dimension"},
      {"collections/create", {{"collectionName", "z"}}, 1100, "dimension"},
      {"collections/create", {{"dimension", 3}}, 1802, "collectionName is required"},
      {"collections/describe", {{"collectionName", 7}}, 1100, "collectionName"},
  };
  for (const auto& c : cases) {
    json reply = Call(c.route, c.body);
    EXPECT_EQ(reply["code"], c.code) << c.route << " " << c.body.dump() << " -> " << reply.dump();
    EXPECT_NE(reply.value("message", "").find(c.text), std::string::npos)
        << c.route << " -> " << reply.dump();
  }
  EXPECT_EQ(StoredState(), before);
  EXPECT_EQ(Call("collections/list", json::object())["data"], json::array({"docs"}));
}

TEST_F(MilvusServiceTest, LoadReleaseRenameDropAndDatabases) {
  ASSERT_EQ(Call("collections/create", {{"collectionName", "a"}, {"dimension", 2}})["code"], 0);
  ASSERT_OK(db_->CreateDatabase("other").status());  // databases must exist (databases/create)
  ASSERT_EQ(Call("collections/create",
                 {{"dbName", "other"}, {"collectionName", "a"}, {"dimension", 2}})["code"],
            0);
  EXPECT_EQ(Call("collections/release", {{"collectionName", "a"}})["code"], 0);
  EXPECT_EQ(Call("collections/get_load_state", {{"collectionName", "a"}})["data"]["loadState"],
            "LoadStateNotLoad");
  EXPECT_EQ(Call("collections/load", {{"collectionName", "a"}})["code"], 0);
  EXPECT_EQ(Call("collections/get_load_state", {{"collectionName", "a"}})["data"]["loadState"],
            "LoadStateLoaded");
  EXPECT_EQ(Call("collections/flush", {{"collectionName", "a"}})["code"], 0);
  EXPECT_EQ(Call("collections/rename", {{"collectionName", "a"}, {"newCollectionName", "b"}})["code"],
            0);
  EXPECT_EQ(Call("collections/list", json::object())["data"], json::array({"b"}));
  EXPECT_EQ(Call("collections/list", {{"dbName", "other"}})["data"], json::array({"a"}));
  EXPECT_EQ(Call("collections/drop", {{"collectionName", "b"}})["code"], 0);
  EXPECT_EQ(Call("collections/drop", {{"collectionName", "b"}})["code"], 100);
  EXPECT_EQ(Call("collections/list", json::object())["data"], json::array());
}

}  // namespace
}  // namespace ark::server
