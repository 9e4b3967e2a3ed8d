// Request parsing on the HTTP hot path: nlohmann::json vs simdjson (On
// Demand) on a 1000 x 768 insert body and a 10 x 768 search body, measured in
// the same run, beside the end-to-end latency of the same requests through a
// real HttpServer + MilvusService on loopback (cpp-httplib client), so the
// parse share of a request is visible.
//
//   http_bench [--reps N] [--dir DIR]
//
// Parse cases (median of N):
//   nlohmann parse          json::parse(body)
//   nlohmann parse+rows     parse, then RowBatchFromJson (what insert does now)
//   simdjson parse+floats   iterate the same body and copy every id and float
//                           into columns (what a simdjson insert path would do)
// End-to-end (median/p99 of N): POST entities/insert (fresh ids each time,
// wal_sync none) and POST entities/search (limit 10, exact over 20,000 rows).
#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "engine/database.h"
#include "server/milvus_service.h"
#include "storage/env.h"

namespace ark {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr uint32_t kDim = 768;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string Vector(uint32_t seed) {
  std::string s = "[";
  uint32_t x = seed * 2654435761u + 1;
  for (uint32_t d = 0; d < kDim; ++d) {
    x = x * 1664525u + 1013904223u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.6f", d ? "," : "", (x >> 8) / 16777216.0 - 0.5);
    s += buf;
  }
  return s + "]";
}

std::string InsertBody(int64_t first, size_t rows) {
  std::string s = R"({"collectionName":"bench","data":[)";
  for (size_t i = 0; i < rows; ++i) {
    if (i) s += ",";
    s += R"({"id":)" + std::to_string(first + static_cast<int64_t>(i)) + R"(,"vector":)" +
         Vector(static_cast<uint32_t>(first + i)) + "}";
  }
  return s + "]}";
}

std::string SearchBody(size_t nq) {
  std::string s = R"({"collectionName":"bench","limit":10,"data":[)";
  for (size_t i = 0; i < nq; ++i) s += (i ? "," : "") + Vector(static_cast<uint32_t>(900000 + i));
  return s + "]}";
}

struct Stats {
  double median = 0, p99 = 0;
};
Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

template <typename Fn>
Stats Time(int reps, Fn&& fn) {
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    fn();
    ms.push_back(Ms(Clock::now() - t0));
  }
  return Summarize(ms);
}

// simdjson On Demand: ids and vectors of `data` into columns (the work a
// simdjson insert/search parser has to do).
size_t SimdjsonColumns(simdjson::ondemand::parser& parser, const simdjson::padded_string& body,
                       std::vector<int64_t>* ids, std::vector<float>* floats) {
  ids->clear();
  floats->clear();
  auto doc = parser.iterate(body);
  size_t rows = 0;
  for (auto row : doc["data"].get_array()) {
    auto value = row.value();
    if (value.type() == simdjson::ondemand::json_type::array) {  // search: bare vectors
      for (double x : value.get_array()) floats->push_back(static_cast<float>(x));
    } else {
      for (auto field : value.get_object()) {
        std::string_view key = field.unescaped_key().value();
        if (key == "id") {
          ids->push_back(field.value().get_int64().value());
        } else if (key == "vector") {
          for (double x : field.value().get_array()) floats->push_back(static_cast<float>(x));
        }
      }
    }
    ++rows;
  }
  return rows;
}

int Main(int argc, char** argv) {
  int reps = 30;
  std::string dir = "/tmp/ark-http-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  std::filesystem::remove_all(dir);

  CollectionSchema schema;
  schema.fields.push_back({"id", DataType::kInt64, true, 0, 0, ""});
  schema.fields.push_back({"vector", DataType::kFloatVector, false, 0, kDim, ""});

  const std::string insert = InsertBody(1, 1000);
  const std::string search = SearchBody(10);
  std::printf("insert body: %.1f MB (1000 x %u); search body: %.1f KB (10 x %u); reps %d\n",
              insert.size() / 1e6, kDim, search.size() / 1e3, kDim, reps);

  simdjson::ondemand::parser parser;
  std::vector<int64_t> ids;
  std::vector<float> floats;
  for (const auto& [label, body] : {std::pair{"insert", &insert}, std::pair{"search", &search}}) {
    Stats nl = Time(reps, [&] { json j = json::parse(*body); });
    Stats nr = Time(reps, [&] {
      json j = json::parse(*body);
      if (label == std::string("insert")) {
        auto b = RowBatchFromJson(schema, "bench", j["data"], WriteKind::kInsert);
        if (!b.ok()) std::abort();
      } else {
        for (const auto& v : j["data"]) {
          for (const auto& x : v) floats.push_back(x.get<float>());
        }
        floats.clear();
      }
    });
    simdjson::padded_string padded(*body);
    Stats sj = Time(reps, [&] { SimdjsonColumns(parser, padded, &ids, &floats); });
    Stats sjc = Time(reps, [&] {
      simdjson::padded_string p(*body);  // the copy a real path pays for padding
      SimdjsonColumns(parser, p, &ids, &floats);
    });
    std::printf("%-6s nlohmann parse %8.2f ms | nlohmann parse+columns %8.2f ms | "
                "simdjson parse+columns %7.2f ms (%7.2f ms with the padding copy) | %.1fx\n",
                label, nl.median, nr.median, sj.median, sjc.median, nr.median / sjc.median);
  }

  // End to end through the real server.
  DatabaseOptions options;
  options.wal.sync_mode = WalSyncMode::kNone;
  auto db = Database::Open(Env::Default(), dir, options);
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  MetricsRegistry metrics;
  server::ServerConfig config;
  config.port = 0;
  config.access_log = false;
  server::HttpServer http(config, &metrics);
  server::MilvusService service(db->get(), config.limits);
  service.Register(http);
  if (!http.Bind().ok()) return 1;
  std::thread serve([&] { (void)http.Serve(); });
  httplib::Client client("127.0.0.1", http.port());
  client.set_read_timeout(60);
  auto post = [&](const char* route, const std::string& body) {
    auto r = client.Post((std::string("/v2/vectordb/") + route).c_str(), body, "application/json");
    if (!r || r->body.rfind("{\"code\":0", 0) != 0) {
      std::fprintf(stderr, "%s failed: %s\n", route, r ? r->body.substr(0, 200).c_str() : "no reply");
      std::abort();
    }
  };
  post("collections/create", R"({"collectionName":"bench","dimension":768,"metricType":"L2"})");
  std::vector<std::string> bodies;
  for (int i = 0; i < reps; ++i) bodies.push_back(InsertBody(1000 + 1000 * i, 1000));
  int next = 0;
  Stats ins = Time(reps, [&] { post("entities/insert", bodies[next++]); });
  Stats srch = Time(reps, [&] { post("entities/search", search); });
  std::printf("end-to-end insert 1000 x 768: median %.2f ms, p99 %.2f ms (%.0f rows/s, 1 client)\n",
              ins.median, ins.p99, 1000 / (ins.median / 1e3));
  std::printf("end-to-end search 10 x 768 over %d rows: median %.2f ms, p99 %.2f ms\n",
              1000 * reps, srch.median, srch.p99);
  http.Stop();
  serve.join();
  return 0;
}

}  // namespace
}  // namespace ark

int main(int argc, char** argv) { return ark::Main(argc, argv); }
