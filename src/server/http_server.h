// HttpServer: the HTTP front door (Milvus REST v2 under /v2/vectordb, Ark's
// admin API under /ark/v1, /healthz /readyz /metrics, and GET pages for
// people such as the dashboard under /ui).
//
// It owns the transport concerns every route shares, so handlers only see a
// parsed request and return data or a Status:
//   - the body is parsed as JSON whatever Content-Type says (the Node SDK
//     sends text/plain); malformed JSON -> code 1801;
//   - dbName from the body, else the DB-Name header, else "default";
//   - Authorization: Bearer checked on every /v2 and /ark route when auth is
//     configured (401, code 1800); credentials are never logged;
//   - a bound on concurrent requests (beyond it: code 1807, rate limited) and
//     on body size (code 1100 naming the limit);
//   - Request-Timeout: the handler gets a deadline; a reply after it is 408;
//   - per-route request counters and latency histograms in /metrics, and an
//     access log line per request;
//   - unknown routes get a Milvus-style JSON error naming the route.
//
// Hot routes (entities/insert, upsert, search) may register a BodyParser that
// reads the raw body (simdjson) instead of the generic nlohmann parse; see
// RegisterMilvusFast. Everything above applies to them unchanged.
//
// Thread-safety: Register* before Start(); handlers run concurrently on the
// worker pool and must be thread-safe. Stop() may be called from any thread.
#pragma once

#include <atomic>
#include <mutex>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <optional>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/metrics.h"
#include "server/milvus_error.h"
#include "server/server_config.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ark::server {

class FrontDoor;

// Bytes reserved past the end of every POST body, so that a simdjson parser
// can read the body in place (it needs SIMDJSON_PADDING readable bytes).
inline constexpr size_t kBodyPadding = 64;

// What a route's BodyParser made of the raw body (a route-specific subclass).
struct ParsedBody {
  virtual ~ParsedBody() = default;
};

// Thrown by a handler that was given a ParsedBody but met something its fast
// path does not handle (any invalid value, an unusual shape): HttpServer then
// parses the whole body with nlohmann, drops ctx.parsed and runs the handler
// again, so that results and errors are those of the generic path. A handler
// must throw it before it has changed anything.
struct ReparseBody {};

struct RequestContext {
  std::string route;        // "/v2/vectordb/collections/list"
  std::string db_name;      // resolved dbName
  std::string_view raw_body;
  nlohmann::json body;      // parsed body (an object; {} when empty)
  // Set only when a fast route's BodyParser took the body: then `body` holds
  // the members the parser did not take (see BodyParser).
  std::unique_ptr<ParsedBody> parsed;
  bool int64_as_string = false;  // Accept-Type-Allow-Int64: false
  std::chrono::steady_clock::time_point deadline;
  std::string user;         // authenticated principal ("" when auth is off)
  // Set by another transport (gRPC), never by HTTP: search and query add
  // "fields" (describe's field list) and "enableDynamicField" to
  // envelope_extra, from the snapshot they read, so the caller can type the
  // columns without a second call.
  bool want_fields = false;
  // Keys a handler adds beside "code" and "data" in the success envelope
  // (search's "topks"); empty by default.
  nlohmann::json envelope_extra = nlohmann::json::object();

  bool Expired() const { return std::chrono::steady_clock::now() > deadline; }
};

// A handler returns the `data` of a success envelope, or an error.
using RouteHandler = std::function<Result<nlohmann::json>(RequestContext&)>;

// Routes that stream bytes instead of a JSON envelope (replication: a
// standby's WAL stream, files by hash). They run outside the JSON dispatcher:
// not counted against max_concurrent_requests, no request deadline; the
// replication credential applies.
struct RawRequest {
  std::string path;        // e.g. "/ark/v1/replication/files/<hex>"
  std::string remote;      // peer address, for logs
  nlohmann::json body;     // parsed JSON body of a POST ({} for a GET)
};
struct RawReply {
  // An error: answered as a Milvus error envelope with `error_data` as data.
  std::optional<ApiError> error;
  nlohmann::json error_data;
  std::string content_type = "application/octet-stream";
  // The body: called once, on the connection's thread; writes through
  // `write` (false once the peer has gone) until it returns.
  std::function<void(const std::function<bool(std::string_view)>& write)> producer;
};
using RawHandler = std::function<RawReply(const RawRequest&)>;

