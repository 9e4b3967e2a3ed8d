// MilvusGrpcServer: the Milvus gRPC API (milvus.proto.milvus.MilvusService),
// so that Milvus applications that speak gRPC — pymilvus, the Java and Go
// SDKs, the Node SDK's default MilvusClient — use Ark unchanged.
//
// Every RPC is translated into the body of the Milvus REST v2 route that
// does the same thing and run through HttpServer::CallMilvus: one
// implementation of every semantic, limit and error code for both
// transports (src/grpc/milvus_rpcs.cc holds the table). The wire definitions
// are Milvus's own (proto/milvus, generated from the pinned Node SDK's
// descriptors; docs/grpc.md says which Milvus API version).
//
// Transport: a callback generic service, so that one dispatcher sees every
// method — RPCs Ark does not implement answer with a Milvus status naming
// the RPC (a response of the method's type), not a bare UNIMPLEMENTED — and
// no generated service stubs need compiling. Reads (search, query,
// describe...) run on gRPC's callback thread; everything that may wait on
// the disk or a build (writes, flush, index and collection changes) runs on
// a worker pool, so gRPC's own threads stay free for I/O. By default there is no
// listening port: the REST port's front door hands over connections that
// open with the HTTP/2 preface (Adopt), as Milvus serves both on 19530.
// With TLS, the server listens on its own port with the REST certificate.
//
// Auth: the `authorization` metadata (base64 of a token or user:password, as
// the SDKs send it) by the REST rules; `dbname` metadata selects the
// database when the request's db_name is empty. Limits: messages above
// limits.max_body_bytes are refused by gRPC (RESOURCE_EXHAUSTED), and the
// REST concurrency bound and request timeout apply. Metrics:
// ark_grpc_requests_total{method,code} and ark_grpc_request_seconds{method}.
//
// Thread-safety: Start, then Adopt from any thread; Shutdown once.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/status.h"
#include "server/http_server.h"

namespace grpc {
class Server;
class CallbackGenericService;
}  // namespace grpc

namespace httplib {
class ThreadPool;
}

namespace ark {
class Database;
}

namespace ark::rpc {

class MilvusGrpcServer {
 public:
  // `db`: the Database the REST handlers serve (RpcContext::db).
  MilvusGrpcServer(server::HttpServer* http, Database* db, MetricsRegistry* metrics);
  ~MilvusGrpcServer();
  MilvusGrpcServer(const MilvusGrpcServer&) = delete;
  MilvusGrpcServer& operator=(const MilvusGrpcServer&) = delete;

  // `listen` empty: no listening port (connections come through Adopt).
  // Else "host:port" (port 0 picks one), with TLS when the REST config has it.
  Status Start(const std::string& listen);
  // The port Start bound (0 without one).
  int port() const { return port_; }
  // Serves an accepted socket whose first bytes are the HTTP/2 preface.
  // Must not race Shutdown: stop the front door (HttpServer) first.
  void Adopt(int fd);
  // Stops taking RPCs, finishes those in flight (cancelled after 2 s).
  void Shutdown();

 private:
  class Service;
  server::HttpServer* http_;
  Database* db_;
  MetricsRegistry* metrics_;
  std::unique_ptr<httplib::ThreadPool> pool_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> shut_down_{false};
};

}  // namespace ark::rpc
