// The simdjson request path (milvus_fast_request.h) against the generic
// nlohmann path: the same RowBatch row for row on valid input, no fast result
// (so the generic path answers) on anything the generic path refuses, and,
// through two real servers over one database (fast parsing on and off), the
// same reply envelopes for valid and invalid insert/upsert/search bodies.
#include "server/milvus_fast_request.h"

#include <gtest/gtest.h>

#include "milvus_fixture.h"
#include "server/milvus_request.h"

namespace ark::server {
namespace {

using nlohmann::json;

// Every field type, dynamic on.
CollectionSchema AllTypes() {
  CollectionSchema s;
  s.fields = {{"id", DataType::kInt64, true, 0, 0, ""},
              {"b", DataType::kBool, false, 0, 0, ""},
              {"i8", DataType::kInt8, false, 0, 0, ""},
              {"i16", DataType::kInt16, false, 0, 0, ""},
              {"i32", DataType::kInt32, false, 0, 0, ""},
              {"i64", DataType::kInt64, false, 0, 0, ""},
              {"f", DataType::kFloat, false, 0, 0, ""},
              {"d", DataType::kDouble, false, 0, 0, ""},
              {"s", DataType::kVarChar, false, 64, 0, ""},
              {"j", DataType::kJson, false, 0, 0, ""},
              {"v", DataType::kFloatVector, false, 0, 3, ""}};
  s.enable_dynamic_field = true;
  return s;
}

// Both paths over the `data` of `body`: the fast one must give a batch equal
// to RowBatchFromJson's.
void ExpectSameBatch(const CollectionSchema& schema, const std::string& body,
                     WriteKind kind = WriteKind::kInsert) {
  json parsed_body;
  std::string raw = body;
  raw.reserve(raw.size() + kBodyPadding);
  auto parsed = ParseWriteBody(raw, &parsed_body);
  ASSERT_NE(parsed, nullptr) << body;
  auto* fast = dynamic_cast<FastWriteRequest*>(parsed.get());
  ASSERT_TRUE(fast->has_data);
  EXPECT_FALSE(parsed_body.contains("data"));
  std::optional<RowBatch> got = RowBatchFromDom(schema, fast->data, kind, 1000);
  ASSERT_TRUE(got.has_value()) << "fast path refused valid input " << body;

  json full = json::parse(body);
  json rows = full["data"].is_array() ? full["data"] : json::array({full["data"]});
  auto want = RowBatchFromJson(schema, "c", rows, kind);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  EXPECT_EQ(got->num_rows, want->num_rows);
  ASSERT_EQ(got->columns.size(), want->columns.size());
  for (size_t c = 0; c < got->columns.size(); ++c) {
    EXPECT_EQ(got->columns[c], want->columns[c]) << "column " << c << " of " << body;
  }
  EXPECT_TRUE(*got == *want);
}

// The fast path must refuse what RowBatchFromJson refuses.
void ExpectBothRefuse(const CollectionSchema& schema, const std::string& data,
                      WriteKind kind = WriteKind::kInsert, size_t max_rows = 1000) {
  std::string raw = R"({"collectionName":"c","data":)" + data + "}";
  json parsed_body;
  auto parsed = ParseWriteBody(raw, &parsed_body);
  ASSERT_NE(parsed, nullptr) << raw;
  auto* fast = dynamic_cast<FastWriteRequest*>(parsed.get());
  EXPECT_FALSE(fast->has_data && RowBatchFromDom(schema, fast->data, kind, max_rows).has_value())
      << "fast path accepted " << data;
  json d = json::parse(data);
  json rows = d.is_array() ? d : json::array({d});
  bool generic_refuses = d.is_null() || rows.empty() || rows.size() > max_rows ||
                         !RowBatchFromJson(schema, "c", rows, kind).ok();
  EXPECT_TRUE(generic_refuses) << "test case is valid for the generic path: " << data;
}

TEST(FastRowBatchTest, EveryFieldTypeEqualsTheGenericPath) {
  ExpectSameBatch(AllTypes(), R"({"collectionName":"c","data":[
    {"id":1,"b":true,"i8":-128,"i16":32767,"i32":-2147483648,"i64":9223372036854775807,
     "f":0.1,"d":0.1,"s":"plain","j":{"k":[1,2.5,"x",null,true]},"v":[0.5,-1,2e-3]},
    {"id":-9223372036854775808,"b":false,"i8":127,"i16":-32768,"i32":2147483647,"i64":-1,
     "f":16777217,"d":1e300,"s":"q\"b\\s/\n\t\u00e9\ud83d\ude00 日本","j":"just a string",
     "v":[1,2,3]},
    {"id":3,"b":true,"i8":0,"i16":-0,"i32":0,"i64":0,"f":-0.0,"d":-0,"s":"",
     "j":{"b":1,"a":{"z":-0,"y":1.0,"x":1E2},"a":[9223372036854775808]},"v":[3.4028235e38,-1.5e-45,0]}
  ]})");
}

