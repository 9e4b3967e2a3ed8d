// The dashboard's routes over a real HttpServer (server/ui_routes): /ui drawn
// from the status function, drill reports served from the report directory
// and nothing else from the disk, and the admin credential as a header or
// ?token=, carried on to the page's links.
#include "server/ui_routes.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include "support/html_tags.h"
#include "support/test_util.h"

namespace ark::server {
namespace {

using nlohmann::json;
using testing::CountOf;

constexpr char kId[] = "20261206T230512Z-restore-check";

json Status(int64_t started_micros) {
  return {{"format", "ark-dr-status"},
          {"version", 1},
          {"nowMicros", started_micros + 60'000'000},
          {"role", "primary"},
          {"epoch", 1},
          {"drills",
           {{"recent",
             {{{"id", kId},
               {"scenario", "restore-check"},
               {"passed", true},
               {"startedMicros", started_micros},
               {"measured", {{"rtoMs", 1900}, {"rpoMs", 5000}}}}}}}}};
}

json Report() {
  return {{"format", "ark-drill-report"},
          {"version", 1},
          {"id", kId},
          {"scenario", "restore-check"},
          {"passed", true},
          {"startedMicros", 1796598312000000},
          {"measured", {{"rtoMs", 1900}}},
          {"timeline",
           {{{"event", "drill-started"}, {"phase", "disaster"}, {"sinceStartMs", 0}},
            {{"event", "restored"}, {"phase", "recovery"}, {"sinceStartMs", 800}},
            {{"event", "verified"}, {"phase", "verification"}, {"sinceStartMs", 1900}},
            {{"event", "torn-down"}, {"phase", "teardown"}, {"sinceStartMs", 2000}}}}};
}

// An HttpServer with only the UI routes, over a drills directory holding one
// report (report.json and report.html) and, beside the directory, a file no
// route may serve.
class UiFixture {
 public:
  explicit UiFixture(AuthConfig auth = {}) {
    Env* env = Env::Default();
    drills_ = dir_.Sub("drills");
    EXPECT_OK(env->CreateDirs(JoinPath(drills_, kId)));
    EXPECT_OK(
        env->WriteFileAtomic(JoinPath(JoinPath(drills_, kId), "report.json"), Report().dump()));
    EXPECT_OK(env->WriteFileAtomic(JoinPath(JoinPath(drills_, kId), "report.html"), kReportHtml));
    EXPECT_OK(env->CreateDirs(dir_.Sub("secret")));
    EXPECT_OK(env->WriteFileAtomic(JoinPath(dir_.Sub("secret"), "report.html"), "SECRET"));
    ServerConfig config;
    config.port = 0;
    config.access_log = false;
    config.auth = std::move(auth);
    server_ = std::make_unique<HttpServer>(config, &metrics_);
    RegisterUiRoutes(
        *server_,
        [this] {
          if (throw_) throw std::runtime_error("status failed");
          calls_.fetch_add(1);
          return Status(1796598312000000);
        },
        drills_, env);
    EXPECT_OK(server_->Bind());
    server_->SetReady(true);
    thread_ = std::thread([this] { EXPECT_OK(server_->Serve()); });
  }
  ~UiFixture() {
    server_->Stop();
    thread_.join();
  }

  httplib::Result Get(const std::string& path, httplib::Headers headers = {}) {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(10, 0);
    return c.Get(path.c_str(), headers);
  }
  const std::string& drills() const { return drills_; }
  int calls() const { return calls_.load(); }
  void ThrowFromStatus() { throw_ = true; }

  static constexpr char kReportHtml[] = "<!DOCTYPE html>\n<p>the drill's own page</p>\n";

 private:
  testing::TempDir dir_;
  std::string drills_;
  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::atomic<int> calls_{0};
  std::atomic<bool> throw_{false};
};

TEST(UiRoutesTest, ServesTheDashboardWithTheNewestTimelineFromItsReport) {
  UiFixture f;
  auto r = f.Get("/ui");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_NE(r->get_header_value("Content-Security-Policy").find("default-src 'none'"),
            std::string::npos);
  EXPECT_EQ(r->get_header_value("Content-Security-Policy").find("script-src"), std::string::npos);
  EXPECT_NE(r->body.find("id=\"role\">primary</span>"), std::string::npos);
  // The status summary has no timeline: the four events come from report.json.
  EXPECT_EQ(CountOf(r->body, "<circle"), 4u);
  EXPECT_NE(r->body.find(">4. torn-down</text>"), std::string::npos);
  EXPECT_NE(r->body.find("href=\"ui/drills/" + std::string(kId) + "/report.html\""),
            std::string::npos);
  EXPECT_EQ(f.calls(), 1);
  // Only /ui: /ui/ and other paths are not pages.
  auto slash = f.Get("/ui/");
  ASSERT_TRUE(slash);
  EXPECT_EQ(slash->status, 404);
}

TEST(UiRoutesTest, ServesADrillsOwnPageOrDrawsItFromItsJson) {
  UiFixture f;
  auto r = f.Get("/ui/drills/" + std::string(kId) + "/report.html");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, UiFixture::kReportHtml);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");

