#include "server/http_server.h"

#include "server/json_depth.h"
#include "server/reuse_pool.h"

#include <httplib.h>

#include "server/front_door.h"
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <stdexcept>

namespace ark::server {
namespace {

constexpr char kMilvusPrefix[] = "/v2/vectordb/";
constexpr char kAdminPrefix[] = "/ark/v1/";

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// What a page answers without a credential: how to give one.
constexpr std::string_view kPageUnauthenticated =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>Ark: authentication needed</title>\n</head>\n<body>\n"
    "<h1>Authentication needed</h1>\n"
    "<p>This page shows the server's administrative state and needs the admin token "
    "(<code>auth.admin_token</code>; without one, a user credential). Open the address again "
    "with <code>?token=TOKEN</code> added, or send <code>Authorization: Bearer TOKEN</code>.</p>\n"
    "</body>\n</html>\n";

// A regular expression matching `text` and nothing else.
std::string RegexMatchingExactly(std::string_view text) {
  std::string pattern;
  for (char c : text) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) pattern += '\\';
    pattern += c;
  }
  return pattern;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The generic body parse: any JSON object ({} when empty), else code 1801.
std::optional<ApiError> ParseJsonBody(const std::string& raw, nlohmann::json* body) {
  if (raw.empty()) {
    *body = nlohmann::json::object();
    return std::nullopt;
  }
  // nlohmann destroys and copies values recursively: a deeply nested body
  // would overflow the stack (json_depth.h). simdjson, on the fast routes,
  // stops at its own depth limit.
  if (JsonNestingDepth(raw) > kMaxJsonDepth) {
    return ApiError{MilvusCode::kBadJson,
                    "can only accept json format request, error: the body nests arrays and objects "
                    "deeper than " + std::to_string(kMaxJsonDepth) + " levels",
                    200};
  }
  *body = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (body->is_discarded()) {
    return ApiError{MilvusCode::kBadJson,
                    "can only accept json format request, error: the body is not valid JSON", 200};
  }
  if (!body->is_object()) {
    return ApiError{MilvusCode::kBadJson,
                    "can only accept json format request, error: the body must be a JSON object",
                    200};
  }
  return std::nullopt;
}

// A pooled request-body buffer (see the POST handler in InstallRoutes).
class BodyBuffer {
 public:
  // Buffers above this are freed after their request rather than kept.
  static constexpr size_t kKeptBytes = 32u << 20;
  // Below this a fresh allocation is cheap (glibc's heap, no new mapping).
  static constexpr size_t kPooledBytes = 64u << 10;

  // `n` plus an eighth, in 64 KiB steps: bodies of a steady workload vary by
  // a few bytes, and each new maximum would otherwise map a new buffer.
  static size_t Capacity(size_t n) { return (n + n / 8 + 0xffff) & ~size_t{0xffff}; }

  BodyBuffer() {
    if (auto s = Pool().Take()) buf_ = std::move(*s);
    buf_.clear();
  }
  ~BodyBuffer() {
    if (buf_.capacity() >= kPooledBytes && buf_.capacity() <= kKeptBytes) Pool().Give(std::move(buf_));
  }
  BodyBuffer(const BodyBuffer&) = delete;
  BodyBuffer& operator=(const BodyBuffer&) = delete;

  std::string& get() { return buf_; }

 private:
  static ReusePool<std::string>& Pool() {
    static auto* pool = new ReusePool<std::string>(8);  // never destroyed: workers may outlive statics
    return *pool;
  }
  std::string buf_;
};

}  // namespace