TEST(FastRowBatchTest, DynamicFieldsMergeLikeTheGenericPath) {
  ExpectSameBatch(AllTypes(), R"({"collectionName":"c","data":[
    {"id":1,"b":true,"i8":1,"i16":1,"i32":1,"i64":1,"f":1,"d":1,"s":"a","j":{},"v":[1,2,3],
     "zeta":1,"alpha":{"n":[1,{"m":"\u0000"}]},"tag":"x","tag":"last wins","neg":-0,
     "big":18446744073709551615,"f2":2.5e-300},
    {"id":2,"b":false,"i8":1,"i16":1,"i32":1,"i64":1,"f":1,"d":1,"s":"b","j":[],"v":[1,2,3]},
    {"id":3,"id":4,"b":false,"i8":1,"i16":1,"i32":1,"i64":1,"f":1,"d":1,"s":"dup","s":"c","j":0,
     "v":[9,9,9],"v":[1,2,3]}
  ]})");
}

TEST(FastRowBatchTest, SingleRowObjectAutoIdUpsertAndVarCharKeys) {
  CollectionSchema auto_id;
  auto_id.fields = {{"id", DataType::kInt64, true, 0, 0, ""},
                    {"v", DataType::kFloatVector, false, 0, 2, ""}};
  auto_id.auto_id = true;
  ExpectSameBatch(auto_id, R"({"data":{"v":[1,2]}})");
  ExpectSameBatch(auto_id, R"({"data":[{"v":[1,2]},{"v":[3,4]}]})");
  ExpectSameBatch(auto_id, R"({"data":[{"id":7,"v":[1,2]}]})", WriteKind::kUpsert);
  CollectionSchema text_key;
  text_key.fields = {{"pk", DataType::kVarChar, true, 32, 0, ""},
                     {"v", DataType::kFloatVector, false, 0, 2, ""}};
  ExpectSameBatch(text_key, R"({"data":[{"pk":"a\u00e9\"","v":[1,2]},{"pk":"","v":[0,0]}]})");
}

TEST(FastRowBatchTest, InvalidRowsAreLeftToTheGenericPath) {
  const CollectionSchema s = AllTypes();
  const std::string good =
      R"("id":1,"b":true,"i8":1,"i16":1,"i32":1,"i64":1,"f":1,"d":1,"s":"a","j":1,"v":[1,2,3])";
  auto row = [&](const std::string& extra) { return "[{" + good + "," + extra + "}]"; };
  // Wrong types, one per field kind (a later key replaces the good value).
  for (const char* bad :
       {R"("id":"1")", R"("id":1.0)", R"("id":1e2)", R"("id":9223372036854775808)", R"("b":1)",
        R"("b":"true")", R"("i8":128)", R"("i8":-129)", R"("i16":32768)",
        R"("i32":2147483648)", R"("i64":"12")", R"("f":"1.5")", R"("f":true)", R"("d":[1])",
        R"("s":1)", R"("s":null)", R"("j":null)", R"("v":[1,2])", R"("v":[1,2,3,4])",
        R"("v":[1,"2",3])", R"("v":[1,[2],3])", R"("v":[1,null,3])", R"("v":"1,2,3")",
        R"("v":{"0":1})", R"("$meta":{})"}) {
    ExpectBothRefuse(s, row(bad));
  }
  ExpectBothRefuse(s, "[{" + std::string(R"("id":1)") + "}]");  // missing fields
  ExpectBothRefuse(s, "[]");
  ExpectBothRefuse(s, "null");
  ExpectBothRefuse(s, "[1]");
  ExpectBothRefuse(s, R"(["row"])");
  ExpectBothRefuse(s, "7");
  ExpectBothRefuse(s, "[{" + good + "},{" + good + "}]", WriteKind::kInsert, /*max_rows=*/1);
  CollectionSchema closed = s;
  closed.enable_dynamic_field = false;
  ExpectBothRefuse(closed, row(R"("extra":1)"));
  CollectionSchema auto_id = closed;
  auto_id.auto_id = true;
  ExpectBothRefuse(auto_id, "[{" + good + "}]");  // key given on insert
  std::string no_key = good.substr(good.find(',') + 1);
  ExpectBothRefuse(auto_id, "[{" + no_key + "}]", WriteKind::kUpsert);  // key missing on upsert
}

