#include "grpc/milvus_grpc.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "grpc/milvus_rpcs.h"

namespace ark::rpc {
namespace {

constexpr std::string_view kServicePrefix = "/milvus.proto.milvus.MilvusService/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Base64 (RFC 4648, padded) to bytes; nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string Metadata(const grpc::GenericCallbackServerContext* ctx, const char* key) {
  auto it = ctx->client_metadata().find(key);
  if (it == ctx->client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

class MilvusGrpcServer::Service final : public grpc::CallbackGenericService {
 public:
  explicit Service(MilvusGrpcServer* owner) : owner_(owner) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new UnaryReactor(owner_, ctx);
  }

 private:
  // One unary call: read the request, run it on the worker pool, write the
  // response and finish. Streaming methods are not served.
  class UnaryReactor final : public grpc::ServerGenericBidiReactor {
   public:
    UnaryReactor(MilvusGrpcServer* owner, grpc::GenericCallbackServerContext* ctx)
        : owner_(owner), ctx_(ctx), start_(std::chrono::steady_clock::now()) {
      const std::string& full = ctx_->method();
      if (full.rfind(kServicePrefix, 0) != 0) {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "Ark serves milvus.proto.milvus.MilvusService only; "
                                                             "no method " + full));
        return;
      }
      method_ = full.substr(kServicePrefix.size());
      StartRead(&in_);
    }

    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message for " + method_));
        return;
      }
      // Reads run on gRPC's callback thread: the hop to the pool cost 25-45%
      // of search QPS (bench/http_e2e_bench.cc). Anything that may wait on
      // the disk or a build goes to the pool, so gRPC's threads stay free.
      auto rpc = MilvusRpcs().find(method_);
      if (rpc != MilvusRpcs().end() && rpc->second.read) {
        Run();
      } else {
        owner_->pool_->enqueue([this] { Run(); });
      }
    }

    void OnDone() override { delete this; }

   private:
    void Run() {
      std::string request;
      std::vector<grpc::Slice> slices;
      if (!in_.Dump(&slices).ok()) {
        return Done(grpc::Status(grpc::StatusCode::INTERNAL, "cannot read the request"), -1);
      }
      for (const auto& s : slices) request.append(reinterpret_cast<const char*>(s.begin()), s.size());

      RpcContext rpc;
      rpc.http = owner_->http_;
      rpc.db = owner_->db_;
      rpc.db_name = Metadata(ctx_, "dbname");
      const auto& config = owner_->http_->config();
      auto timeout = std::chrono::microseconds(
          static_cast<int64_t>(config.limits.default_request_timeout_seconds * 1e6));
      rpc.deadline = start_ + timeout;
      auto client_deadline = ctx_->deadline();
      auto now_sys = std::chrono::system_clock::now();
      if (client_deadline < now_sys + timeout) {
        rpc.deadline = start_ + std::chrono::duration_cast<std::chrono::microseconds>(client_deadline - now_sys);
      }

      std::string response;
      int code = 0;
      if (config.auth.enabled()) {
        std::optional<std::string> credential = Base64Decode(Metadata(ctx_, "authorization"));
        Status auth = credential ? owner_->http_->AuthenticateCredential(*credential, false, &rpc.user)
                                 : Status::PermissionDenied("no credential");
        if (!auth.ok()) {
          // As Milvus's interceptor answers: a gRPC error, not a status.
          return Done(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                   "auth check failure, please check username and password are correct"),
                      1800);
        }
      }
      const auto& table = MilvusRpcs();
      if (auto it = table.find(method_); it != table.end()) {
        code = it->second.run(rpc, request, &response);
      } else if (auto reply = UnimplementedReply(method_)) {
        response = std::move(*reply);
        code = 1;
      } else {
        return Done(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "Ark does not serve the streaming RPC " + method_),
                    -1);
      }
      grpc::Slice slice(response);
      out_ = grpc::ByteBuffer(&slice, 1);
      Count(code);
      StartWriteAndFinish(&out_, grpc::WriteOptions(), grpc::Status::OK);
    }

    void Done(const grpc::Status& status, int code) {
      Count(code);
      Finish(status);
    }

    void Count(int code) {
      MetricsRegistry* m = owner_->metrics_;
      m->IncrementCounter("ark_grpc_requests_total", {{"method", MetricMethod()}, {"code", std::to_string(code)}});
      m->ObserveHistogram("ark_grpc_request_seconds", {{"method", MetricMethod()}},
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    // Methods outside the table share one label, so that clients cannot grow /metrics.
    std::string MetricMethod() const { return MilvusRpcs().count(method_) ? method_ : "other"; }

    MilvusGrpcServer* owner_;
    grpc::GenericCallbackServerContext* ctx_;
    std::chrono::steady_clock::time_point start_;
    std::string method_;
    grpc::ByteBuffer in_;
    grpc::ByteBuffer out_;
  };

  MilvusGrpcServer* owner_;
};

MilvusGrpcServer::MilvusGrpcServer(server::HttpServer* http, Database* db, MetricsRegistry* metrics)
    : http_(http), db_(db), metrics_(metrics) {
  metrics_->Describe("ark_grpc_requests_total", "gRPC requests by method and Milvus code");
  metrics_->Describe("ark_grpc_request_seconds", "gRPC request latency by method");
}

MilvusGrpcServer::~MilvusGrpcServer() { Shutdown(); }

Status MilvusGrpcServer::Start(const std::string& listen) {
  const auto& config = http_->config();
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex (gRPC's
  // own) records lock-order edges in a process-wide graph under a global
  // lock: a debug aid, 3% of the CPU of a gRPC search here (perf,
  // bench/http_e2e_bench). Ark takes no absl::Mutex itself.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  pool_ = std::make_unique<httplib::ThreadPool>(config.limits.worker_threads);
  service_ = std::make_unique<Service>(this);
  grpc::ServerBuilder builder;
  const int max_bytes = static_cast<int>(std::min<uint64_t>(config.limits.max_body_bytes, INT32_MAX));
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.SetMaxSendMessageSize(INT32_MAX);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.RegisterCallbackGenericService(service_.get());
  if (!listen.empty()) {
    std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
    if (config.tls.enabled()) {
      grpc::SslServerCredentialsOptions ssl;
      ssl.pem_key_cert_pairs.push_back({ReadFile(config.tls.key_file), ReadFile(config.tls.cert_file)});
      creds = grpc::SslServerCredentials(ssl);
    }
    builder.AddListeningPort(listen, creds, &port_);
  }
  server_ = builder.BuildAndStart();
  if (!server_ || (!listen.empty() && port_ == 0)) {
    return Status::IOError("cannot start the gRPC server" + (listen.empty() ? std::string() : " on " + listen) +
                           " (address in use, or the TLS key/certificate unreadable?)");
  }
  return Status::OK();
}

void MilvusGrpcServer::Adopt(int fd) {
  if (server_ == nullptr || shut_down_) {
    ::close(fd);
    return;
  }
  grpc::AddInsecureChannelFromFd(server_.get(), fd);
}

void MilvusGrpcServer::Shutdown() {
  if (shut_down_.exchange(true)) return;
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (pool_) pool_->shutdown();
}

}  // namespace ark::rpc