  ASSERT_OK(Env::Default()->RemoveFile(JoinPath(JoinPath(f.drills(), kId), "report.html")));
  auto drawn = f.Get("/ui/drills/" + std::string(kId) + "/report.html");
  ASSERT_TRUE(drawn);
  EXPECT_EQ(drawn->status, 200);
  EXPECT_NE(drawn->body.find(">PASSED</span>"), std::string::npos);
  EXPECT_EQ(CountOf(drawn->body, "<circle"), 4u);
}

TEST(UiRoutesTest, AnythingButAValidIdIsNotFoundAndNothingOutsideIsServed) {
  UiFixture f;
  const std::string id = kId;
  for (const std::string& path : std::vector<std::string>{
           "/ui/drills/../secret/report.html", "/ui/drills/%2e%2e/secret/report.html",
           "/ui/drills/..%2fsecret/report.html", "/ui/drills/%2E%2E%2Fsecret/report.html",
           "/ui/drills/a.b/report.html", "/ui/drills/" + id + "/report.json",
           "/ui/drills/" + id + "/", "/ui/drills/" + id + "/report.html/x",
           "/ui/drills//report.html", "/ui/drills/never-ran/report.html",
           "/ui/drills/x%00/report.html", "/ui/drills/" + std::string(129, 'a') + "/report.html"}) {
    auto r = f.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->body.find("SECRET"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("<script"), std::string::npos) << path;
  }
}

TEST(UiRoutesTest, TheAdminCredentialComesAsAHeaderOrAQueryToken) {
  AuthConfig auth;
  auth.token = "user-token";
  auth.admin_token = "admin&token";
  UiFixture f(auth);
  const std::string report = "/ui/drills/" + std::string(kId) + "/report.html";
  for (const std::string& path : {std::string("/ui"), report}) {
    auto none = f.Get(path);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 401) << path;
    EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer realm=\"ark\"");
    EXPECT_NE(none->body.find("?token="), std::string::npos);
    EXPECT_EQ(none->body.find("drill's own page"), std::string::npos);
    for (const auto& [headers, query, status] :
         {std::tuple{httplib::Headers{{"Authorization", "Bearer admin&token"}}, "", 200},
          std::tuple{httplib::Headers{}, "?token=admin%26token", 200},
          std::tuple{httplib::Headers{}, "?token=user-token", 401},  // not the admin token
          std::tuple{httplib::Headers{{"Authorization", "Bearer user-token"}}, "", 401},
          std::tuple{httplib::Headers{}, "?token=", 401},
          // A wrong header is not rescued by a right query.
          std::tuple{httplib::Headers{{"Authorization", "Bearer nope"}}, "?token=admin%26token",
                     401}}) {
      auto r = f.Get(path + query, headers);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, status) << path << query;
    }
  }
  EXPECT_EQ(f.calls(), 2) << "the status is not even computed for a refused request";
  // Opened with ?token=, the page's links carry it (URL-encoded, HTML-escaped).
  auto page = f.Get("/ui?token=admin%26token");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("/report.html?token=admin%26token\""), std::string::npos);
  auto header = f.Get("/ui", {{"Authorization", "Bearer admin&token"}});
  ASSERT_TRUE(header);
  EXPECT_EQ(header->body.find("token="), std::string::npos) << "no token in links it was not given";
}

TEST(UiRoutesTest, WithoutAnAdminTokenAUserCredentialWillDo) {
  AuthConfig auth;
  auth.users["alice"] = "pw";
  UiFixture f(auth);
  auto r = f.Get("/ui?token=alice:pw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto wrong = f.Get("/ui?token=alice:nope");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
}

TEST(UiRoutesTest, AFailingStatusIsAnInternalErrorNotACrash) {
  UiFixture f;
  f.ThrowFromStatus();
  auto r = f.Get("/ui");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.find("status failed"), std::string::npos) << "details stay in the log";
  auto report = f.Get("/ui/drills/" + std::string(kId) + "/report.html");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, 200);
}

}  // namespace
}  // namespace ark::server