TEST(FastRowBatchTest, BodiesTheGenericParseRefusesAreNotTaken) {
  json small;
  for (const std::string& body :
       {std::string(R"({"collectionName":"c","data":[{"id":1,)"),  // truncated
        std::string(R"({"collectionName":"c","data":[{"v":[NaN]}]})"),
        std::string(R"({"collectionName":"c","data":[{"v":[Infinity]}]})"),
        std::string(R"({"collectionName":"c","data":[{"v":[1e400]}]})"),
        std::string("{\"collectionName\":\"c\xff\",\"data\":[]}"),  // invalid UTF-8
        std::string(R"({"collectionName":"\ud800","data":[]})"),    // lone surrogate
        std::string(R"([{"collectionName":"c"}])"), std::string(R"("text")"),
        std::string(R"({"collectionName":"c"} trailing)"), std::string("{\"a\":1,}"),
        std::string(" ")}) {
    EXPECT_EQ(ParseWriteBody(body, &small), nullptr) << body;
    EXPECT_EQ(ParseSearchBody(body, &small), nullptr) << body;
    json generic = json::parse(body, nullptr, false);
    EXPECT_TRUE(generic.is_discarded() || !generic.is_object()) << body;
  }
  // Nesting deeper than simdjson's 1024 levels: left to nlohmann, which takes it.
  std::string deep = R"({"collectionName":"c","data":[{"x":)" + std::string(2000, '[') +
                     std::string(2000, ']') + "}]}";
  EXPECT_EQ(ParseWriteBody(deep, &small), nullptr);
  EXPECT_FALSE(json::parse(deep, nullptr, false).is_discarded());
  // -0 is a signed integer to nlohmann (limit -0 is "negative") but 0 to
  // simdjson: such a body goes the generic way; 0 and -0.5 do not.
  EXPECT_EQ(ParseSearchBody(R"({"collectionName":"c","limit":-0,"data":[[1]]})", &small), nullptr);
  EXPECT_NE(ParseSearchBody(R"({"collectionName":"c","limit":0,"offset":-0.5,"data":[[1]]})", &small),
            nullptr);
}

