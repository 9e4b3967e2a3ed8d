#include "server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "support/test_util.h"

namespace ark::server {
namespace {

using nlohmann::json;

// Runs an HttpServer on a free loopback port for the duration of a test.
class ServerFixture {
 public:
  explicit ServerFixture(ServerConfig config = {}, bool ready = true) {
    config.port = 0;
    config.access_log = false;
    server_ = std::make_unique<HttpServer>(config, &metrics_);
    server_->RegisterMilvus("collections/list", [](RequestContext& ctx) -> Result<json> {
      return json::array({"db:" + ctx.db_name});
    });
    server_->RegisterMilvus("echo/body", [](RequestContext& ctx) -> Result<json> {
      return ctx.body;
    });
    server_->RegisterMilvus("fail/notfound", [](RequestContext&) -> Result<json> {
      return Status::NotFound("can't find collection[database=default][collection=x]");
    });
    server_->RegisterAdmin("jobs/list", [](RequestContext& ctx) -> Result<json> {
      return json{{"user", ctx.user}};
    });
    setup_(*server_);
    EXPECT_OK(server_->Bind());
    server_->SetReady(ready, ready ? "" : "recovering");
    thread_ = std::thread([this] { EXPECT_OK(server_->Serve()); });
  }
  ~ServerFixture() {
    server_->Stop();
    thread_.join();
  }
  static inline std::function<void(HttpServer&)> setup_ = [](HttpServer&) {};

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(10, 0);
    return c;
  }
  json Post(const std::string& path, const std::string& body, httplib::Headers headers = {},
            int* status = nullptr) {
    auto c = Client();
    auto r = c.Post(path.c_str(), headers, body, "text/plain;charset=UTF-8");
    EXPECT_TRUE(r) << "no response from " << path;
    if (!r) return json();
    if (status) *status = r->status;
    auto parsed = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << r->body;
    return parsed;
  }
  HttpServer& server() { return *server_; }
  MetricsRegistry& metrics() { return metrics_; }

