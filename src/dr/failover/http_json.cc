#include "dr/failover/http_json.h"

#include <httplib.h>

#include <fmt/format.h>

#include <memory>

namespace ark::dr {

namespace {

std::unique_ptr<httplib::Client> MakeClient(const std::string& base, const HttpCallOptions& o) {
  auto c = std::make_unique<httplib::Client>(base);
  time_t sec = o.timeout_ms / 1000;
  time_t usec = static_cast<time_t>(o.timeout_ms % 1000) * 1000;
  c->set_connection_timeout(sec, usec);
  c->set_read_timeout(sec, usec);
  c->set_write_timeout(sec, usec);
  if (!o.ca_file.empty()) c->set_ca_cert_path(o.ca_file.c_str());
  if (!o.token.empty()) c->set_bearer_token_auth(o.token);
  return c;
}

}  // namespace

Status ValidateBaseUrl(const std::string& url, const std::string& what) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || (url.compare(0, scheme_end, "http") != 0 &&
                                          url.compare(0, scheme_end, "https") != 0)) {
    return Status::InvalidArgument(fmt::format("{} '{}': expected http://HOST:PORT or https://HOST:PORT", what, url));
  }
  std::string rest = url.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos || rest.find(' ') != std::string::npos) {
    return Status::InvalidArgument(fmt::format("{} '{}': expected http://HOST:PORT with no path", what, url));
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size()) {
    return Status::InvalidArgument(fmt::format("{} '{}': the port is missing (http://HOST:PORT)", what, url));
  }
  for (size_t i = colon + 1; i < rest.size(); ++i) {
    if (!isdigit(static_cast<unsigned char>(rest[i]))) {
      return Status::InvalidArgument(fmt::format("{} '{}': the port is not a number", what, url));
    }
  }
  return Status::OK();
}

Result<nlohmann::json> PostJson(const std::string& base, const std::string& path, const nlohmann::json& body,
                                const HttpCallOptions& options) {
  auto client = MakeClient(base, options);
  auto r = client->Post(path.c_str(), body.dump(), "application/json");
  if (!r) return Status::Unavailable(fmt::format("cannot reach {}{}: {}", base, path, httplib::to_string(r.error())));
  auto reply = nlohmann::json::parse(r->body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("code") || !reply["code"].is_number_integer()) {
    return Status::Unavailable(fmt::format("{}{} answered HTTP {} without a JSON envelope", base, path, r->status));
  }
  if (reply["code"].get<int64_t>() != 0) {
    std::string message = reply.contains("message") && reply["message"].is_string()
                              ? reply["message"].get<std::string>()
                              : reply.dump();
    return Status::FailedPrecondition(
        fmt::format("{}{}: HTTP {}, code {}: {}", base, path, r->status, reply["code"].dump(), message));
  }
  if (!reply.contains("data")) return nlohmann::json::object();
  return reply["data"];
}

Result<ProbeResult> GetProbe(const std::string& base, const std::string& path, const HttpCallOptions& options) {
  auto client = MakeClient(base, options);
  auto r = client->Get(path.c_str());
  if (!r) return Status::Unavailable(fmt::format("cannot reach {}{}: {}", base, path, httplib::to_string(r.error())));
  ProbeResult p;
  p.status = r->status;
  p.body = nlohmann::json::parse(r->body, nullptr, false);
  if (p.body.is_discarded()) p.body = nullptr;
  return p;
}

}  // namespace ark::dr