TEST(FastRowBatchTest, TopLevelMembersOtherThanDataStayForTheHandler) {
  json small;
  auto parsed = ParseWriteBody(
      R"({"dbName":"x","dbName":"db2","collectionName":"c","partitionName":"p1","data":[],"extra":{"n":-1},"data":null})",
      &small);
  ASSERT_NE(parsed, nullptr);
  auto* write = dynamic_cast<FastWriteRequest*>(parsed.get());
  EXPECT_FALSE(write->has_data);  // the last "data" wins, as in nlohmann
  EXPECT_EQ(write->partition_name, "p1");
  EXPECT_EQ(small, json::parse(R"({"dbName":"db2","collectionName":"c","partitionName":"p1","extra":{"n":-1}})"));
  EXPECT_TRUE(small["extra"]["n"].is_number_integer());

  parsed = ParseSearchBody(
      R"({"collectionName":"c","partitionNames":["a","b"],"limit":5,"data":[[1,2]]})", &small);
  ASSERT_NE(parsed, nullptr);
  auto* search = dynamic_cast<FastSearchRequest*>(parsed.get());
  EXPECT_EQ(search->partition_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(small["limit"].is_number_unsigned());  // as nlohmann parses 5
  size_t nq = 0;
  auto vectors = QueryVectorsFromDom(search->data, 2, &nq);
  ASSERT_TRUE(vectors.has_value());
  EXPECT_EQ(nq, 1u);
  EXPECT_EQ(*vectors, (std::vector<float>{1, 2}));
}

TEST(FastQueryVectorsTest, EqualToParseQueryVectorsOrRefused) {
  for (const std::string& data :
       {std::string("[[0.1,2,-3e-5],[1,1,1]]"), std::string("[0.5,-0.25,7]"),
        std::string("[[1,2,3]]"), std::string("[[1,2]]"), std::string("[[1,2,3],[4,5]]"),
        std::string("[]"), std::string("[[]]"), std::string("[1,[2],3]"), std::string("[[1,\"2\",3]]"),
        std::string("\"abc\""), std::string("[[1,2,3],7]"), std::string("{\"a\":1}")}) {
    std::string raw = R"({"collectionName":"c","data":)" + data + "}";
    json small;
    auto parsed = ParseSearchBody(raw, &small);
    ASSERT_NE(parsed, nullptr);
    size_t fast_nq = 0, generic_nq = 0;
    auto fast = QueryVectorsFromDom(dynamic_cast<FastSearchRequest*>(parsed.get())->data, 3, &fast_nq);
    auto generic = ParseQueryVectors(json::parse(data), "c", 3, &generic_nq);
    ASSERT_EQ(fast.has_value(), generic.ok()) << data;
    if (generic.ok()) {
      EXPECT_EQ(*fast, *generic) << data;
      EXPECT_EQ(fast_nq, generic_nq) << data;
    }
  }
}

// Two servers over one database: the fixture's (fast parsing on) and a
// reference with every body parsed by nlohmann.
class FastPathServerTest : public MilvusFixture {
 protected:
  void SetUp() override {
    MilvusFixture::SetUp();
    ServerConfig config;
    config.port = 0;
    config.access_log = false;
    config.limits.max_rows_per_insert = 100;
    reference_ = std::make_unique<HttpServer>(config, &metrics_);
    reference_->SetFastParsing(false);
    service_->Register(*reference_);
    ASSERT_OK(reference_->Bind());
    reference_thread_ = std::thread([this] { EXPECT_OK(reference_->Serve()); });
  }
  void TearDown() override {
    reference_->Stop();
    reference_thread_.join();
    reference_.reset();
    MilvusFixture::TearDown();
  }
  json CallReference(const std::string& route, const std::string& body) {
    httplib::Client c("127.0.0.1", reference_->port());
    auto r = c.Post(("/v2/vectordb/" + route).c_str(), body, "text/plain");
    EXPECT_TRUE(r);
    return r ? json::parse(r->body, nullptr, false) : json();
  }
  void Create(const std::string& name) {
    json body = json::parse(R"({"schema":{"enableDynamicField":true,"fields":[
        {"fieldName":"id","dataType":"Int64","isPrimary":true},
        {"fieldName":"s","dataType":"VarChar","elementTypeParams":{"max_length":32}},
        {"fieldName":"j","dataType":"JSON"},
        {"fieldName":"f","dataType":"Float"},
        {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
      "indexParams":[{"fieldName":"v","indexName":"v","metricType":"L2","params":{"index_type":"FLAT"}}]})");
    body["collectionName"] = name;
    ASSERT_EQ(Call("collections/create", body)["code"], 0);
  }
  json All(const std::string& name) {
    json r = Call("entities/query", {{"collectionName", name},
                                     {"filter", "id >= 0"},
                                     {"outputFields", {"*"}},
                                     {"limit", 100}});
    EXPECT_EQ(r["code"], 0) << r.dump();
    return r["data"];
  }

  std::unique_ptr<HttpServer> reference_;
  std::thread reference_thread_;
};

std::string WithCollection(std::string body, const std::string& name) {
  return R"({"collectionName":")" + name + "\"," + body.substr(1);
}

