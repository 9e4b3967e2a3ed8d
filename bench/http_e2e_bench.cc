// http_e2e_bench: the end-to-end HTTP figures of issue 5's "Speed" section,
// each beside the in-process engine figure from the same run.
//
//   build/release/http_e2e_bench [--rows 100000] [--dim 768] [--batch 1000]
//       [--insert-threads 4] [--search-threads 2,1] [--seconds 10] [--nq 200]
//       [--ef 64] [--clusters 1000] [--build-threads 2] [--nodelay 0|1]
//       [--fast 0|1] [--search 0|1] [--grpc 0|1] [--shapes 0|1]
//
// --fast 0 turns the server's simdjson request path off (every body parsed
// by nlohmann, as before it existed), for a before/after in one binary;
// --search 0 stops after the insert phase; --grpc 0 leaves out the Milvus
// gRPC path (issue 19), which otherwise runs beside REST in every phase: the
// same rows as prebuilt serialized InsertRequests into a third collection,
// the same queries as prebuilt SearchRequests, over one grpc::GenericStub
// channel per client thread to the same port (the front door hands HTTP/2
// connections to rpc::MilvusGrpcServer, as `ark serve` does).
//
// One process: a Database in a temp dir with the options `ark serve` uses by
// default (WAL sync every_commit, auto-seal), a real server::HttpServer +
// server::MilvusService on 127.0.0.1:0, and cpp-httplib clients (one
// keep-alive Client per thread) on loopback. Client and server share the same
// cores, as they would on a one-box deployment.
//
// 1. Insert: `--insert-threads` clients POST entities/insert bodies of
//    `--batch` rows (id Int64 pk + 768-d FloatVector) until `--rows` are in.
//    The JSON bodies are built before the clock starts, so client-side
//    serialisation is not measured. In process: Database::Insert of the same
//    batches (pre-built RowBatch, moved in) into a second collection, same
//    number of threads.
// 2. Index: indexes/create (HNSW M=16, efConstruction=200, COSINE) through the
//    API, collections/flush, then Database::WaitForIndexBuilds (timed).
// 3. Search: for each thread count C, C clients issue entities/search with one
//    query vector, limit 10, searchParams.ef, for `--seconds`; QPS, p50, p99.
//    In process: CollectionSnapshot::Search of the same queries on the same
//    collection (one snapshot taken up front), same C. recall@10 of both paths
//    against exact ground truth (FAISS flat IP on the unit vectors). Beside
//    QPS, the server's CPU per query: the process's CPU outside the client
//    threads (for gRPC an approximation: gRPC's pollers are shared, so some
//    client transport work can run on server threads).
// 4. Search shapes (`--shapes 1`, with gRPC): one client thread, REST beside
//    gRPC for requests of 16 query vectors and for hits that carry their
//    vectors (outputFields: vector).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alloc/allocator.h"
#include "bench_util.h"
#include "engine/database.h"
#include "grpc/milvus_grpc.h"
#include "milvus/milvus.pb.h"
#include "server/milvus_service.h"
#include "storage/env.h"

using namespace ark;
using namespace ark::bench;
using nlohmann::json;

namespace {

struct Flags {
  uint64_t rows = 100000;
  uint32_t dim = 768;
  uint64_t batch = 1000;
  int insert_threads = 4;
  std::vector<int> search_threads = {2, 1};
  double seconds = 10;
  size_t nq = 200;
  uint32_t ef = 64;
  uint32_t clusters = 1000;
  int build_threads = 2;
  // TCP_NODELAY on the client sockets. On by default as in the clients users
  // run (Node's fetch/undici and curl set it); httplib's client leaves it off,
  // and then each request's body waits ~40 ms for a delayed ACK.
  bool nodelay = true;
  bool fast = true;      // the server's simdjson path for insert/upsert/search
  bool search = true;    // run the index and search phases
  bool grpc = true;      // the Milvus gRPC path beside REST
  bool shapes = true;    // the search shapes section (many vectors per request, vectors returned)
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "http_e2e_bench: %s\n", what.c_str());
  std::exit(1);
}

void AppendFloats(std::string* s, const float* v, uint32_t dim) {
  char buf[32];
  s->push_back('[');
  for (uint32_t d = 0; d < dim; ++d) {
    if (d) s->push_back(',');
    auto r = std::to_chars(buf, buf + sizeof buf, v[d]);  // shortest round-trip form
    s->append(buf, r.ptr);
  }
  s->push_back(']');
}