// A GET probe beside /healthz for load balancers (Patroni-style /primary,
// /replica): the HTTP status (200 or 503) and a JSON body. Unauthenticated,
// like /healthz; answers only what a load balancer needs.
struct ProbeReply {
  int http_status = 200;
  nlohmann::json body;
};
using ProbeHandler = std::function<ProbeReply(const httplib::Request&)>;

// A GET page for a person's browser (the dashboard, `/ui`): HTML or any
// other content type, not a JSON envelope. The admin credential applies when
// authentication is configured (the admin token when set, else any
// credential, as on /ark/v1/), taken from `Authorization: Bearer` or, since
// a browser cannot add a header to a typed address, from `?token=` (the
// header wins when both are sent). Refused: HTTP 401 with a short HTML page
// saying how to authenticate. Every reply carries `Cache-Control: no-store`,
// `Referrer-Policy: no-referrer` and a Content-Security-Policy that allows
// inline styles and nothing else (no script, no fetch, no framing), so a
// page that escaped something badly still runs nothing. Pages share the
// max_concurrent_requests bound (HTTP 503 beyond it) and the access log
// (the path only, never the query); they are not counted in /metrics.
struct PageRequest {
  std::string path;  // decoded, without the query: "/ui/drills/<id>/report.html"
  std::string remote;
  // "token=<url-encoded credential>" when the credential came in the query,
  // else "": the page adds it to its own links so that they authenticate too.
  std::string credential_query;
};
struct PageReply {
  int http_status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
};
using PageHandler = std::function<PageReply(const PageRequest&)>;

// Parses a non-empty raw body for one route. Returns nullptr to leave the
// body to the generic nlohmann parse (invalid JSON, not an object, anything
// it does not handle). Otherwise it must set `*body` to a JSON object holding
// every top-level member it did not take itself, with nlohmann's semantics
// (the last of duplicate keys wins), so that dbName resolution and the
// handler's generic helpers see what they would have seen. `raw` outlives
// the request; its capacity includes kBodyPadding when it came from a POST.
using BodyParser =
    std::function<std::unique_ptr<ParsedBody>(const std::string& raw, nlohmann::json* body)>;