TEST_F(FastPathServerTest, ValidWritesStoreTheSameRowsAndAnswerTheSame) {
  Create("fast");
  Create("ref");
  const std::string data = R"({"data":[
      {"id":1,"s":"a\"\u00e9 日本","j":{"b":[1,2.5],"a":-0},"f":0.1,"v":[1,2],"tag":"x"},
      {"id":2,"s":"","j":"str","f":3,"v":[0.5,-1e-3],"n":{"deep":[true,null]}},
      {"id":9223372036854775807,"s":"max","j":[],"f":-2.5e10,"v":[3,4]}]})";
  for (const char* route : {"entities/insert", "entities/upsert"}) {
    json fast = CallRaw(route, WithCollection(data, "fast"));
    json ref = CallReference(route, WithCollection(data, "ref"));
    EXPECT_EQ(fast["code"], 0) << fast.dump();
    EXPECT_EQ(fast, ref);
  }
  EXPECT_EQ(All("fast"), All("ref"));
  EXPECT_EQ(All("fast").size(), 3u);
  json one = CallRaw("entities/insert", R"({"collectionName":"fast","data":{"id":5,"s":"o","j":1,"f":1,"v":[0,0]}})");
  EXPECT_EQ(one["data"]["insertIds"], json::array({5})) << one.dump();
}

TEST_F(FastPathServerTest, InvalidWritesAnswerTheSameCodeAndMessageAndStoreNothing) {
  Create("c");
  const std::string row = R"("s":"a","j":1,"f":1,"v":[1,2])";
  for (const std::string& body : {
           std::string(R"({"collectionName":"c","data":[{"id":"7",)" + row + "}]}"),
           std::string(R"({"collectionName":"c","data":[{"id":1.5,)" + row + "}]}"),
           std::string(R"({"collectionName":"c","data":[{"id":1,"s":"a","j":1,"f":"x","v":[1,2]}]})"),
           std::string(R"({"collectionName":"c","data":[{"id":1,"s":"a","j":1,"f":1,"v":[1,2,3]}]})"),
           std::string(R"({"collectionName":"c","data":[{"id":1,"s":"a","j":1,"f":1,"v":[1,"x"]}]})"),
           std::string(R"({"collectionName":"c","data":[{"id":1,"s":7,"j":1,"f":1,"v":[1,2]}]})"),
           std::string(R"({"collectionName":"c","data":[{"id":1,"s":"a","f":1,"v":[1,2]}]})"),
           std::string(R"({"collectionName":"c","data":[{"id":1,"$meta":1,)" + row + "}]}"),
           std::string(R"({"collectionName":"c","data":[{"id":1,)" + row + R"(},7]})"),
           std::string(R"({"collectionName":"c","data":[]})"),
           std::string(R"({"collectionName":"c","data":null})"),
           std::string(R"({"collectionName":"c"})"),
           std::string(R"({"collectionName":"c","data":"rows"})"),
           std::string(R"({"collectionName":"nope","data":[{"id":1,)" + row + "}]}"),
           std::string(R"({"collectionName":7,"data":[]})"),
           std::string(R"({"data":[{"id":1,)" + row + "}]}"),
           std::string(R"({"dbName":"nodb","collectionName":"c","data":[{"id":1,)" + row + "}]}"),
           std::string(R"({"collectionName":"c","data":[{"id":1,)" + row + "}"),  // truncated
           std::string(R"({"collectionName":"c","data":[{"id":1,"s":"a","j":1,"f":1,"v":[NaN,1]}]})"),
           std::string("{\"collectionName\":\"c\",\"data\":[{\"id\":1,\"s\":\"\xc3\x28\",\"j\":1,\"f\":1,\"v\":[1,2]}]}"),
           std::string(""), std::string("[]"), std::string("{} {}")}) {
    json fast = CallRaw("entities/insert", body);
    json ref = CallReference("entities/insert", body);
    EXPECT_NE(fast["code"], 0) << body.substr(0, 200);
    EXPECT_EQ(fast, ref) << body.substr(0, 200);
  }
  EXPECT_TRUE(All("c").empty());
  // Nesting beyond the depth limit (json_depth.h): both paths refuse it with
  // 1801 (a 10^5-deep body used to overflow nlohmann's recursive destructor).
  const std::string deep = R"({"collectionName":"c","data":[{"id":1,"s":"a","f":1,"v":[1,2],"j":)" +
                           std::string(1500, '[') + std::string(1500, ']') + "}]}";
  json deep_fast = CallRaw("entities/upsert", deep);
  EXPECT_EQ(deep_fast["code"], 1801) << deep_fast.dump();
  EXPECT_EQ(deep_fast, CallReference("entities/upsert", deep));
  // Just inside the limit: accepted by both.
  const std::string ok = R"({"collectionName":"c","data":[{"id":1,"s":"a","f":1,"v":[1,2],"j":)" +
                         std::string(40, '[') + std::string(40, ']') + "}]}";
  json ok_fast = CallRaw("entities/upsert", ok);
  EXPECT_EQ(ok_fast["code"], 0) << ok_fast.dump();
  EXPECT_EQ(ok_fast, CallReference("entities/upsert", ok));
  ASSERT_EQ(Call("entities/delete", {{"collectionName", "c"}, {"filter", "id >= 0"}})["code"], 0);
  EXPECT_TRUE(All("c").empty());
  // More rows than limits.max_rows_per_insert (100).
  std::string many = R"({"collectionName":"c","data":[)";
  for (int i = 0; i < 101; ++i) many += (i ? ",{\"id\":" : "{\"id\":") + std::to_string(i) + "," + row + "}";
  many += "]}";
  json fast = CallRaw("entities/upsert", many);
  EXPECT_EQ(fast["code"], 1804) << fast.dump().substr(0, 300);
  EXPECT_EQ(fast, CallReference("entities/upsert", many));
  EXPECT_TRUE(All("c").empty());
}