std::string InsertBody(const std::string& collection, const std::vector<float>& data, uint64_t first,
                       uint64_t n, uint32_t dim) {
  std::string s = R"({"collectionName":")" + collection + R"(","data":[)";
  s.reserve(n * dim * 12);
  for (uint64_t r = first; r < first + n; ++r) {
    if (r != first) s.push_back(',');
    s += R"({"id":)" + std::to_string(r) + R"(,"vector":)";
    AppendFloats(&s, data.data() + r * dim, dim);
    s.push_back('}');
  }
  return s + "]}";
}

// `n` query vectors from `q`; `with_vectors`: the hits carry their vectors.
std::string SearchBody(const std::string& collection, const float* q, uint32_t dim, uint32_t ef, size_t n = 1,
                       bool with_vectors = false) {
  std::string s = R"({"collectionName":")" + collection + R"(","annsField":"vector","limit":10,)";
  if (with_vectors) s += R"("outputFields":["vector"],)";
  s += R"("data":[)";
  for (size_t i = 0; i < n; ++i) {
    if (i) s.push_back(',');
    AppendFloats(&s, q + i * dim, dim);
  }
  return s + R"(],"searchParams":{"params":{"ef":)" + std::to_string(ef) + "}}}";
}

CollectionSchema Schema(uint32_t dim) {
  CollectionSchema s;
  s.fields.push_back({"id", DataType::kInt64, true, 0, 0, ""});
  s.fields.push_back({"vector", DataType::kFloatVector, false, 0, dim, ""});
  return s;
}

RowBatch Batch(const CollectionSchema& schema, const std::vector<float>& data, uint64_t first, uint64_t n,
               uint32_t dim) {
  RowBatch b = RowBatch::Empty(schema);
  for (uint64_t r = first; r < first + n; ++r) b.columns[0].ints.push_back(static_cast<int64_t>(r));
  b.columns[1].floats.assign(data.begin() + first * dim, data.begin() + (first + n) * dim);
  b.num_rows = n;
  return b;
}

// POSTs to a /v2/vectordb route and dies unless Milvus code 0 comes back.
// The body is streamed from `body` (httplib's plain Post copies it into the
// request first: 9.5 MB per insert of client work on the server's cores).
std::string Post(httplib::Client& c, const std::string& route, const std::string& body) {
  auto r = c.Post(
      ("/v2/vectordb/" + route).c_str(), body.size(),
      [&body](size_t offset, size_t length, httplib::DataSink& sink) {
        return sink.write(body.data() + offset, std::min(length, body.size() - offset));
      },
      "application/json");
  if (!r) Die(route + ": no reply (" + httplib::to_string(r.error()) + ")");
  if (r->body.rfind("{\"code\":0", 0) != 0) Die(route + ": " + r->body.substr(0, 300));
  return std::move(r->body);
}

bool g_nodelay = false;

std::unique_ptr<httplib::Client> NewClient(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_tcp_nodelay(g_nodelay);
  c->set_keep_alive(true);
  c->set_read_timeout(300);
  c->set_write_timeout(300);
  return c;
}

// One gRPC client: its own channel (and so its own HTTP/2 connection, as
// each REST client has its own keep-alive connection).
// Calls are made as a synchronous stub makes them (pymilvus's): the calling
// thread drives its own completion queue, so no other thread is woken to
// hand the answer over. A client is used by one thread at a time.
struct GrpcClient {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  grpc::CompletionQueue cq;
  ~GrpcClient() {
    cq.Shutdown();
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
  }
};