HttpServer::HttpServer(ServerConfig config, MetricsRegistry* metrics)
    : config_(std::move(config)), metrics_(metrics) {
  if (config_.tls.enabled()) {
    http_ = std::make_unique<httplib::SSLServer>(config_.tls.cert_file.c_str(),
                                                 config_.tls.key_file.c_str());
  } else {
    auto front = std::make_unique<FrontDoor>();
    front_door_ = front.get();
    http_ = std::move(front);
  }
  const uint32_t threads = config_.limits.worker_threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(config_.limits.max_body_bytes);
  // httplib writes a reply's headers and body in separate sends; with Nagle
  // on, the body waits for the client's delayed ACK (~40 ms per reply,
  // measured by bench/http_e2e_bench.cc: p50 88 ms for a 0.4 ms search).
  http_->set_tcp_nodelay(true);
  // httplib closes a keep-alive connection after 5 requests by default, so
  // clients reconnect (connect, accept, a queue hop to a worker) every fifth
  // request: 2-thread HTTP search went from 50% to 72% of in-process QPS
  // with 100 (bench/http_e2e_bench.cc).
  http_->set_keep_alive_max_count(config_.limits.keep_alive_max_requests);
  // cpp-httplib's default also sets SO_REUSEPORT, which would let a second
  // server share the port silently; keep only SO_REUSEADDR.
  http_->set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  metrics_->Describe("ark_http_requests_total", "HTTP requests by route and Milvus code");
  metrics_->Describe("ark_http_request_seconds", "HTTP request latency by route");
}

HttpServer::~HttpServer() = default;

bool HttpServer::SetHttp2Handler(std::function<void(int fd)> handler) {
  if (front_door_ == nullptr) return false;
  front_door_->SetHttp2Handler(std::move(handler));
  return true;
}

void HttpServer::RegisterMilvus(const std::string& route, RouteHandler handler) {
  milvus_routes_[kMilvusPrefix + route] = Route{std::move(handler), nullptr};
}

void HttpServer::RegisterMilvusFast(const std::string& route, BodyParser parser,
                                    RouteHandler handler) {
  milvus_routes_[kMilvusPrefix + route] = Route{std::move(handler), std::move(parser)};
}

void HttpServer::RegisterAdmin(const std::string& route, RouteHandler handler) {
  admin_routes_[kAdminPrefix + route] = Route{std::move(handler), nullptr};
}

void HttpServer::RegisterReplication(const std::string& route, RouteHandler handler) {
  admin_routes_[kAdminPrefix + route] = Route{std::move(handler), nullptr, true};
}

void HttpServer::RegisterRaw(const std::string& route, bool get, RawHandler handler) {
  raw_routes_.push_back(RawRoute{kAdminPrefix + route, get, std::move(handler)});
}

Status HttpServer::AuthenticateReplication(const httplib::Request& request) const {
  const AuthConfig& auth = config_.auth;
  if (auth.replication_token.empty()) {
    std::string user;
    return Authenticate(request, /*admin=*/true, &user);
  }
  std::string header = request.get_header_value("Authorization");
  const std::string kBearer = "Bearer ";
  if (header.compare(0, kBearer.size(), kBearer) == 0 &&
      ConstantTimeEquals(header.substr(kBearer.size()), auth.replication_token)) {
    return Status::OK();
  }
  return Status::PermissionDenied("replication routes need the replication credential (auth.replication_token)");
}

void HttpServer::DispatchRaw(const RawRoute& route, const httplib::Request& request, const std::string& body,
                             httplib::Response& response) {
  const auto start = std::chrono::steady_clock::now();
  // Errors are never HTTP 200 here: a stream's client reads the status first.
  auto fail = [&](ApiError e, const nlohmann::json& data) {
    if (e.http_status == 200) e.http_status = 400;
    nlohmann::json envelope = ErrorEnvelope(e);
    if (!data.is_null()) envelope["data"] = data;
    Reply(response, e.http_status, envelope);
    metrics_->IncrementCounter("ark_http_requests_total",
                               {{"route", route.path}, {"code", std::to_string(static_cast<int>(e.code))}});
    if (config_.access_log) {
      spdlog::info("{} {} {} code={} {:.3f}ms", request.remote_addr, request.method, request.path,
                   static_cast<int>(e.code), SecondsSince(start) * 1e3);
    }
  };
  if (Status s = AuthenticateReplication(request); !s.ok()) {
    return fail({MilvusCode::kUnauthenticated, s.message(), 401}, nullptr);
  }
  RawRequest raw;
  raw.path = request.path;
  raw.remote = request.remote_addr;
  if (route.get) {
    raw.body = nlohmann::json::object();
  } else if (auto e = ParseJsonBody(body, &raw.body)) {
    return fail(*e, nullptr);
  }
  RawReply reply;
  try {
    reply = route.handler(raw);
  } catch (const HandlerError& e) {
    return fail(e.error, nullptr);
  } catch (const std::exception& e) {
    return fail({MilvusCode::kUnexpected, std::string("internal error: ") + e.what(), 500}, nullptr);
  }
  if (reply.error) return fail(*reply.error, reply.error_data);
  metrics_->IncrementCounter("ark_http_requests_total", {{"route", route.path}, {"code", "0"}});
  if (config_.access_log) {
    spdlog::info("{} {} {} streaming", request.remote_addr, request.method, request.path);
  }
  auto producer = std::make_shared<decltype(reply.producer)>(std::move(reply.producer));
  response.status = 200;
  response.set_chunked_content_provider(reply.content_type, [producer](size_t, httplib::DataSink& sink) {
    (*producer)([&sink](std::string_view bytes) { return sink.is_writable() && sink.write(bytes.data(), bytes.size()); });
    sink.done();
    return true;
  });
}