TEST_F(FastPathServerTest, SearchesAnswerTheSameOnBothPaths) {
  Create("c");
  ASSERT_EQ(CallRaw("entities/insert", R"({"collectionName":"c","data":[
      {"id":1,"s":"a","j":1,"f":1,"v":[1,2]},{"id":2,"s":"b","j":2,"f":2,"v":[3,4]},
      {"id":3,"s":"c","j":3,"f":3,"v":[-1,0]}]})")["code"], 0);
  for (const std::string& body : {
           std::string(R"({"collectionName":"c","data":[[1,2]],"limit":2,"outputFields":["*"]})"),
           std::string(R"({"collectionName":"c","data":[1,2],"limit":3})"),
           std::string(R"({"collectionName":"c","data":[[1,2],[3,4]],"filter":"id > 1","offset":0})"),
           std::string(R"({"collectionName":"c","data":[[1,2]],"annsField":"v","searchParams":{"metricType":"L2","params":{}}})"),
           std::string(R"({"collectionName":"c","data":[[1,2,3]]})"),
           std::string(R"({"collectionName":"c","data":[[1,"2"]]})"),
           std::string(R"({"collectionName":"c","data":[]})"),
           std::string(R"({"collectionName":"c","data":"abc"})"),
           std::string(R"({"collectionName":"c"})"),
           std::string(R"({"collectionName":"c","data":null})"),
           std::string(R"({"collectionName":"c","data":[[1,2]],"limit":-0})"),
           std::string(R"({"collectionName":"c","data":[[1,2]],"limit":-1})"),
           std::string(R"({"collectionName":"c","data":[[1,2]],"limit":"ten"})"),
           std::string(R"({"collectionName":"c","data":[[1,2]],"annsField":"s"})"),
           std::string(R"({"collectionName":"nope","data":[[1,2]]})"),
           std::string(R"({"collectionName":"c","data":[[1,2]],"filter":"s =="})"),
           std::string(R"({"collectionName":"c","data":[[1,2]])"),
           std::string("{\"collectionName\":\"c\xff\",\"data\":[[1,2]]}")}) {
    json fast = CallRaw("entities/search", body);
    json ref = CallReference("entities/search", body);
    EXPECT_EQ(fast, ref) << body;
  }
  json hit = CallRaw("entities/search", R"({"collectionName":"c","data":[[1,2]],"limit":1})");
  EXPECT_EQ(hit["code"], 0);
  EXPECT_EQ(hit["data"][0]["id"], 1) << hit.dump();
}

}  // namespace
}  // namespace ark::server