std::unique_ptr<GrpcClient> NewGrpcClient(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  auto c = std::make_unique<GrpcClient>();
  c->channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args);
  c->stub = std::make_unique<grpc::GenericStub>(c->channel);
  return c;
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& b) {
  std::vector<grpc::Slice> slices;
  (void)b.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// A unary MilvusService call with a prebuilt request; dies on a transport error.
grpc::ByteBuffer GrpcCall(GrpcClient& c, const std::string& method, const grpc::ByteBuffer& request) {
  grpc::ClientContext ctx;
  grpc::ByteBuffer response;
  grpc::Status s;
  auto call = c.stub->PrepareUnaryCall(&ctx, "/milvus.proto.milvus.MilvusService/" + method, request, &c.cq);
  call->StartCall();
  call->Finish(&response, &s, &c);
  void* tag = nullptr;
  bool ok = false;
  if (!c.cq.Next(&tag, &ok) || tag != &c || !ok) Die(method + ": the completion queue failed");
  if (!s.ok()) Die(method + ": gRPC " + std::to_string(s.error_code()) + " " + s.error_message());
  return response;
}

std::string InsertRequestBytes(const std::string& collection, const std::vector<float>& data, uint64_t first,
                               uint64_t n, uint32_t dim) {
  milvus::proto::milvus::InsertRequest req;
  req.set_collection_name(collection);
  req.set_num_rows(static_cast<uint32_t>(n));
  auto* id = req.add_fields_data();
  id->set_field_name("id");
  id->set_type(milvus::proto::schema::Int64);
  auto* ids = id->mutable_scalars()->mutable_long_data();
  for (uint64_t i = 0; i < n; ++i) ids->add_data(static_cast<int64_t>(first + i));
  auto* vec = req.add_fields_data();
  vec->set_field_name("vector");
  vec->set_type(milvus::proto::schema::FloatVector);
  vec->mutable_vectors()->set_dim(dim);
  auto* floats = vec->mutable_vectors()->mutable_float_vector()->mutable_data();
  floats->Add(data.begin() + static_cast<int64_t>(first * dim), data.begin() + static_cast<int64_t>((first + n) * dim));
  return req.SerializeAsString();
}

std::string SearchRequestBytes(const std::string& collection, const float* q, uint32_t dim, uint32_t ef,
                               size_t n = 1, bool with_vectors = false) {
  milvus::proto::common::PlaceholderGroup group;
  auto* p = group.add_placeholders();
  p->set_tag("$0");
  p->set_type(milvus::proto::common::PlaceholderType::FloatVector);
  for (size_t i = 0; i < n; ++i) {
    p->add_values(std::string(reinterpret_cast<const char*>(q + i * dim), dim * sizeof(float)));
  }
  milvus::proto::milvus::SearchRequest req;
  req.set_collection_name(collection);
  req.set_nq(static_cast<int64_t>(n));
  if (with_vectors) req.add_output_fields("vector");
  req.set_placeholder_group(group.SerializeAsString());
  for (auto [k, v] : {std::pair<std::string, std::string>{"anns_field", "vector"},
                      {"topk", std::to_string(kK)},
                      {"metric_type", "COSINE"},
                      {"params", "{\"ef\":" + std::to_string(ef) + "}"}}) {
    auto* kv = req.add_search_params();
    kv->set_key(k);
    kv->set_value(v);
  }
  return req.SerializeAsString();
}

// Runs `fn(thread, i)` for i in [0, n) over `threads` threads (work taken
// from a shared counter); returns the wall time in seconds.
template <typename Fn>
double Parallel(int threads, uint64_t n, Fn&& fn) {
  std::atomic<uint64_t> next{0};
  auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (uint64_t i; (i = next.fetch_add(1)) < n;) fn(t, i);
    });
  }
  for (auto& t : ts) t.join();
  return Seconds(start);
}