void HttpServer::SetErrorMapper(
    std::function<ApiError(const std::string&, const Status&)> mapper) {
  error_mapper_ = std::move(mapper);
}

void HttpServer::SetReady(bool ready, std::string reason) {
  {
    std::lock_guard<std::mutex> lock(reason_mu_);
    not_ready_reason_ = std::move(reason);
  }
  ready_.store(ready);
}

void HttpServer::CloseRoutes(std::string reason) {
  {
    std::lock_guard<std::mutex> lock(reason_mu_);
    closed_reason_ = std::move(reason);
  }
  routes_open_.store(false, std::memory_order_release);
}

void HttpServer::OpenRoutes() { routes_open_.store(true, std::memory_order_release); }

void HttpServer::Reply(httplib::Response& response, int http_status,
                       const nlohmann::json& body) const {
  response.status = http_status;
  response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json");
}

Status HttpServer::Authenticate(const httplib::Request& request, bool admin,
                                std::string* user) const {
  if (!config_.auth.enabled()) return Status::OK();
  std::string header = request.get_header_value("Authorization");
  const std::string kBearer = "Bearer ";
  if (header.compare(0, kBearer.size(), kBearer) != 0) {
    return Status::PermissionDenied("user hasn't authenticated");
  }
  return AuthenticateCredential(header.substr(kBearer.size()), admin, user);
}

Status HttpServer::AuthenticateCredential(const std::string& credential, bool admin,
                                          std::string* user) const {
  const AuthConfig& auth = config_.auth;
  if (!auth.enabled()) return Status::OK();
  if (admin && !auth.admin_token.empty()) {
    if (ConstantTimeEquals(credential, auth.admin_token)) {
      *user = "admin";
      return Status::OK();
    }
    return Status::PermissionDenied("user hasn't authenticated");
  }
  if (!auth.token.empty() && ConstantTimeEquals(credential, auth.token)) {
    *user = "token";
    return Status::OK();
  }
  if (!auth.admin_token.empty() && ConstantTimeEquals(credential, auth.admin_token)) {
    *user = "admin";
    return Status::OK();
  }
  auto colon = credential.find(':');
  if (colon != std::string::npos) {
    auto it = auth.users.find(credential.substr(0, colon));
    if (it != auth.users.end() && ConstantTimeEquals(credential.substr(colon + 1), it->second)) {
      *user = it->first;
      return Status::OK();
    }
  }
  return Status::PermissionDenied("user hasn't authenticated");
}

