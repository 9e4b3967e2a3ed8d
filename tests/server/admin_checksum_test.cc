// collections/checksum and the drills' data verification (dr/drill/
// data_check.h) against a real server: the route answers what the engine
// computes, names what it cannot find, and a fingerprint compared after a
// change of content or of a vector reports the collection and the sample.
#include <gtest/gtest.h>
#include <httplib.h>

#include "dr/drill/data_check.h"
#include "engine/content_checksum.h"
#include "milvus_fixture.h"
#include "server/admin_checksum.h"
#include "storage/env.h"

namespace ark::server {
namespace {

using nlohmann::json;

class AdminChecksumTest : public MilvusFixture {
 protected:
  void RegisterMore(HttpServer& http) override { RegisterChecksumRoutes(http, db_.get()); }
  json Admin(const std::string& route, const std::string& body) {
    httplib::Client c("127.0.0.1", http_->port());
    auto r = c.Post(("/ark/v1/" + route).c_str(), body, "application/json");
    EXPECT_TRUE(r);
    if (!r) return json();
    return json::parse(r->body, nullptr, false);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(http_->port()); }
  void CreateAndFill(const std::string& name, int rows) {
    ASSERT_EQ(Call("collections/create", {{"collectionName", name}, {"dimension", 4}})["code"], 0);
    json data = json::array();
    for (int i = 0; i < rows; ++i) {
      data.push_back({{"id", i}, {"vector", {i * 1.0, i * 0.5, 1.0, -i * 0.25}}, {"title", "t" + std::to_string(i)}});
    }
    ASSERT_EQ(Call("entities/insert", {{"collectionName", name}, {"data", data}})["code"], 0);
  }
};

TEST_F(AdminChecksumTest, AnswersWhatTheEngineComputesForOneOrEveryCollection) {
  CreateAndFill("docs", 20);
  CreateAndFill("faq", 5);
  ASSERT_OK(db_->CreateDatabase("kb").status());
  ASSERT_EQ(Call("collections/create", {{"dbName", "kb"}, {"collectionName", "docs"}, {"dimension", 4}})["code"], 0);

  auto snap = db_->GetSnapshot("", "docs");
  ASSERT_OK(snap.status());
  const ContentChecksum want = ComputeContentChecksum(**snap);
  json one = Admin("collections/checksum", R"({"collectionName":"docs"})");
  ASSERT_EQ(one["code"], 0) << one.dump();
  ASSERT_EQ(one["data"]["collections"].size(), 1u);
  EXPECT_EQ(one["data"]["collections"][0]["checksum"], want.checksum);
  EXPECT_EQ(one["data"]["collections"][0]["rows"], 20);
  EXPECT_EQ(one["data"]["collections"][0]["database"], "default");

  json all = Admin("collections/checksum", "{}");
  ASSERT_EQ(all["code"], 0) << all.dump();
  EXPECT_EQ(all["data"]["collections"].size(), 3u);
  json kb = Admin("collections/checksum", R"({"dbName":"kb"})");
  ASSERT_EQ(kb["data"]["collections"].size(), 1u);
  EXPECT_EQ(kb["data"]["collections"][0]["rows"], 0);
  EXPECT_NE(kb["data"]["collections"][0]["checksum"], want.checksum);
}

TEST_F(AdminChecksumTest, BadInputIsNamed) {
  CreateAndFill("docs", 3);
  json missing = Admin("collections/checksum", R"({"collectionName":"nope"})");
  EXPECT_NE(missing["code"], 0);
  EXPECT_NE(missing["message"].get<std::string>().find("nope"), std::string::npos) << missing.dump();
  json db = Admin("collections/checksum", R"({"dbName":"nodb"})");
  EXPECT_NE(db["code"], 0);
  EXPECT_NE(db["message"].get<std::string>().find("nodb"), std::string::npos) << db.dump();
  json type = Admin("collections/checksum", R"({"collectionName":7})");
  EXPECT_NE(type["code"], 0);
  EXPECT_NE(type["message"].get<std::string>().find("collectionName"), std::string::npos) << type.dump();
  json array = Admin("collections/checksum", "[1]");
  EXPECT_NE(array["code"], 0);
}

TEST_F(AdminChecksumTest, AFingerprintComparedAfterAChangeNamesTheCollectionAndTheSample) {
  CreateAndFill("docs", 30);
  CreateAndFill("faq", 10);
  CreateAndFill("ark_drill_probe", 2);
  auto before = dr::TakeFingerprint(Url(), "", "", {"ark_drill_probe"}, 3);
  ASSERT_OK(before.status());
  ASSERT_EQ(before->collections.size(), 2u);
  for (const auto& c : before->collections) {
    EXPECT_EQ(c.vector_field, "vector");
    EXPECT_EQ(c.samples.size(), 3u) << c.name;
    for (const auto& s : c.samples) EXPECT_FALSE(s.ids.empty());
  }

  {  // Unchanged: both checks pass, the findings say so.
    dr::DrillReport report(Env::Default(), "test");
    auto findings = dr::CompareFingerprint(Url(), *before, "", "", &report);
    EXPECT_TRUE(report.passed()) << report.FailureSummary();
    auto f = findings.at({"default", "docs"});
    EXPECT_EQ(f["contentMatches"], true);
    EXPECT_EQ(f["sampleSearchesSame"], 3);
  }

  // One row's vector changes: the content and its own sample search differ.
  const std::string changed = before->collections[0].name;
  json row = Call("entities/query", {{"collectionName", changed}, {"filter", ""}, {"limit", 1}, {"outputFields", {"id"}}});
  ASSERT_EQ(row["code"], 0);
  const json id = row["data"][0]["id"];
  ASSERT_EQ(Call("entities/upsert", {{"collectionName", changed},
                                     {"data", {{{"id", id}, {"vector", {9.0, 9.0, 9.0, 9.0}}, {"title", "moved"}}}}})["code"],
            0);
  dr::DrillReport report(Env::Default(), "test");
  auto findings = dr::CompareFingerprint(Url(), *before, "", "", &report);
  EXPECT_FALSE(report.passed());
  const std::string why = report.FailureSummary();
  EXPECT_NE(why.find("default." + changed), std::string::npos) << why;
  EXPECT_NE(why.find("other content"), std::string::npos) << why;
  EXPECT_NE(why.find("sample"), std::string::npos) << why;
  EXPECT_EQ(findings.at({"default", changed})["contentMatches"], false);
  EXPECT_LT(findings.at({"default", changed})["sampleSearchesSame"].get<int>(), 3);
  const std::string other = changed == "docs" ? "faq" : "docs";
  EXPECT_EQ(findings.at({"default", other})["contentMatches"], true);

  // A dropped collection is missing.
  ASSERT_EQ(Call("collections/drop", {{"collectionName", other}})["code"], 0);
  dr::DrillReport gone(Env::Default(), "test");
  dr::CompareFingerprint(Url(), *before, "", "", &gone);
  EXPECT_NE(gone.FailureSummary().find("default." + other + " is missing"), std::string::npos) << gone.FailureSummary();
}

}  // namespace
}  // namespace ark::server
