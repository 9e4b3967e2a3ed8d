#include "storage/s3_client.h"

#include <curl/curl.h>
#include <tinyxml2.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "core/hash.h"

namespace ark {
namespace {

constexpr char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool IsRetryableCurlCode(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool IsRetryableHttp(long status, const std::string& code) {
  return status == 429 || status >= 500 || code == "RequestTimeout" || code == "SlowDown" ||
         code == "InternalError" || code == "ServiceUnavailable";
}

Status HttpStatusToError(long status, const S3ErrorInfo& err, std::string message) {
  message += ": HTTP " + std::to_string(status);
  if (!err.code.empty()) message += " " + err.code;
  if (!err.message.empty()) message += " (" + err.message + ")";
  if (IsRetryableHttp(status, err.code)) return Status::Unavailable(std::move(message));
  switch (status) {
    case 401:
    case 403: return Status::PermissionDenied(std::move(message));
    case 404: return Status::NotFound(std::move(message));
    case 409: return Status::FailedPrecondition(std::move(message));
    case 412: return Status::AlreadyExists(std::move(message));
    default: break;
  }
  if (status >= 400 && status < 500) return Status::InvalidArgument(std::move(message));
  return Status::IOError(std::move(message));
}

uint64_t BackoffMillis(const S3Options& o, int attempt) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t cap = static_cast<uint64_t>(std::max(o.max_backoff_ms, 1));
  uint64_t exp = static_cast<uint64_t>(std::max(o.base_backoff_ms, 1)) << std::min(attempt, 20);
  uint64_t limit = std::min(cap, exp);
  return std::uniform_int_distribution<uint64_t>(0, limit)(rng);  // full jitter
}

}  // namespace

std::string S3UriEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

S3ErrorInfo ParseS3Error(std::string_view xml) {
  S3ErrorInfo info;
  if (xml.empty()) return info;
  tinyxml2::XMLDocument doc;
  if (doc.Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS) return info;
  const tinyxml2::XMLElement* e = doc.FirstChildElement("Error");
  if (e == nullptr) return info;
  if (auto* c = e->FirstChildElement("Code"); c && c->GetText()) info.code = c->GetText();
  if (auto* m = e->FirstChildElement("Message"); m && m->GetText()) info.message = m->GetText();
  return info;
}

struct S3Client::Handle {
  CURL* easy = nullptr;
  ~Handle() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

struct S3Client::Attempt {
  CURL* easy = nullptr;
  ObjectWriter* sink = nullptr;
  S3Response response;
  bool status_known = false;
  bool to_sink = false;
  uint64_t delivered = 0;  // bytes handed to the sink
  Status sink_status;
  std::string_view upload;
  size_t upload_pos = 0;
  char error_buffer[CURL_ERROR_SIZE] = {0};
};

namespace {

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* a = static_cast<S3Client::Attempt*>(user);
  size_t len = size * count;
  if (!a->status_known) {
    long code = 0;
    curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &code);
    a->to_sink = a->sink != nullptr && code >= 200 && code < 300;
    a->status_known = true;
  }
  if (a->to_sink) {
    Status s = a->sink->Write(std::string_view(data, len));
    if (!s.ok()) {
      a->sink_status = std::move(s);
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    a->delivered += len;
  } else {
    a->response.body.append(data, len);
  }
  return len;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* a = static_cast<S3Client::Attempt*>(user);
  size_t len = size * count;
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100 Continue)
    a->response.headers.clear();
    a->status_known = false;
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  a->response.headers[name] = std::string(value);
  return len;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* a = static_cast<S3Client::Attempt*>(user);
  size_t n = std::min(size * count, a->upload.size() - a->upload_pos);
  std::memcpy(buffer, a->upload.data() + a->upload_pos, n);
  a->upload_pos += n;
  return n;
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* a = static_cast<S3Client::Attempt*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > a->upload.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  a->upload_pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

}  // namespace

S3Client::S3Client(S3Options options)
    : options_(std::move(options)),
      userpwd_(options_.credentials.access_key_id + ":" + options_.credentials.secret_access_key),
      sigv4_("aws:amz:" + options_.region + ":s3") {
  GlobalInit();
}

S3Client::~S3Client() = default;

std::unique_ptr<S3Client::Handle> S3Client::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_handles_.empty()) {
      auto h = std::move(free_handles_.back());
      free_handles_.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  h->easy = curl_easy_init();
  return h;
}

void S3Client::Release(std::unique_ptr<Handle> handle) {
  std::lock_guard<std::mutex> lock(mu_);
  free_handles_.push_back(std::move(handle));
}

std::string S3Client::Name(const std::string& key) const {
  return "s3://" + options_.bucket + "/" + key;
}

