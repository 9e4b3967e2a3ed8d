// serve_driver.h: what the benchmarks that drive `ark serve` processes share
// (archive_bench, replication_bench): spawning and stopping servers on free
// loopback ports, Milvus REST calls with cpp-httplib, deterministic 768-d
// rows and their pre-built insert bodies, and a paced multi-client ingest
// with a lag sampler. Header-only: each bench/*_bench.cc is one executable.
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace bench {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
namespace fs = std::filesystem;

[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, what.c_str());
  std::exit(1);
}

inline double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
inline int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Row r's vector: a unit vector from a generator seeded by r, so any row can
// be rebuilt (the search probe, the PostgreSQL files) without keeping them.
inline void RowVector(uint64_t r, uint32_t dim, float* out) {
  std::mt19937_64 rng(r * 0x9E3779B97F4A7C15ULL + 1);
  std::normal_distribution<float> n(0.0f, 1.0f);
  double norm = 0;
  for (uint32_t d = 0; d < dim; ++d) {
    out[d] = n(rng);
    norm += double(out[d]) * out[d];
  }
  const float inv = float(1.0 / std::sqrt(norm));
  for (uint32_t d = 0; d < dim; ++d) out[d] *= inv;
}

inline void AppendFloats(std::string* s, const float* v, uint32_t dim) {
  char buf[32];
  s->push_back('[');
  for (uint32_t d = 0; d < dim; ++d) {
    if (d) s->push_back(',');
    auto r = std::to_chars(buf, buf + sizeof buf, v[d]);
    s->append(buf, r.ptr);
  }
  s->push_back(']');
}

inline std::string InsertBody(uint64_t first, uint64_t n, uint32_t dim) {
  std::string s = R"({"collectionName":"bench","data":[)";
  s.reserve(n * dim * 12);
  std::vector<float> v(dim);
  for (uint64_t r = first; r < first + n; ++r) {
    if (r != first) s.push_back(',');
    RowVector(r, dim, v.data());
    s += R"({"id":)" + std::to_string(r) + R"(,"vector":)";
    AppendFloats(&s, v.data(), dim);
    s.push_back('}');
  }
  return s + "]}";
}

// ---- processes ----------------------------------------------------------------

struct Proc {
  pid_t pid = -1;
  bool Alive() const { return pid > 0; }
};

inline Proc Spawn(const std::vector<std::string>& args, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  Proc p;
  if (posix_spawn(&p.pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) Die("cannot start " + args[0]);
  posix_spawn_file_actions_destroy(&fa);
  return p;
}

inline int Wait(Proc* p) {
  int st = 0;
  waitpid(p->pid, &st, 0);
  p->pid = -1;
  return st;
}

// Runs a command to completion; returns its stdout (dies on failure).
inline std::string RunOut(const std::vector<std::string>& args, const std::string& scratch) {
  const std::string out = scratch + "/cmd.out";
  fs::remove(out);
  Proc p = Spawn(args, out);
  int st = Wait(&p);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    Die("command failed: " + cmd + "\n" + ss.str());
  }
  return ss.str();
}

// The JSON object a `--json` command printed (its last line that is one).
inline json LastJson(const std::string& out) {
  const size_t at = out.find("\n{");
  const std::string body = out[0] == '{' ? out : (at == std::string::npos ? "" : out.substr(at + 1));
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) Die("not JSON: " + out.substr(0, 500));
  return j;
}

struct Server {
  Proc proc;
  int port = 0;
  std::string dir;

  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(120, 0);
    c.set_tcp_nodelay(true);
    c.set_keep_alive(true);
    return c;
  }
};