class HttpServer {
 public:
  HttpServer(ServerConfig config, MetricsRegistry* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // POST route under /v2/vectordb/ (e.g. "collections/list").
  void RegisterMilvus(const std::string& route, RouteHandler handler);
  // Same, with a BodyParser for the route's hot path: the handler sees
  // ctx.parsed when the parser took the body, and may throw ReparseBody.
  void RegisterMilvusFast(const std::string& route, BodyParser parser, RouteHandler handler);
  // Off: every body goes through the generic parse (tests compare both paths).
  void SetFastParsing(bool enabled) { fast_parsing_ = enabled; }
  // Route under /ark/v1/ (POST; admin credential when configured).
  void RegisterAdmin(const std::string& route, RouteHandler handler);
  // Route under /ark/v1/ taking the replication credential
  // (auth.replication_token when set, else the admin rule).
  void RegisterReplication(const std::string& route, RouteHandler handler);
  // A raw route under /ark/v1/ (replication credential): POST `route`
  // exactly, or GET every path under `route` when it ends with '/'.
  void RegisterRaw(const std::string& route, bool get, RawHandler handler);
  // `path` exactly ("/primary"); before Bind().
  void RegisterProbe(const std::string& path, ProbeHandler handler);
  // A GET page (PageRequest above): `path` exactly ("/ui"), or every path
  // below it when it ends with '/' ("/ui/drills/"). Before Bind(); not under
  // /v2/ or /ark/.
  void RegisterPage(const std::string& path, PageHandler handler);
  // Overrides how an internal Status maps to a Milvus error for one route.
  void SetErrorMapper(std::function<ApiError(const std::string& route, const Status&)> mapper);

  // Connections that open with the HTTP/2 preface (gRPC) on the REST port go
  // to `handler`, which owns the socket (src/server/front_door.h). False
  // with TLS on: the protocol cannot be seen before the handshake, so the
  // caller serves HTTP/2 on its own port. Before Serve().
  bool SetHttp2Handler(std::function<void(int fd)> handler);

  // A Milvus REST route's handler run for another transport (gRPC), with the
  // same concurrency bound, exception handling, deadline check and error
  // mapping as an HTTP request of that route, so both transports share one
  // implementation of every semantic. The caller has authenticated (see
  // AuthenticateCredential) and set ctx's route ("/v2/vectordb/..."),
  // db_name, body, deadline and user. On success, `data` is the envelope's
  // data and ctx.envelope_extra its other keys. Not counted in the HTTP
  // metrics: the caller counts by its own method names.
  struct MilvusCall {
    std::optional<ApiError> error;
    nlohmann::json data;
  };
  MilvusCall CallMilvus(RequestContext& ctx);
  // The REST credential rules for a credential that came another way (gRPC
  // metadata): a token, the admin token, or user:password.
  Status AuthenticateCredential(const std::string& credential, bool admin, std::string* user) const;
  const ServerConfig& config() const { return config_; }

  // Binds the listening socket (port 0 picks a free one). Fails with a
  // message naming the address when it is in use.
  Status Bind();
  int port() const { return port_; }
  // Serves until Stop(); returns after in-flight requests finished.
  Status Serve();
  void Stop();

  // /readyz answers 200 only when ready (503 while recovering or read-only).
  void SetReady(bool ready, std::string reason = "");
  // Serving before the routes exist (a standby's bootstrap, a long database
  // open): while closed, every API route answers HTTP 503 with Milvus code 1
  // (service not ready) and `reason`, without touching the route tables;
  // /healthz, /readyz and /metrics answer as usual. Register routes and set
  // the readiness check and error mapper while closed, then OpenRoutes():
  // it publishes them to the serving threads. Open by default.
  void CloseRoutes(std::string reason);
  void OpenRoutes();
  // Asked on every /readyz while ready: a non-OK Status (e.g. the database's
  // sticky write error) answers 503 with it as the reason. Set before Serve().
  void SetReadinessCheck(std::function<Status()> check) { readiness_check_ = std::move(check); }
  // Added to every /readyz answer as "details" (e.g. the WAL archiver's
  // state): things an operator must see that do not make the server unready.
  // Set before Serve() (it is read by serving threads, routes open or not).
  void SetReadinessDetails(std::function<nlohmann::json()> details) { readiness_details_ = std::move(details); }

 private:
  struct Route {
    RouteHandler handler;
    BodyParser parser;  // empty for most routes
    bool replication = false;  // the replication credential
  };
  struct RawRoute {
    std::string path;
    bool get = false;
    RawHandler handler;
  };
  struct PageRoute {
    std::string path;
    PageHandler handler;
  };
  void DispatchPage(const PageRoute& route, const httplib::Request& request, httplib::Response& response);
  // The admin rule for a page, from the header or ?token= (then noted in
  // page->credential_query).
  Status AuthenticatePage(const httplib::Request& request, PageRequest* page) const;
  void DispatchRaw(const RawRoute& route, const httplib::Request& request, const std::string& body,
                   httplib::Response& response);
  Status AuthenticateReplication(const httplib::Request& request) const;
  void InstallRoutes();
  void Dispatch(const std::string& route, bool admin, const Route& handler,
                const httplib::Request& request, const std::string& request_body, httplib::Response& response);
  Status Authenticate(const httplib::Request& request, bool admin, std::string* user) const;
  void Reply(httplib::Response& response, int http_status, const nlohmann::json& body) const;

  ServerConfig config_;
  MetricsRegistry* metrics_;
  std::unique_ptr<httplib::Server> http_;
  FrontDoor* front_door_ = nullptr;  // http_ without TLS; else null
  std::map<std::string, Route> milvus_routes_;
  std::map<std::string, Route> admin_routes_;
  std::vector<RawRoute> raw_routes_;
  std::vector<std::pair<std::string, ProbeHandler>> probes_;
  std::vector<PageRoute> pages_;
  bool fast_parsing_ = true;  // set before Serve()
  std::function<ApiError(const std::string&, const Status&)> error_mapper_;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> ready_{false};
  std::atomic<bool> serving_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> routes_open_{true};
  mutable std::mutex reason_mu_;
  std::string not_ready_reason_;  // reason_mu_
  std::string closed_reason_;     // reason_mu_
  std::function<Status()> readiness_check_;
  std::function<nlohmann::json()> readiness_details_;
  int port_ = 0;
};

}  // namespace ark::server