HttpServer::MilvusCall HttpServer::CallMilvus(RequestContext& ctx) {
  MilvusCall call;
  if (!routes_open_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(reason_mu_);
    call.error = ApiError{MilvusCode{1}, "service not ready: " + closed_reason_, 503};
    return call;
  }
  auto it = milvus_routes_.find(ctx.route);
  if (it == milvus_routes_.end()) {
    call.error = ApiError{MilvusCode::kRouteNotFound, "route " + ctx.route + " is not supported by Ark", 404};
    return call;
  }
  struct InFlight {
    std::atomic<int>& n;
    ~InFlight() { n.fetch_sub(1); }
  } in_flight{in_flight_};
  if (in_flight_.fetch_add(1) >= static_cast<int>(config_.limits.max_concurrent_requests)) {
    call.error = ApiError{MilvusCode::kRateLimited,
                          "rate limited: more than " + std::to_string(config_.limits.max_concurrent_requests) +
                              " concurrent requests",
                          200};
    return call;
  }
  Result<nlohmann::json> result = Status::Internal("handler did not run");
  try {
    result = it->second.handler(ctx);
  } catch (const HandlerError& e) {
    call.error = e.error;
    return call;
  } catch (const std::exception& e) {
    call.error = ApiError{MilvusCode::kUnexpected, std::string("internal error: ") + e.what(), 200};
    return call;
  }
  if (ctx.Expired()) {
    call.error = ApiError{MilvusCode::kUnexpected, "request timed out (deadline exceeded)", 408};
    return call;
  }
  if (!result.ok()) {
    call.error = error_mapper_ ? error_mapper_(ctx.route, result.status()) : ApiErrorFromStatus(result.status());
    return call;
  }
  call.data = std::move(result).value();
  return call;
}

void HttpServer::Dispatch(const std::string& route, bool admin, const Route& handler,
                          const httplib::Request& request, const std::string& request_body,
                          httplib::Response& response) {
  const auto start = std::chrono::steady_clock::now();
  int code = 0;
  // Unknown paths share one label so that random URLs cannot grow /metrics.
  const std::string metric_route =
      milvus_routes_.count(route) || admin_routes_.count(route) ? route : "unknown";
  auto finish = [&](int http_status, const nlohmann::json& body) {
    Reply(response, http_status, body);
    double seconds = SecondsSince(start);
    metrics_->IncrementCounter("ark_http_requests_total",
                               {{"route", metric_route}, {"code", std::to_string(code)}});
    metrics_->ObserveHistogram("ark_http_request_seconds", {{"route", metric_route}}, seconds);
    if (config_.access_log) {
      spdlog::info("{} {} {} code={} {:.3f}ms {}B", request.remote_addr, request.method, route,
                   code, seconds * 1e3, request_body.size());
    }
  };
  auto fail = [&](const ApiError& e) {
    code = static_cast<int>(e.code);
    finish(e.http_status, ErrorEnvelope(e));
  };

  RequestContext ctx;
  ctx.route = route;
  if (Status s = handler.replication ? AuthenticateReplication(request) : Authenticate(request, admin, &ctx.user);
      !s.ok()) {
    return fail({MilvusCode::kUnauthenticated, s.message(), 401});
  }
  // Bound concurrency: beyond the limit, answer at once instead of queueing.
  struct InFlight {
    std::atomic<int>& n;
    ~InFlight() { n.fetch_sub(1); }
  } in_flight{in_flight_};
  if (in_flight_.fetch_add(1) >= static_cast<int>(config_.limits.max_concurrent_requests)) {
    return fail({MilvusCode::kRateLimited,
                 "rate limited: more than " +
                     std::to_string(config_.limits.max_concurrent_requests) +
                     " concurrent requests",
                 200});
  }

  ctx.raw_body = request_body;
  if (fast_parsing_ && handler.parser && !request_body.empty()) {
    ctx.parsed = handler.parser(request_body, &ctx.body);
  }
  if (!ctx.parsed) {
    if (auto e = ParseJsonBody(request_body, &ctx.body)) return fail(*e);
  }
  if (auto db = ctx.body.find("dbName"); db != ctx.body.end() && !db->is_null() && !db->is_string()) {
    // Not ignored: running the request on another database would be worse.
    return fail({MilvusCode::kInvalidParameter,
                 std::string("dbName must be a string, got ") + db->type_name(), 200});
  } else if (db != ctx.body.end() && db->is_string() && !db->get<std::string>().empty()) {
    ctx.db_name = db->get<std::string>();
  } else if (request.has_header("DB-Name")) {
    ctx.db_name = request.get_header_value("DB-Name");
  } else {
    ctx.db_name = "default";
  }
  ctx.int64_as_string = request.get_header_value("Accept-Type-Allow-Int64") == "false";

  double timeout = config_.limits.default_request_timeout_seconds;
  if (request.has_header("Request-Timeout")) {
    std::string t = request.get_header_value("Request-Timeout");
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (end == t.c_str() || *end != '\0' || !(v > 0) || v > 86400) {
      return fail({MilvusCode::kInvalidParameter,
                   "Request-Timeout '" + t + "' must be a number of seconds in (0, 86400]", 200});
    }
    timeout = v;
  }
  ctx.deadline = start + std::chrono::microseconds(static_cast<int64_t>(timeout * 1e6));

  // A fast handler that meets what it does not handle asks for the generic
  // parse and runs again (dbName is the same: the parser kept it in ctx.body).
  auto run = [&]() -> Result<nlohmann::json> {
    try {
      return handler.handler(ctx);
    } catch (const ReparseBody&) {
      if (!ctx.parsed) throw std::logic_error("ReparseBody thrown without a parsed body");
    }
    ctx.parsed.reset();
    ctx.envelope_extra = nlohmann::json::object();
    if (auto e = ParseJsonBody(request_body, &ctx.body)) throw HandlerError{*e};
    return handler.handler(ctx);
  };
  Result<nlohmann::json> result = Status::Internal("handler did not run");
  try {
    result = run();
  } catch (const HandlerError& e) {
    return fail(e.error);
  } catch (const std::exception& e) {
    return fail({MilvusCode::kUnexpected, std::string("internal error: ") + e.what(), 200});
  }
  if (ctx.Expired()) {
    return fail({MilvusCode::kUnexpected,
                 "request timed out after " + std::to_string(timeout) + " seconds", 408});
  }
  if (!result.ok()) {
    return fail(error_mapper_ ? error_mapper_(route, result.status())
                              : ApiErrorFromStatus(result.status()));
  }
  nlohmann::json envelope = SuccessEnvelope(std::move(result).value());
  for (auto& [key, value] : ctx.envelope_extra.items()) envelope[key] = std::move(value);
  finish(200, envelope);
}