// A port the kernel has just handed out (httplib's bind_to_any_port keeps its
// socket open: the server would find the port taken).
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Die("cannot find a free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

inline json GetJson(const Server& s, const std::string& path) {
  auto c = s.Client();
  auto r = c.Get(path.c_str());
  if (!r) return json();
  json j = json::parse(r->body, nullptr, false);
  return j.is_discarded() ? json() : j;
}

// Starts `ark serve` on a free port and waits until /readyz answers 200
// (extra: more flags, e.g. --standby-of).
inline Server StartServe(const std::string& ark, const std::string& data, const std::string& config, const std::string& log,
                  const std::vector<std::string>& extra = {}) {
  Server s;
  s.port = FreePort();
  s.dir = data;
  std::vector<std::string> args = {ark, "serve", "--data-dir", data, "--listen",
                                   "127.0.0.1:" + std::to_string(s.port), "--no-access-log"};
  args.insert(args.end(), extra.begin(), extra.end());
  if (!config.empty()) {
    args.push_back("--config");
    args.push_back(config);
  }
  s.proc = Spawn(args, log);
  const auto t0 = Clock::now();
  while (Since(t0) < 120) {
    auto c = s.Client();
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(2, 0);
    auto r = c.Get("/readyz");
    if (r && r->status == 200) return s;
    int st = 0;
    if (waitpid(s.proc.pid, &st, WNOHANG) == s.proc.pid) Die("ark serve exited during start-up; see " + log);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // readiness polling
  }
  Die("ark serve not ready in 120 s; see " + log);
}

inline void Stop(Server* s, int sig) {
  if (!s->proc.Alive()) return;
  kill(s->proc.pid, sig);
  Wait(&s->proc);
}

inline json Call(httplib::Client& c, const std::string& route, const std::string& body) {
  auto r = c.Post(
      route.c_str(), body.size(),
      [&body](size_t offset, size_t length, httplib::DataSink& sink) {
        return sink.write(body.data() + offset, std::min(length, body.size() - offset));
      },
      "application/json");
  if (!r) return json{{"code", -1}, {"message", httplib::to_string(r.error())}};
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return json{{"code", -1}, {"message", r->body.substr(0, 300)}};
  return j;
}

inline json CallOk(const Server& s, const std::string& route, const json& body) {
  auto c = s.Client();
  json j = Call(c, route, body.dump());
  if (j.value("code", -1) != 0) Die(route + ": " + j.dump().substr(0, 400));
  return j;
}

inline void CreateCollection(const Server& s, uint32_t dim, bool hnsw) {
  json index = {{"fieldName", "vector"}, {"indexName", "vector"}, {"metricType", "COSINE"}};
  if (hnsw) {
    index["indexType"] = "HNSW";
    index["params"] = {{"M", 16}, {"efConstruction", 100}};
  } else {
    index["indexType"] = "FLAT";
  }
  CallOk(s, "/v2/vectordb/collections/create",
         {{"collectionName", "bench"},
          {"schema",
           {{"autoID", false},
            {"fields",
             {{{"fieldName", "id"}, {"dataType", "Int64"}, {"isPrimary", true}},
              {{"fieldName", "vector"}, {"dataType", "FloatVector"}, {"elementTypeParams", {{"dim", dim}}}}}}}},
          {"indexParams", {index}}});
}

// Waits until the collection's index covers `rows` rows with none pending.
inline void WaitIndexed(const Server& s, uint64_t rows) {
  for (;;) {
    json j = CallOk(s, "/v2/vectordb/indexes/describe", {{"collectionName", "bench"}, {"indexName", "vector"}});
    const json& d = j["data"][0];
    if (d.value("indexedRows", uint64_t{0}) >= rows && d.value("pendingIndexRows", uint64_t{0}) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // index progress polling
  }
}

// Searches for row `probe`'s own vector: "" when the top hit is that row,
// else what came back.
inline std::string SearchFinds(const Server& s, uint32_t dim, uint64_t probe) {
  std::vector<float> v(dim);
  RowVector(probe, dim, v.data());
  std::string body = R"({"collectionName":"bench","annsField":"vector","limit":1,"data":[)";
  AppendFloats(&body, v.data(), dim);
  body += "]}";
  auto c = s.Client();
  json hit = Call(c, "/v2/vectordb/entities/search", body);
  if (hit.value("code", -1) == 0 && !hit["data"].empty() && hit["data"][0]["id"].get<uint64_t>() == probe) return "";
  return "row " + std::to_string(probe) + " not found: " + hit.dump().substr(0, 300);
}

inline uint64_t Count(const Server& s) {
  json j = CallOk(s, "/v2/vectordb/entities/query",
                  {{"collectionName", "bench"}, {"filter", ""}, {"outputFields", {"count(*)"}}});
  return j["data"][0]["count(*)"].get<uint64_t>();
}

inline double WalBytes(const Server& s) {
  auto c = s.Client();
  auto r = c.Get("/metrics");
  if (!r) Die("/metrics: no answer");
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("ark_wal_bytes_written ", 0) == 0) return std::stod(line.substr(22));
  }
  Die("/metrics has no ark_wal_bytes_written");
}

