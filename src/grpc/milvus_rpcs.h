// The Milvus gRPC methods Ark serves, each a translation to and from the
// Milvus REST v2 route that does the same thing (see milvus_grpc.h).
//
// A handler parses the serialized request, builds the route's JSON body,
// runs it through HttpServer::CallMilvus, and serializes the response of the
// method's type with its Milvus status: code 0 / error_code Success, or the
// REST route's Milvus code and message (error_code: the closest legacy
// ErrorCode, for clients that still read it).
//
// Pure translation; thread-safe (no state of its own).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "server/http_server.h"

namespace ark {
class Database;
}

namespace ark::rpc {

struct RpcContext {
  server::HttpServer* http = nullptr;
  // The engine the REST handlers serve, for the few RPCs whose answer is
  // engine state no REST route returns (segment infos): read only, after a
  // REST call has validated the request.
  Database* db = nullptr;
  std::string db_name;  // the `dbname` metadata ("" when absent)
  std::string user;     // authenticated principal
  std::chrono::steady_clock::time_point deadline;
};

// Fills `*response` (serialized) and returns the Milvus code it carries.
using RpcHandler = std::function<int(RpcContext& ctx, const std::string& request, std::string* response)>;

struct Rpc {
  RpcHandler run;
  // Only reads memory: runs on gRPC's callback thread, not the worker pool.
  bool read = false;
};

// Keyed by method name ("CreateCollection").
const std::map<std::string, Rpc>& MilvusRpcs();

// A MilvusService method Ark does not serve: a response of its type whose
// status names the RPC (code 1, error_code UnexpectedError — what Milvus
// answers for an unsupported call). nullopt: not a unary MilvusService method.
std::optional<std::string> UnimplementedReply(const std::string& method);

// The status for an authentication failure, in the method's response type.
std::optional<std::string> ErrorReply(const std::string& method, int code, const std::string& reason);

}  // namespace ark::rpc