void HttpServer::RegisterProbe(const std::string& path, ProbeHandler handler) {
  probes_.emplace_back(path, std::move(handler));
}

void HttpServer::RegisterPage(const std::string& path, PageHandler handler) {
  pages_.push_back(PageRoute{path, std::move(handler)});
}

Status HttpServer::AuthenticatePage(const httplib::Request& request, PageRequest* page) const {
  if (!config_.auth.enabled()) return Status::OK();
  std::string user;
  // The header when there is one (a wrong header is not rescued by the
  // query), else ?token=.
  if (request.has_header("Authorization")) return Authenticate(request, /*admin=*/true, &user);
  if (!request.has_param("token")) return Status::PermissionDenied("user hasn't authenticated");
  const std::string token = request.get_param_value("token");
  ARK_RETURN_IF_ERROR(AuthenticateCredential(token, /*admin=*/true, &user));
  page->credential_query = "token=" + httplib::detail::encode_query_param(token);
  return Status::OK();
}

void HttpServer::DispatchPage(const PageRoute& route, const httplib::Request& request,
                              httplib::Response& response) {
  const auto start = std::chrono::steady_clock::now();
  // Set on every answer, refusals included: nothing here is to be cached,
  // leak its URL (and a ?token= in it) to another site, run a script, load
  // anything or be framed.
  response.set_header("Cache-Control", "no-store");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Content-Security-Policy",
                      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  auto finish = [&](const PageReply& reply) {
    response.status = reply.http_status;
    response.set_content(reply.body, reply.content_type);
    if (config_.access_log) {
      spdlog::info("{} {} {} http={} {:.3f}ms", request.remote_addr, request.method, request.path,
                   reply.http_status, SecondsSince(start) * 1e3);
    }
  };
  PageRequest page{request.path, request.remote_addr, ""};
  if (!AuthenticatePage(request, &page).ok()) {
    response.set_header("WWW-Authenticate", "Bearer realm=\"ark\"");
    return finish(PageReply{401, "text/html; charset=utf-8", std::string(kPageUnauthenticated)});
  }
  if (!routes_open_.load(std::memory_order_acquire)) {
    response.set_header("Retry-After", "1");
    return finish(PageReply{503, "text/plain; charset=utf-8", "service not ready\n"});
  }
  struct InFlight {
    std::atomic<int>& n;
    ~InFlight() { n.fetch_sub(1); }
  } in_flight{in_flight_};
  if (in_flight_.fetch_add(1) >= static_cast<int>(config_.limits.max_concurrent_requests)) {
    response.set_header("Retry-After", "1");
    return finish(PageReply{503, "text/plain; charset=utf-8",
                            "rate limited: more than limits.max_concurrent_requests requests\n"});
  }
  try {
    finish(route.handler(page));
  } catch (const std::exception& e) {
    spdlog::error("GET {}: {}", request.path, e.what());
    finish(PageReply{500, "text/plain; charset=utf-8", "internal error (see the server log)\n"});
  }
}