std::string S3Client::UrlFor(const S3Request& request) const {
  std::string endpoint = options_.endpoint.empty()
                             ? "https://s3." + options_.region + ".amazonaws.com"
                             : options_.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  std::string url;
  if (options_.path_style) {
    url = endpoint + "/" + S3UriEncode(options_.bucket, false);
    if (!request.key.empty()) url += "/" + S3UriEncode(request.key, true);
  } else {
    size_t scheme_end = endpoint.find("://");
    size_t host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    url = endpoint.substr(0, host_start) + options_.bucket + "." + endpoint.substr(host_start) +
          "/" + S3UriEncode(request.key, true);
  }
  auto query = request.query;
  std::sort(query.begin(), query.end());
  for (size_t i = 0; i < query.size(); ++i) {
    url += i == 0 ? '?' : '&';
    url += S3UriEncode(query[i].first, false) + "=" + S3UriEncode(query[i].second, false);
  }
  return url;
}

Status S3Client::AttemptOnce(Handle* handle, const S3Request& request, uint64_t resume_from,
                             Attempt* a) {
  CURL* easy = handle->easy;
  curl_easy_reset(easy);  // keeps the connection cache
  a->easy = easy;
  a->sink = request.method == "GET" ? request.sink : nullptr;
  a->upload = request.body;

  const std::string url = UrlFor(request);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.low_speed_bytes_per_second));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time_seconds));
  if (options_.request_timeout_ms > 0) {
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
  }
  curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(easy, CURLOPT_USERPWD, userpwd_.c_str());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, a->error_buffer);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnWrite);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, a);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, a);

  const bool has_body = request.method == "PUT" || request.method == "POST";
  std::string payload_hash = kEmptySha256;
  if (has_body && !request.body.empty()) {
    payload_hash = options_.sign_payload ? ToHex(Sha256(request.body)) : "UNSIGNED-PAYLOAD";
  }
  struct curl_slist* headers = nullptr;
  auto add = [&](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
  add("x-amz-content-sha256: " + payload_hash);
  if (has_body) {
    add("Content-Type: " +
        (request.content_type.empty() ? std::string("application/octet-stream")
                                      : request.content_type));
  }
  if (!options_.credentials.session_token.empty()) {
    add("x-amz-security-token: " + options_.credentials.session_token);
  }
  if (request.range || resume_from > 0) {
    uint64_t start = (request.range ? request.range->first : 0) + resume_from;
    std::string r = "Range: bytes=" + std::to_string(start) + "-";
    if (request.range && request.range->second) r += std::to_string(*request.range->second);
    add(r);
  }
  for (const auto& h : request.headers) add(h);
  // No "Expect:" removal header here: libcurl's SigV4 would list "expect" in
  // SignedHeaders without sending it, and AWS would reject the signature
  // (tests/node/sigv4.test.js caught exactly that).
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);

  if (request.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(easy, CURLOPT_READDATA, a);
    curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, &OnSeek);
    curl_easy_setopt(easy, CURLOPT_SEEKDATA, a);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CURLcode rc = curl_easy_perform(easy);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &a->response.http_status);
  if (rc == CURLE_OK) return Status::OK();
  if (!a->sink_status.ok()) return a->sink_status;
  std::string detail = a->error_buffer[0] != '\0' ? a->error_buffer : curl_easy_strerror(rc);
  if (rc == CURLE_OPERATION_TIMEDOUT) return Status::TimedOut(detail);
  if (IsRetryableCurlCode(rc)) return Status::Unavailable(detail);
  return Status::IOError(detail);
}

Result<S3Response> S3Client::Execute(const S3Request& request, std::string_view what,
                                     std::vector<long> ok_statuses) {
  const std::string context = "S3 " + std::string(what) + " " + Name(request.key);
  uint64_t resume_from = 0;
  Status last;
  const int attempts = std::max(options_.max_attempts, 1);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(BackoffMillis(options_, attempt - 1)));
    }
    auto handle = Acquire();
    Attempt a;
    Status s = AttemptOnce(handle.get(), request, resume_from, &a);
    Release(std::move(handle));
    resume_from += a.delivered;
    if (!s.ok()) {
      last = s.WithContext(context);
      if (!s.IsRetryable()) return last;
      continue;
    }
    long http = a.response.http_status;
    if (std::find(ok_statuses.begin(), ok_statuses.end(), http) != ok_statuses.end()) {
      return std::move(a.response);
    }
    S3ErrorInfo err = ParseS3Error(a.response.body);
    last = HttpStatusToError(http, err, context);
    if (!IsRetryableHttp(http, err.code)) return last;
  }
  return last.WithContext("after " + std::to_string(attempts) + " attempts");
}

}  // namespace ark
