// Milvus REST v2 error codes and the reply envelope.
//
// Milvus answers failures with HTTP 200 and {"code":N,"message":"..."}; only
// authentication (401) and timeouts (408) use HTTP statuses. Codes are taken
// from Milvus's pkg/util/merr and handler_v2.go (see the reference notes).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace ark::server {

enum class MilvusCode : int {
  kSuccess = 0,
  // Milvus merr ErrServiceQuotaExceeded (not retriable): Milvus's answer when
  // the disk quota is exhausted. Ark: every ResourceExhausted Status, i.e. a
  // full disk (ENOSPC, EDQUOT) or another exhausted resource; a retry does
  // not help until an operator frees space. (Ark's deliberate, retryable
  // rate limit is 1807, sent by HttpServer itself.)
  kQuotaExceeded = 9,
  kCollectionNotFound = 100,
  kCollectionNotLoaded = 101,
  kIndexNotFound = 700,
  kDatabaseNotFound = 800,
  kInvalidParameter = 1100,
  kUnexpected = 1200,          // server-side failure not caused by the request
  kUnauthenticated = 1800,
  kBadJson = 1801,
  kMissingParameter = 1802,
  kInsertDataError = 1804,
  kPrimaryKeyCheckFailed = 1806,
  kRateLimited = 1807,         // too many concurrent requests: back off and retry
  kRouteNotFound = 1808,       // Ark: an unknown /v2 route (Milvus sends an HTML 404)
};

// An error to send back: the Milvus code, the message, and the HTTP status
// (200 for ordinary Milvus errors).
struct ApiError {
  MilvusCode code;
  std::string message;
  int http_status = 200;
};

// Thrown by a route handler (and caught by HttpServer, the module's edge) to
// answer with a Milvus code that no Status maps to, e.g. 1802 "missing
// required parameters".
struct HandlerError {
  ApiError error;
};

// Maps an internal Status to the Milvus code a client expects. `what`
// describes the request for codes that need context.
ApiError ApiErrorFromStatus(const Status& status);

// {"code":0,"data":data}
nlohmann::json SuccessEnvelope(nlohmann::json data);
// {"code":N,"message":"..."}
nlohmann::json ErrorEnvelope(const ApiError& error);

}  // namespace ark::server