void HttpServer::InstallRoutes() {
  for (const auto& entry : probes_) {
    // A copy, not a structured binding: clang 14 cannot capture those.
    ProbeHandler probe = entry.second;
    http_->Get(entry.first, [probe](const httplib::Request& req, httplib::Response& res) {
      ProbeReply r = probe(req);
      res.status = r.http_status;
      res.set_content(r.body.dump(), "application/json");
    });
  }
  for (const PageRoute& page : pages_) {
    // httplib matches a GET pattern as a regular expression over the whole path.
    std::string pattern = RegexMatchingExactly(page.path);
    if (!page.path.empty() && page.path.back() == '/') pattern += ".+";
    http_->Get(pattern, [this, page](const httplib::Request& req, httplib::Response& res) {
      DispatchPage(page, req, res);
    });
  }
  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"alive\"}", "application/json");
  });
  http_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    Status health = ready_.load() && readiness_check_ ? readiness_check_() : Status::OK();
    nlohmann::json body;
    if (ready_.load() && health.ok()) {
      body = {{"status", "ready"}};
    } else {
      res.status = 503;
      std::lock_guard<std::mutex> lock(reason_mu_);
      body = {{"status", "not ready"}, {"reason", !health.ok() ? health.ToString() : not_ready_reason_}};
    }
    if (readiness_details_) body["details"] = readiness_details_();
    res.set_content(body.dump(), "application/json");
  });
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_->Render(), "text/plain; version=0.0.4");
  });
  auto route_handler = [this](const httplib::Request& req, const std::string& body, httplib::Response& res) {
    const std::string& path = req.path;
    if (!routes_open_.load(std::memory_order_acquire)) {
      std::string reason;
      {
        std::lock_guard<std::mutex> lock(reason_mu_);
        reason = closed_reason_;
      }
      res.set_header("Retry-After", "1");
      Reply(res, 503, nlohmann::json{{"code", 1}, {"message", "service not ready: " + reason}});
      return;
    }
    for (const auto& raw : raw_routes_) {
      const bool get = req.method == "GET";
      if (raw.get == get && (raw.get ? path.size() > raw.path.size() && path.rfind(raw.path, 0) == 0
                                     : path == raw.path)) {
        return DispatchRaw(raw, req, body, res);
      }
    }
    if (auto it = milvus_routes_.find(path); it != milvus_routes_.end()) {
      return Dispatch(path, false, it->second, req, body, res);
    }
    if (auto it = admin_routes_.find(path); it != admin_routes_.end()) {
      return Dispatch(path, true, it->second, req, body, res);
    }
    bool admin = path.rfind(kAdminPrefix, 0) == 0;
    Route unknown{[&](RequestContext&) -> Result<nlohmann::json> {
                    throw HandlerError{{MilvusCode::kInvalidParameter,
                                        "route " + req.method + " " + path + " is not supported by Ark", 404}};
                  },
                  nullptr};
    Dispatch(path, admin, unknown, req, body, res);
  };
  // POST bodies are read through a content reader: httplib's plain handlers
  // parse an application/x-www-form-urlencoded body as a form and refuse one
  // above 8 KiB (a compile-time constant of the shared library), while Milvus
  // clients (curl -d among them) send JSON under that Content-Type. The body
  // size bound (set_payload_max_length) still applies.
  // The body size bound is enforced here: set_payload_max_length does not
  // cover content readers.
  http_->Post(R"(/.*)", [this, route_handler](const httplib::Request& req, httplib::Response& res,
                                              const httplib::ContentReader& reader) {
    const uint64_t max = config_.limits.max_body_bytes;
    auto too_large = [&] {
      Reply(res, 413,
            ErrorEnvelope({MilvusCode::kInvalidParameter,
                           "request body is larger than limits.max_body_bytes (" + std::to_string(max) + " bytes)",
                           413}));
    };
    // An oversize body is still read and discarded, up to a bound, before
    // the 413 is sent and the connection closed (a lingering close): a client
    // still writing its body would otherwise meet a reset connection (EPIPE)
    // instead of the answer. A body beyond the bound is cut off unread.
    const uint64_t drain_max = std::max<uint64_t>(2 * max, 64ull << 20);
    const uint64_t length = req.get_header_value<uint64_t>("Content-Length");
    if (length > max) {
      if (length <= drain_max) reader([](const char*, size_t) { return true; });
      res.set_header("Connection", "close");
      return too_large();
    }
    // Bodies are read into pooled buffers: a fresh 10 MB string per insert
    // costs more in page faults than the parse (perf, bench/http_e2e_bench),
    // and a pool (most recently used first) keeps the few warm buffers in use
    // whichever of the worker threads takes the request, where one buffer per
    // thread faults in a new one on each thread's first big request.
    // Reserved from Content-Length with headroom (not a copy per doubling, and
    // not a new buffer for a slightly bigger body); the padding lets the fast
    // routes' simdjson parse read the body in place.
    BodyBuffer lease;
    std::string& body = lease.get();
    body.reserve(BodyBuffer::Capacity(length + kBodyPadding));
    bool over = false;
    uint64_t received = 0;
    reader([&](const char* data, size_t n) {
      received += n;
      if (received > max) {  // a chunked body without Content-Length: discarded from here
        over = true;
        return received <= drain_max;
      }
      body.append(data, n);
      return true;
    });
    if (over) {
      res.set_header("Connection", "close");
      return too_large();
    }
    route_handler(req, body, res);
  });
  http_->Get(R"(/(v2|ark)/.*)", [route_handler](const httplib::Request& req, httplib::Response& res) {
    route_handler(req, req.body, res);
  });
  http_->set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 413) {
      Reply(res, 413,
            ErrorEnvelope({MilvusCode::kInvalidParameter,
                           "request body is larger than limits.max_body_bytes (" +
                               std::to_string(config_.limits.max_body_bytes) + " bytes)",
                           413}));
    } else if (res.body.empty()) {
      Reply(res, res.status,
            ErrorEnvelope({MilvusCode::kInvalidParameter,
                           "route " + req.method + " " + req.path + " is not supported by Ark",
                           res.status}));
    }
  });
}

