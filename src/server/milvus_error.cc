#include "server/milvus_error.h"

namespace ark::server {

ApiError ApiErrorFromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return {MilvusCode::kSuccess, "", 200};
    case StatusCode::kNotFound:
      return {MilvusCode::kCollectionNotFound, status.message(), 200};
    case StatusCode::kInvalidArgument:
      return {MilvusCode::kInvalidParameter, status.message(), 200};
    case StatusCode::kAlreadyExists:
      return {MilvusCode::kInvalidParameter, status.message(), 200};
    case StatusCode::kResourceExhausted:
      // Not 1807: clients back off and retry a rate limit, forever against a
      // full disk. Milvus words it "quota exceeded[reason=...]".
      return {MilvusCode::kQuotaExceeded, "quota exceeded[reason=" + status.message() + "]", 200};
    case StatusCode::kPermissionDenied:
      return {MilvusCode::kUnauthenticated, status.message(), 401};
    case StatusCode::kTimedOut:
      return {MilvusCode::kUnexpected, status.message(), 408};
    default:
      return {MilvusCode::kUnexpected, status.ToString(), 200};
  }
}

nlohmann::json SuccessEnvelope(nlohmann::json data) {
  return nlohmann::json{{"code", 0}, {"data", std::move(data)}};
}

nlohmann::json ErrorEnvelope(const ApiError& error) {
  return nlohmann::json{{"code", static_cast<int>(error.code)}, {"message", error.message}};
}

}  // namespace ark::server
