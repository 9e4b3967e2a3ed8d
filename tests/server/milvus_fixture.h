// A real Database in a temp dir behind a real HttpServer on loopback, with a
// client helper: the fixture the Milvus route tests share.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "server/milvus_service.h"
#include "support/test_util.h"

namespace ark::server {

class MilvusFixture : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override { Stop(); }

  void Start() {
    DatabaseOptions options;
    options.auto_seal = false;
    options.index_build_threads = 0;  // builds run when a test calls RunIndexBuild()
    auto db = Database::Open(Env::Default(), dir_.Sub("data"), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ServerConfig config;
    config.port = 0;
    config.access_log = false;
    config.limits.max_rows_per_insert = 100;
    config.limits.max_body_bytes = max_body_bytes_;
    http_ = std::make_unique<HttpServer>(config, &metrics_);
    service_ = std::make_unique<MilvusService>(db_.get(), config.limits);
    service_->Register(*http_);
    RegisterMore(*http_);
    ASSERT_OK(http_->Bind());
    thread_ = std::thread([this] { EXPECT_OK(http_->Serve()); });
  }
  // Suites with more route groups register them here (before Bind).
  virtual void RegisterMore(HttpServer&) {}
  void Stop() {
    if (!http_) return;
    http_->Stop();
    thread_.join();
    http_.reset();
    service_.reset();
    db_.reset();
  }
  // The whole reply envelope.
  nlohmann::json Call(const std::string& route, const nlohmann::json& body,
                      httplib::Headers headers = {}) {
    return CallRaw(route, body.dump(), std::move(headers));
  }
  nlohmann::json CallRaw(const std::string& route, const std::string& body,
                         httplib::Headers headers = {}) {
    httplib::Client c("127.0.0.1", http_->port());
    auto r = c.Post(("/v2/vectordb/" + route).c_str(), headers, body, "text/plain");
    EXPECT_TRUE(r);
    if (!r) return nlohmann::json();
    return nlohmann::json::parse(r->body, nullptr, false);
  }

  uint64_t max_body_bytes_ = 64ull << 20;
  testing::TempDir dir_;
  MetricsRegistry metrics_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<MilvusService> service_;
  std::thread thread_;
};

}  // namespace ark::server