// ARK_BENCH_KEEP=1 keeps every run's directory (data, repository, server logs).
inline void RemoveUnlessKept(const std::string& dir) {
  if (!std::getenv("ARK_BENCH_KEEP")) fs::remove_all(dir);
}

// ---- ingest -------------------------------------------------------------------

struct Batch {
  uint64_t first = 0;
  uint64_t n = 0;
  std::string body;
  double sent = -1;   // seconds since the run's start
  double acked = -1;  // -1: no answer
  int64_t acked_wall = 0;
};

struct IngestResult {
  double seconds = 0;
  uint64_t rows_acked = 0;
  std::vector<double> latency;  // of acknowledged batches
  std::vector<double> lag;      // archive lag samples
  double kill_at = -1;
};

// Sends batches[0..] from `threads` clients: unpaced, or batch i not before
// i * batch / rate seconds. Stops after `seconds`; with `kill` the server is
// SIGKILLed at that moment, with writes in flight.
inline IngestResult Ingest(int threads, Server* s, std::vector<Batch>* batches, double rate, double seconds, bool kill,
                    const std::function<std::optional<double>()>& sample_lag) {
  IngestResult res;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      auto c = s->Client();
      for (;;) {
        if (stop.load()) return;
        const size_t i = next.fetch_add(1);
        if (i >= batches->size()) return;
        Batch& b = (*batches)[i];
        if (rate > 0) {
          const double due = static_cast<double>(b.first - (*batches)[0].first) / rate;
          const double wait = due - Since(t0);
          if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));  // the pacing schedule
        }
        if (stop.load()) return;
        b.sent = Since(t0);
        json j = Call(c, "/v2/vectordb/entities/insert", b.body);
        if (j.value("code", -1) == 0) {
          b.acked = Since(t0);
          b.acked_wall = WallMicros();
        } else if (!stop.load()) {
          Die("insert: " + j.dump().substr(0, 300));
        }
      }
    });
  }
  std::thread sampler;
  if (sample_lag) {
    sampler = std::thread([&] {
      while (!stop.load()) {
        if (auto lag = sample_lag()) res.lag.push_back(*lag);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the sampling period
      }
    });
  }
  while (Since(t0) < seconds && next.load() < batches->size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the run's clock
  }
  stop = true;
  if (kill) {
    res.kill_at = Since(t0);
    Stop(s, SIGKILL);
  }
  for (auto& t : ts) t.join();
  if (sampler.joinable()) sampler.join();
  res.seconds = Since(t0);
  for (const Batch& b : *batches) {
    if (b.acked >= 0) {
      res.rows_acked += b.n;
      res.latency.push_back(b.acked - b.sent);
    }
  }
  if (!kill) {
    double last = 0;
    for (const Batch& b : *batches) last = std::max(last, b.acked);
    res.seconds = last;
  }
  return res;
}

inline std::vector<Batch> MakeBatches(uint64_t first, uint64_t rows, uint64_t batch, uint32_t dim) {
  std::vector<Batch> out;
  for (uint64_t r = first; r < first + rows; r += batch) out.push_back({r, std::min(batch, first + rows - r), "", -1, -1});
  std::vector<std::thread> ts;
  const size_t nt = std::max(1u, std::thread::hardware_concurrency());
  for (size_t t = 0; t < nt; ++t) {
    ts.emplace_back([&, t] {
      for (size_t i = t; i < out.size(); i += nt) out[i].body = InsertBody(out[i].first, out[i].n, dim);
    });
  }
  for (auto& t : ts) t.join();
  return out;
}

inline void ResetBatches(std::vector<Batch>* bs) {
  for (Batch& b : *bs) b.sent = b.acked = -1, b.acked_wall = 0;
}

inline void WriteCopyFile(const std::string& path, uint64_t first, uint64_t rows, uint32_t dim) {
  std::ofstream out(path);
  std::vector<float> v(dim);
  char buf[32];
  for (uint64_t r = first; r < first + rows; ++r) {
    RowVector(r, dim, v.data());
    out << r << "\t{";
    for (uint32_t d = 0; d < dim; ++d) {
      std::snprintf(buf, sizeof(buf), "%.9g", v[d]);
      out << (d ? "," : "") << buf;
    }
    out << "}\n";
  }
}


}  // namespace bench