Status HttpServer::Bind() {
  if (config_.tls.enabled() && !http_->is_valid()) {
    return Status::InvalidArgument("TLS certificate " + config_.tls.cert_file + " or key " +
                                   config_.tls.key_file + " cannot be loaded");
  }
  InstallRoutes();
  if (config_.port == 0) {
    port_ = http_->bind_to_any_port(config_.host);
    if (port_ < 0) return Status::IOError("cannot bind " + config_.host + " on any port");
  } else {
    if (!http_->bind_to_port(config_.host, config_.port)) {
      return Status::IOError("cannot listen on " + config_.host + ":" +
                             std::to_string(config_.port) + " (address in use or not local?)");
    }
    port_ = config_.port;
  }
  return Status::OK();
}

Status HttpServer::Serve() {
  serving_.store(true);
  struct Done {
    std::atomic<bool>& serving;
    ~Done() { serving.store(false); }
  } done{serving_};
  if (stop_requested_.load()) return Status::OK();
  if (!http_->listen_after_bind() && !stop_requested_.load()) {
    return Status::IOError("HTTP server stopped with an error");
  }
  return Status::OK();
}

void HttpServer::Stop() {
  stop_requested_.store(true);
  // httplib's stop() is a no-op until its accept loop runs: if Serve() has
  // begun, wait for the loop to start so that the stop is not lost.
  if (serving_.load()) {
    while (!http_->is_running() && serving_.load()) std::this_thread::yield();
  }
  http_->stop();
}

}  // namespace ark::server