struct Latency {
  double qps = 0, p50_ms = 0, p99_ms = 0;
  uint64_t count = 0;
  // CPU the process spent outside the calling threads, per call: the
  // server's side of a request (its handlers, transport and background
  // threads), as if the clients ran elsewhere. 0 for in-process calls.
  double server_cpu_us = 0;
};

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// `threads` threads call `one(thread, query)` back to back for `seconds`,
// each walking the queries from its own offset; latencies of every call.
template <typename Fn>
Latency TimedLoop(int threads, double seconds, size_t nq, Fn&& one) {
  std::vector<std::vector<double>> ms(threads);
  std::vector<double> client_cpu(threads, 0.0);
  const double cpu_start = ProcessCpuSeconds();
  auto start = Clock::now();
  auto until = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      const double cpu0 = ThreadCpuSeconds();
      for (size_t q = static_cast<size_t>(t) * nq / threads;; q = (q + 1) % nq) {
        auto t0 = Clock::now();
        if (t0 >= until) break;
        one(t, q);
        ms[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      client_cpu[t] = ThreadCpuSeconds() - cpu0;
    });
  }
  for (auto& t : ts) t.join();
  double wall = Seconds(start);
  double server_cpu = ProcessCpuSeconds() - cpu_start;
  for (double c : client_cpu) server_cpu -= c;
  std::vector<double> all;
  for (auto& v : ms) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Latency l;
  l.count = all.size();
  if (all.empty()) return l;
  l.qps = double(all.size()) / wall;
  l.p50_ms = all[all.size() / 2];
  l.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  l.server_cpu_us = std::max(0.0, server_cpu) * 1e6 / double(all.size());
  return l;
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(std::stoi(s.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Die("flag " + a + " needs a value");
    std::string v = argv[++i];
    if (a == "--rows") f.rows = std::stoull(v);
    else if (a == "--dim") f.dim = static_cast<uint32_t>(std::stoul(v));
    else if (a == "--batch") f.batch = std::stoull(v);
    else if (a == "--insert-threads") f.insert_threads = std::stoi(v);
    else if (a == "--search-threads") f.search_threads = ParseList(v);
    else if (a == "--seconds") f.seconds = std::stod(v);
    else if (a == "--nq") f.nq = std::stoull(v);
    else if (a == "--ef") f.ef = static_cast<uint32_t>(std::stoul(v));
    else if (a == "--clusters") f.clusters = static_cast<uint32_t>(std::stoul(v));
    else if (a == "--build-threads") f.build_threads = std::stoi(v);
    else if (a == "--nodelay") f.nodelay = v == "1";
    else if (a == "--fast") f.fast = v == "1";
    else if (a == "--search") f.search = v == "1";
    else if (a == "--grpc") f.grpc = v == "1";
    else if (a == "--shapes") f.shapes = v == "1";
    else Die("unknown flag " + a);
  }
  if (f.rows == 0 || f.batch == 0 || f.rows % f.batch != 0) Die("--rows must be a positive multiple of --batch");
  const uint64_t batches = f.rows / f.batch;
  g_nodelay = f.nodelay;
  std::printf("# http_e2e_bench rows=%lu dim=%u batch=%lu insert-threads=%d seconds=%.0f nq=%zu ef=%u "
              "client TCP_NODELAY=%d server fast path=%d malloc=%s\n",
              (unsigned long)f.rows, f.dim, (unsigned long)f.batch, f.insert_threads, f.seconds, f.nq, f.ef,
              f.nodelay ? 1 : 0, f.fast ? 1 : 0, ark::AllocatorDescription().c_str());

  // Data (as search_bench: clustered unit vectors) and exact ground truth.
  std::mt19937 crng(42);
  std::normal_distribution<float> cn(0.0f, 4.0f / std::sqrt(float(f.dim)));
  std::vector<float> centres(uint64_t{f.clusters} * f.dim);
  for (auto& v : centres) v = cn(crng);
  std::vector<float> data = Clustered(f.rows, f.dim, f.clusters, 1, centres);
  std::vector<float> queries = Clustered(f.nq, f.dim, f.clusters, 2, centres);
  std::vector<int64_t> truth;
  if (f.search) truth = Truth(data, f.rows, f.dim, queries, f.nq);

  // Request bodies and engine batches, all built before any clock starts.
  auto t = Clock::now();
  std::vector<std::string> insert_bodies(batches);
  std::vector<RowBatch> engine_batches(batches);
  const CollectionSchema schema = Schema(f.dim);
  Parallel(2, batches, [&](int, uint64_t b) {
    insert_bodies[b] = InsertBody("http", data, b * f.batch, f.batch, f.dim);
    engine_batches[b] = Batch(schema, data, b * f.batch, f.batch, f.dim);
  });
  std::vector<std::string> search_bodies;
  for (size_t q = 0; q < f.nq; ++q) search_bodies.push_back(SearchBody("http", &queries[q * f.dim], f.dim, f.ef));
  std::vector<grpc::ByteBuffer> grpc_inserts(f.grpc ? batches : 0);
  std::vector<grpc::ByteBuffer> grpc_searches;
  if (f.grpc) {
    Parallel(2, batches, [&](int, uint64_t b) {
      grpc_inserts[b] = ToBuffer(InsertRequestBytes("grpc", data, b * f.batch, f.batch, f.dim));
    });
    for (size_t q = 0; q < f.nq; ++q) {
      grpc_searches.push_back(ToBuffer(SearchRequestBytes("http", &queries[q * f.dim], f.dim, f.ef)));
    }
  }
  std::printf("prepared %lu insert bodies of %.1f MB in %.1f s\n", (unsigned long)batches,
              insert_bodies[0].size() / 1e6, Seconds(t));

  char tmpl[] = "/tmp/ark-http-e2e-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  DatabaseOptions options;  // every_commit WAL, auto-seal: `ark serve`'s defaults
  options.index_build_inner_threads = f.build_threads;
  auto opened = Database::Open(Env::Default(), dir, options);
  if (!opened.ok()) Die(opened.status().ToString());
  std::unique_ptr<Database> db = std::move(opened).value();

  MetricsRegistry metrics;
  server::ServerConfig config;
  config.port = 0;
  config.access_log = false;
  auto http = std::make_unique<server::HttpServer>(config, &metrics);
  http->SetFastParsing(f.fast);
  auto service = std::make_unique<server::MilvusService>(db.get(), config.limits);
  service->Register(*http);
  if (auto s = http->Bind(); !s.ok()) Die(s.ToString());
  // As `ark serve`: gRPC on the same port, handed over by the front door.
  auto grpc_api = std::make_unique<rpc::MilvusGrpcServer>(http.get(), db.get(), &metrics);
  if (f.grpc) {
    http->SetHttp2Handler([&grpc_api](int fd) { grpc_api->Adopt(fd); });
    if (auto s = grpc_api->Start(""); !s.ok()) Die(s.ToString());
  }
  std::thread serve([&] { (void)http->Serve(); });
  const int port = http->port();
  std::printf("server on 127.0.0.1:%d, %u worker threads, WAL sync every_commit, data in %s\n", port,
              config.limits.worker_threads, dir.c_str());

  auto admin = NewClient(port);
  Post(*admin, "collections/create",
       json{{"collectionName", "http"},
            {"schema",
             {{"fields",
               json::array({{{"fieldName", "id"}, {"dataType", "Int64"}, {"isPrimary", true}},
                            {{"fieldName", "vector"},
                             {"dataType", "FloatVector"},
                             {"elementTypeParams", {{"dim", f.dim}}}}})}}}}
           .dump());
  if (auto s = db->CreateCollection("", "engine", schema); !s.ok()) Die(s.status().ToString());
  if (f.grpc) {
    if (auto s = db->CreateCollection("", "grpc", schema); !s.ok()) Die(s.status().ToString());
  }

  // 1. Insert.
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i < f.insert_threads; ++i) clients.push_back(NewClient(port));
  double http_s = Parallel(f.insert_threads, batches,
                           [&](int th, uint64_t b) { Post(*clients[th], "entities/insert", insert_bodies[b]); });
  insert_bodies.clear();
  insert_bodies.shrink_to_fit();
  double engine_s = Parallel(f.insert_threads, batches, [&](int, uint64_t b) {
    auto w = db->Insert("", "engine", std::move(engine_batches[b]));
    if (!w.ok()) Die(w.status().ToString());
  });
  engine_batches.clear();
  double grpc_s = 0;
  if (f.grpc) {
    std::vector<std::unique_ptr<GrpcClient>> gclients;
    for (int i = 0; i < f.insert_threads; ++i) gclients.push_back(NewGrpcClient(port));
    grpc_s = Parallel(f.insert_threads, batches, [&](int th, uint64_t b) {
      milvus::proto::milvus::MutationResult r;
      if (!r.ParseFromString(FromBuffer(GrpcCall(*gclients[th], "Insert", grpc_inserts[b]))) ||
          r.status().code() != 0) {
        Die("gRPC Insert: " + r.status().reason());
      }
    });
    grpc_inserts.clear();
    auto rows_grpc = db->DescribeCollection("", "grpc");
    if (!rows_grpc.ok() || rows_grpc->live_rows != f.rows) Die("grpc collection does not hold every row");
    if (auto s = db->DropCollection("", "grpc"); !s.ok()) Die(s.status().ToString());
  }
  auto rows_http = db->DescribeCollection("", "http");
  if (!rows_http.ok() || rows_http->live_rows != f.rows) Die("http collection does not hold every row");
  const double http_rps = double(f.rows) / http_s, engine_rps = double(f.rows) / engine_s;
  std::printf("\n## Insert: %lu rows of %u-d in batches of %lu, %d threads, WAL every_commit\n\n", (unsigned long)f.rows,
              f.dim, (unsigned long)f.batch, f.insert_threads);
  std::printf("| path | seconds | rows/s | HTTP / in-process |\n|---|---|---|---|\n");
  std::printf("| HTTP entities/insert (keep-alive, prebuilt bodies) | %.2f | %.0f | %.2f |\n", http_s, http_rps,
              http_rps / engine_rps);
  if (f.grpc) {
    const double grpc_rps = double(f.rows) / grpc_s;
    std::printf("| gRPC Insert (one channel per thread, prebuilt messages) | %.2f | %.0f | %.2f (%.2f of HTTP) |\n",
                grpc_s, grpc_rps, grpc_rps / engine_rps, grpc_rps / http_rps);
  }
  std::printf("| in process Database::Insert (prebuilt RowBatch) | %.2f | %.0f | 1.00 |\n", engine_s, engine_rps);
  std::fflush(stdout);
  if (auto s = db->DropCollection("", "engine"); !s.ok()) Die(s.status().ToString());
  if (!f.search) {
    clients.clear();
    admin.reset();
    http->Stop();
    serve.join();
    grpc_api.reset();
    service.reset();
    http.reset();
    db.reset();
    std::filesystem::remove_all(dir);
    return 0;
  }

  // 2. Index through the API, flush, wait for the background builds.
  t = Clock::now();
  Post(*admin, "indexes/create",
       json{{"collectionName", "http"},
            {"indexParams", json::array({{{"fieldName", "vector"},
                                          {"indexName", "vector"},
                                          {"metricType", "COSINE"},
                                          {"indexType", "HNSW"},
                                          {"params", {{"M", 16}, {"efConstruction", 200}}}}})}}
           .dump());
  Post(*admin, "collections/flush", R"({"collectionName":"http"})");
  if (!db->WaitForIndexBuilds(std::chrono::hours(1))) Die("index builds did not finish in an hour");
  auto info = db->DescribeCollection("", "http");
  std::printf("\nindex: HNSW M=16 efConstruction=200 COSINE over %lu sealed segments, built in %.1f s (%d inner threads)\n",
              (unsigned long)(info.ok() ? info->sealed_segments : 0), Seconds(t), f.build_threads);

  // 3. Search.
  auto snap_or = db->GetSnapshot("", "http");
  if (!snap_or.ok()) Die(snap_or.status().ToString());
  auto snap = *snap_or;
  auto engine_one = [&](size_t q, int64_t* out) {
    SearchRequest req;
    req.anns_field = "vector";
    req.vectors.assign(queries.begin() + q * f.dim, queries.begin() + (q + 1) * f.dim);
    req.num_queries = 1;
    req.limit = kK;
    req.params.ef = f.ef;
    auto r = snap->Search(req);
    if (!r.ok()) Die(r.status().ToString());
    if (out != nullptr) {
      const auto& ids = r->queries[0].rows.columns[0].ints;
      for (size_t j = 0; j < kK; ++j) out[j] = j < ids.size() ? ids[j] : -1;
    }
  };
  // Recall of both paths over every query (one pass, untimed).
  std::vector<int64_t> got_http(f.nq * kK, -1), got_engine(f.nq * kK, -1);
  for (size_t q = 0; q < f.nq; ++q) {
    json reply = json::parse(Post(*admin, "entities/search", search_bodies[q]));
    const json& hits = reply["data"];
    for (size_t j = 0; j < kK && j < hits.size(); ++j) got_http[q * kK + j] = hits[j]["id"].get<int64_t>();
    engine_one(q, &got_engine[q * kK]);
  }
  const double recall_http = Recall(got_http, truth, f.nq), recall_engine = Recall(got_engine, truth, f.nq);
  double recall_grpc = 0;
  std::vector<std::unique_ptr<GrpcClient>> gclients;
  if (f.grpc) {
    gclients.push_back(NewGrpcClient(port));
    std::vector<int64_t> got(f.nq * kK, -1);
    for (size_t q = 0; q < f.nq; ++q) {
      milvus::proto::milvus::SearchResults r;
      if (!r.ParseFromString(FromBuffer(GrpcCall(*gclients[0], "Search", grpc_searches[q]))) ||
          r.status().code() != 0) {
        Die("gRPC Search: " + r.status().reason());
      }
      const auto& ids = r.results().ids().int_id().data();
      for (int j = 0; j < static_cast<int>(kK) && j < ids.size(); ++j) got[q * kK + static_cast<size_t>(j)] = ids[j];
    }
    recall_grpc = Recall(got, truth, f.nq);
  }

  std::printf("\n## Search: 1 query vector, limit 10, ef=%u, %.0f s per row, %zu distinct queries\n\n", f.ef,
              f.seconds, f.nq);
  std::printf("| threads | path | QPS | p50 ms | p99 ms | recall@10 | HTTP / in-process QPS | server CPU µs / query |\n"
              "|---|---|---|---|---|---|---|---|\n");
  for (int threads : f.search_threads) {
    clients.clear();
    for (int i = 0; i < threads; ++i) clients.push_back(NewClient(port));
    Latency h = TimedLoop(threads, f.seconds, f.nq,
                          [&](int th, size_t q) { Post(*clients[th], "entities/search", search_bodies[q]); });
    Latency e = TimedLoop(threads, f.seconds, f.nq, [&](int, size_t q) { engine_one(q, nullptr); });
    std::printf("| %d | HTTP entities/search | %.0f | %.2f | %.2f | %.3f | %.2f | %.0f |\n", threads, h.qps, h.p50_ms,
                h.p99_ms, recall_http, h.qps / e.qps, h.server_cpu_us);
    if (f.grpc) {
      gclients.clear();
      for (int i = 0; i < threads; ++i) gclients.push_back(NewGrpcClient(port));
      Latency g = TimedLoop(threads, f.seconds, f.nq,
                            [&](int th, size_t q) { GrpcCall(*gclients[th], "Search", grpc_searches[q]); });
      std::printf("| %d | gRPC Search | %.0f | %.2f | %.2f | %.3f | %.2f (%.2f of HTTP) | %.0f (%.2f of HTTP) |\n",
                  threads, g.qps, g.p50_ms, g.p99_ms, recall_grpc, g.qps / e.qps, g.qps / h.qps, g.server_cpu_us,
                  g.server_cpu_us / h.server_cpu_us);
    }
    std::printf("| %d | in process CollectionSnapshot::Search | %.0f | %.2f | %.2f | %.3f | 1.00 | — |\n", threads,
                e.qps, e.p50_ms, e.p99_ms, recall_engine);
    std::fflush(stdout);
  }

  // Other request shapes, one client thread: many query vectors per request
  // (the encoding of the vectors weighs more) and hits that carry their
  // vectors (the encoding of the answer weighs more). QPS counts queries.
  if (f.grpc && f.shapes) {
    std::printf("\n## Search shapes, 1 thread, %.0f s per row (QPS = query vectors per second)\n\n", f.seconds);
    std::printf("| request | path | QPS | p50 ms / request | server CPU µs / query |\n|---|---|---|---|---|\n");
    clients.clear();
    clients.push_back(NewClient(port));
    gclients.clear();
    gclients.push_back(NewGrpcClient(port));
    struct Shape {
      const char* name;
      size_t per_request;
      bool with_vectors;
    };
    for (const Shape& shape : {Shape{"16 query vectors, ids only", 16, false},
                               Shape{"1 query vector, hits with their vectors", 1, true}}) {
      std::vector<std::string> bodies;
      std::vector<grpc::ByteBuffer> requests;
      const size_t n = std::max<size_t>(1, f.nq / shape.per_request);
      for (size_t r = 0; r < n; ++r) {
        const float* q = &queries[(r * shape.per_request % (f.nq - shape.per_request + 1)) * f.dim];
        bodies.push_back(SearchBody("http", q, f.dim, f.ef, shape.per_request, shape.with_vectors));
        requests.push_back(ToBuffer(SearchRequestBytes("http", q, f.dim, f.ef, shape.per_request, shape.with_vectors)));
      }
      Latency h = TimedLoop(1, f.seconds, n, [&](int, size_t r) { Post(*clients[0], "entities/search", bodies[r]); });
      Latency g = TimedLoop(1, f.seconds, n, [&](int, size_t r) { GrpcCall(*gclients[0], "Search", requests[r]); });
      const double k = double(shape.per_request);
      std::printf("| %s | HTTP entities/search | %.0f | %.2f | %.0f |\n", shape.name, h.qps * k, h.p50_ms,
                  h.server_cpu_us / k);
      std::printf("| %s | gRPC Search | %.0f (%.2f of HTTP) | %.2f | %.0f (%.2f of HTTP) |\n", shape.name, g.qps * k,
                  g.qps / h.qps, g.p50_ms, g.server_cpu_us / k, g.server_cpu_us / h.server_cpu_us);
      std::fflush(stdout);
    }
  }

  clients.clear();
  gclients.clear();
  admin.reset();
  http->Stop();
  serve.join();
  grpc_api.reset();
  snap.reset();
  service.reset();
  http.reset();
  db.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