 private:
  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

TEST(HttpServer, HealthAndReadiness) {
  ServerFixture f({}, /*ready=*/false);
  auto c = f.Client();
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("recovering"), std::string::npos);
  f.server().SetReady(true);
  EXPECT_EQ(c.Get("/readyz")->status, 200);
}

TEST(HttpServer, BodyIsJsonWhateverTheContentTypeAndDbNameResolves) {
  ServerFixture f;
  json reply = f.Post("/v2/vectordb/collections/list", R"({"dbName":"kb"})");
  EXPECT_EQ(reply["code"], 0);
  EXPECT_EQ(reply["data"], json::array({"db:kb"}));
  reply = f.Post("/v2/vectordb/collections/list", "{}", {{"DB-Name", "hdr"}});
  EXPECT_EQ(reply["data"], json::array({"db:hdr"}));
  reply = f.Post("/v2/vectordb/collections/list", "");
  EXPECT_EQ(reply["data"], json::array({"db:default"}));
}

// curl -d sends application/x-www-form-urlencoded; httplib would parse such a
// body as a form and refuse it above 8 KiB. Found by a CLI smoke test.
TEST(HttpServer, LargeJsonBodyUnderFormContentTypeIsAccepted) {
  ServerFixture f;
  json big = {{"pad", std::string(200000, 'x')}, {"n", 7}};
  auto c = f.Client();
  auto r = c.Post("/v2/vectordb/echo/body", big.dump(), "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  json reply = json::parse(r->body, nullptr, false);
  EXPECT_EQ(reply["code"], 0) << r->body.substr(0, 200);
  EXPECT_EQ(reply["data"]["n"], 7);
}

// A keep-alive connection serves limits.keep_alive_max_requests requests,
// then the server closes it (cpp-httplib's own default is 5, which made
// clients reconnect every fifth request).
TEST(HttpServer, KeepAliveConnectionServesTheConfiguredNumberOfRequests) {
  for (uint32_t max : {3u, 100u}) {
    ServerConfig config;
    config.limits.keep_alive_max_requests = max;
    ServerFixture f(config);
    auto c = f.Client();
    c.set_keep_alive(true);
    uint32_t served = 0;
    for (; served < 10; ++served) {
      auto r = c.Post("/v2/vectordb/collections/list", "{}", "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200);
      if (r->get_header_value("Connection") == "close") {
        ++served;
        break;
      }
    }
    EXPECT_EQ(served, std::min(max, 10u)) << "keep_alive_max_requests " << max;
  }
}

TEST(HttpServer, MalformedJsonIsCode1801) {
  ServerFixture f;
  int status = 0;
  json reply = f.Post("/v2/vectordb/echo/body", R"({"a":)", {}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(reply["code"], 1801);
  EXPECT_NE(reply["message"].get<std::string>().find("can only accept json format request"),
            std::string::npos);
  reply = f.Post("/v2/vectordb/echo/body", "[1,2]");
  EXPECT_EQ(reply["code"], 1801);
}

TEST(HttpServer, StatusMapsToMilvusCode) {
  ServerFixture f;
  json reply = f.Post("/v2/vectordb/fail/notfound", "{}");
  EXPECT_EQ(reply["code"], 100);
  EXPECT_EQ(reply["message"], "can't find collection[database=default][collection=x]");
}

TEST(HttpServer, UnknownRouteIsJsonErrorNamingTheRoute) {
  ServerFixture f;
  int status = 0;
  json reply = f.Post("/v2/vectordb/jobs/import/create", "{}", {}, &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(reply["code"], 1100);
  EXPECT_NE(reply["message"].get<std::string>().find("/v2/vectordb/jobs/import/create"),
            std::string::npos);
  // Many random paths share one metric label.
  f.Post("/v2/vectordb/x1", "{}");
  f.Post("/v2/vectordb/x2", "{}");
  EXPECT_EQ(f.metrics().Value("ark_http_requests_total", {{"route", "unknown"}, {"code", "1100"}}),
            3);
}

TEST(HttpServer, OversizeBodyIsRejectedWithTheLimit) {
  ServerConfig config;
  config.limits.max_body_bytes = 4096;
  ServerFixture f(config);
  int status = 0;
  json reply = f.Post("/v2/vectordb/echo/body", "{\"a\":\"" + std::string(10000, 'x') + "\"}", {},
                      &status);
  EXPECT_EQ(status, 413);
  EXPECT_EQ(reply["code"], 1100);
  EXPECT_NE(reply["message"].get<std::string>().find("4096"), std::string::npos);
}

// A body far beyond the socket buffers: the server reads and discards it
// before answering (a lingering close), so the client, still writing when
// the server decides, reads the 413 instead of meeting a reset connection.
TEST(HttpServer, OversizeBodyIsDrainedSoTheClientReadsThe413) {
  ServerConfig config;
  config.limits.max_body_bytes = 1 << 20;
  ServerFixture f(config);
  const std::string big = "{\"a\":\"" + std::string(16 << 20, 'x') + "\"}";
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto c = f.Client();
    auto r = c.Post("/v2/vectordb/echo/body", big, "application/json");
    ASSERT_TRUE(r) << "no answer (connection cut): " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->get_header_value("Connection"), "close");
    EXPECT_NE(r->body.find("max_body_bytes"), std::string::npos) << r->body;
  }
  // The server is still serving.
  int status = 0;
  f.Post("/v2/vectordb/echo/body", "{}", {}, &status);
  EXPECT_EQ(status, 200);
}

TEST(HttpServer, InvalidRequestTimeoutHeaderIsRejected) {
  ServerFixture f;
  json reply = f.Post("/v2/vectordb/echo/body", "{}", {{"Request-Timeout", "soon"}});
  EXPECT_EQ(reply["code"], 1100);
  EXPECT_NE(reply["message"].get<std::string>().find("Request-Timeout"), std::string::npos);
}

TEST(HttpServer, AuthRequiresBearerOnEveryRoute) {
  ServerConfig config;
  config.auth.token = "s3cret-token";
  config.auth.users["alice"] = "pw";
  config.auth.admin_token = "admin-token";
  ServerFixture f(config);
  int status = 0;
  json reply = f.Post("/v2/vectordb/collections/list", "{}", {}, &status);
  EXPECT_EQ(status, 401);
  EXPECT_EQ(reply["code"], 1800);
  EXPECT_EQ(reply["message"], "user hasn't authenticated");
  reply = f.Post("/v2/vectordb/collections/list", "{}", {{"Authorization", "Bearer wrong"}}, &status);
  EXPECT_EQ(status, 401);
  reply = f.Post("/v2/vectordb/collections/list", "{}",
                 {{"Authorization", "Bearer s3cret-token"}}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(reply["code"], 0);
  reply = f.Post("/v2/vectordb/collections/list", "{}", {{"Authorization", "Bearer alice:pw"}});
  EXPECT_EQ(reply["code"], 0);
  reply = f.Post("/v2/vectordb/collections/list", "{}", {{"Authorization", "Bearer alice:no"}});
  EXPECT_EQ(reply["code"], 1800);
  // Unknown routes are not a way around auth.
  reply = f.Post("/v2/vectordb/nope", "{}", {}, &status);
  EXPECT_EQ(status, 401);
  // Admin routes take only the admin credential.
  reply = f.Post("/ark/v1/jobs/list", "{}", {{"Authorization", "Bearer s3cret-token"}}, &status);
  EXPECT_EQ(status, 401);
  reply = f.Post("/ark/v1/jobs/list", "{}", {{"Authorization", "Bearer admin-token"}}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(reply["data"]["user"], "admin");
}

TEST(HttpServer, ConcurrencyBeyondLimitIsRateLimited) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  ServerFixture::setup_ = [&](HttpServer& s) {
    s.RegisterMilvus("slow/op", [&](RequestContext&) -> Result<json> {
      std::unique_lock lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return json::object();
    });
  };
  ServerConfig config;
  config.limits.max_concurrent_requests = 1;
  {
    ServerFixture f(config);
    ServerFixture::setup_ = [](HttpServer&) {};
    auto slow = std::async(std::launch::async, [&] { return f.Post("/v2/vectordb/slow/op", "{}"); });
    {
      std::unique_lock lock(mu);
      ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered; }));
    }
    json reply = f.Post("/v2/vectordb/collections/list", "{}");
    EXPECT_EQ(reply["code"], 1807);
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    EXPECT_EQ(slow.get()["code"], 0);
    EXPECT_EQ(f.Post("/v2/vectordb/collections/list", "{}")["code"], 0);
  }
}

TEST(HttpServer, MetricsExposeRouteCountersAndLatency) {
  ServerFixture f;
  f.Post("/v2/vectordb/collections/list", "{}");
  auto r = f.Client().Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("ark_http_requests_total{code=\"0\",route=\"/v2/vectordb/collections/list\"} 1"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("ark_http_request_seconds_count{route=\"/v2/vectordb/collections/list\"} 1"),
            std::string::npos);
}

TEST(HttpServer, SecondBindOnSamePortFails) {
  ServerFixture f;
  ServerConfig config;
  config.port = f.server().port();
  MetricsRegistry m;
  HttpServer second(config, &m);
  Status s = second.Bind();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(std::to_string(config.port)), std::string::npos);
}

}  // namespace
}  // namespace ark::server
