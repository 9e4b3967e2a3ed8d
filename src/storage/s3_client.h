// S3Client: signed HTTP requests to one S3 bucket, with connection reuse and
// retries. The S3 object store (s3_object_store.h) builds S3 operations on it.
//
// Signing is libcurl's CURLOPT_AWS_SIGV4. Its signature equals AWS's only if
// the request is canonical already, so this class: sorts query parameters by
// name, percent-encodes every value (RFC 3986 unreserved kept), writes
// valueless keys as "key=", percent-encodes keys in the path (except '/'),
// sends an explicit Content-Type with every body and always sends
// x-amz-content-sha256 (the body's SHA-256 or UNSIGNED-PAYLOAD).
//
// Connection reuse: curl easy handles are pooled; a handle keeps its live
// connections between requests (HTTP keep-alive).
//
// Retries: transient failures (HTTP 5xx, 429, S3 RequestTimeout, connection
// refused/reset, timeouts) are retried up to max_attempts with exponential
// backoff and full jitter; other 4xx are returned at once. A streamed GET that
// fails midway resumes from the next undelivered byte with a Range request.
//
// Errors name the operation, bucket, key, HTTP status and S3 error code, never
// the credentials. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/object_store.h"
#include "storage/s3_options.h"

namespace ark {

struct S3Request {
  std::string method = "GET";  // GET, PUT, POST, DELETE, HEAD
  std::string key;             // full key in the bucket (unencoded); "" = the bucket
  std::vector<std::pair<std::string, std::string>> query;  // unencoded; sorted here
  std::vector<std::string> headers;                        // extra "Name: value" lines
  std::string_view body;       // request body (PUT/POST); must outlive the call
  std::string content_type;    // defaults to application/octet-stream when a body is sent
  // GET only: deliver a 2xx body to this writer instead of S3Response::body.
  ObjectWriter* sink = nullptr;
  // GET only: bytes [offset, end] (end inclusive, nullopt = to the end).
  std::optional<std::pair<uint64_t, std::optional<uint64_t>>> range;
};

struct S3Response {
  long http_status = 0;
  std::string body;                            // unless streamed to the sink
  std::map<std::string, std::string> headers;  // lowercase names
};

// The parsed <Error> of an S3 reply (empty fields if none).
struct S3ErrorInfo {
  std::string code;
  std::string message;
};
S3ErrorInfo ParseS3Error(std::string_view xml);

// RFC 3986 percent-encoding (A-Z a-z 0-9 - _ . ~ kept), uppercase hex.
// With keep_slash, '/' is kept too (for paths).
std::string S3UriEncode(std::string_view s, bool keep_slash);

class S3Client {
 public:
  explicit S3Client(S3Options options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Options& options() const { return options_; }

  // Sends the request (retrying transient failures). Returns the response
  // for any HTTP status in `ok_statuses`... or a Status mapped from the HTTP
  // status and S3 error code otherwise. `what` names the operation in errors
  // ("PUT", "ListObjectsV2").
  Result<S3Response> Execute(const S3Request& request, std::string_view what,
                             std::vector<long> ok_statuses = {200, 204, 206});

  // The URL a request goes to (for tests and messages; has no credentials).
  std::string UrlFor(const S3Request& request) const;
  // "s3://bucket/key".
  std::string Name(const std::string& key) const;

  struct Attempt;  // one try of a request (defined in the .cc; used by curl callbacks)

 private:
  struct Handle;
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> handle);
  Status AttemptOnce(Handle* handle, const S3Request& request, uint64_t resume_from,
                     Attempt* attempt);

  const S3Options options_;
  std::string userpwd_;   // "KEY:SECRET" for curl only; never printed
  std::string sigv4_;     // "aws:amz:REGION:s3"
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> free_handles_;  // guarded by mu_
};

}  // namespace ark
