#include "storage/object_store_url.h"

#include <cstdlib>

#include "storage/s3_object_store.h"

namespace ark {
namespace {

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes (and '+' stays '+'); nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<bool> ParseBool(const std::string& v) {
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  return std::nullopt;
}

std::optional<uint64_t> ParseBytes(const std::string& v) {
  char* end = nullptr;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (end == v.c_str()) return std::nullopt;
  std::string unit(end);
  if (unit.empty() || unit == "B") return n;
  if (unit == "KiB" || unit == "K") return n << 10;
  if (unit == "MiB" || unit == "M") return n << 20;
  if (unit == "GiB" || unit == "G") return n << 30;
  return std::nullopt;
}

}  // namespace

std::string RedactObjectStoreUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t auth_start = scheme + 3;
  size_t auth_end = url.find_first_of("/?#", auth_start);
  if (auth_end == std::string::npos) auth_end = url.size();
  size_t at = url.rfind('@', auth_end);
  if (at == std::string::npos || at < auth_start) return url;
  return url.substr(0, auth_start) + "***" + url.substr(at);
}

Result<ObjectStoreLocation> ResolveObjectStoreUrl(const std::string& url,
                                                  const ObjectStoreConfig& config) {
  const std::string shown = RedactObjectStoreUrl(url);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("object store URL \"" + shown + "\": " + why);
  };
  if (url.empty()) return bad("empty");
  if (url.find('\0') != std::string::npos) return bad("contains NUL");
  ObjectStoreLocation loc;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    loc.kind = ObjectStoreLocation::Kind::kLocal;
    loc.local_root = url;
    return loc;
  }
  std::string scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  if (scheme == "file") {
    size_t slash = rest.find('/');
    std::string host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") return bad("file:// URLs name no host (use file:///path)");
    if (slash == std::string::npos) return bad("no path");
    auto path = PercentDecode(rest.substr(slash));
    if (!path) return bad("bad percent-escape in the path");
    loc.kind = ObjectStoreLocation::Kind::kLocal;
    loc.local_root = *path;
    return loc;
  }
  if (scheme != "s3") return bad("unsupported scheme \"" + scheme + "\" (use a path, file:// or s3://)");

  loc.kind = ObjectStoreLocation::Kind::kS3;
  S3Options& o = loc.s3;
  o = config.s3_tuning;
  std::string query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  std::string bucket = rest.substr(0, slash);
  if (bucket.find('@') != std::string::npos) {
    return bad("credentials do not belong in the URL (use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)");
  }
  if (bucket.empty()) return bad("no bucket (s3://bucket/prefix)");
  o.bucket = bucket;
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  auto decoded = PercentDecode(prefix);
  if (!decoded) return bad("bad percent-escape in the prefix");
  prefix = *decoded;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!prefix.empty()) {
    if (!ValidateObjectKey(prefix).ok()) return bad("prefix \"" + prefix + "\" is not a valid key path");
    prefix += '/';
  }
  o.prefix = prefix;

  auto env = [&](const char* name) {
    return config.getenv ? config.getenv(name) : ProcessEnv(name);
  };
  std::string endpoint = config.endpoint, region = config.region;
  std::optional<bool> path_style = config.path_style;
  // URL parameters win over everything.
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    std::string item = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    pos = amp == std::string::npos ? query.size() : amp + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name = item.substr(0, eq);
    auto value = PercentDecode(eq == std::string::npos ? "" : item.substr(eq + 1));
    if (!value) return bad("bad percent-escape in parameter " + name);
    if (name == "endpoint") {
      endpoint = *value;
    } else if (name == "region") {
      region = *value;
    } else if (name == "path_style" || name == "conditional_put" || name == "sign_payload") {
      auto b = ParseBool(*value);
      if (!b) return bad("parameter " + name + " must be true or false, not \"" + *value + "\"");
      if (name == "path_style") path_style = *b;
      if (name == "conditional_put") o.conditional_put = *b;
      if (name == "sign_payload") o.sign_payload = *b;
    } else if (name == "part_size" || name == "multipart_threshold") {
      auto n = ParseBytes(*value);
      if (!n) return bad("parameter " + name + " must be a byte count, not \"" + *value + "\"");
      (name == "part_size" ? o.part_size : o.multipart_threshold) = *n;
    } else if (name == "parallel") {
      int n = std::atoi(value->c_str());
      if (n < 1 || n > 64) return bad("parameter parallel must be 1..64");
      o.max_parallel_parts = n;
    } else if (name == "access_key" || name == "secret_key" || name == "session_token") {
      return bad("credentials do not belong in the URL (use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)");
    } else {
      return bad("unknown parameter \"" + name + "\"");
    }
  }
  if (endpoint.empty()) endpoint = env("AWS_ENDPOINT_URL").value_or("");
  if (region.empty()) region = env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or(""));
  o.endpoint = endpoint;
  o.region = region.empty() ? "us-east-1" : region;
  o.path_style = path_style.value_or(!endpoint.empty());
  if (!endpoint.empty() && endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return bad("endpoint \"" + RedactObjectStoreUrl(endpoint) + "\" must start with http:// or https://");
  }
  o.credentials = config.credentials;
  if (o.credentials.access_key_id.empty()) {
    o.credentials.access_key_id = env("AWS_ACCESS_KEY_ID").value_or("");
    o.credentials.secret_access_key = env("AWS_SECRET_ACCESS_KEY").value_or("");
    o.credentials.session_token = env("AWS_SESSION_TOKEN").value_or("");
  }
  return loc;
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& url,
                                                     const ObjectStoreConfig& config) {
  ARK_ASSIGN_OR_RETURN(ObjectStoreLocation loc, ResolveObjectStoreUrl(url, config));
  const std::string context = "object store URL \"" + RedactObjectStoreUrl(url) + "\"";
  if (loc.kind == ObjectStoreLocation::Kind::kLocal) {
    auto store = LocalObjectStore::Open(loc.local_root, config.local);
    if (!store.ok()) return store.status().WithContext(context);
    return std::unique_ptr<ObjectStore>(std::move(*store));
  }
  auto store = S3ObjectStore::Open(std::move(loc.s3));
  if (!store.ok()) return store.status().WithContext(context);
  return std::unique_ptr<ObjectStore>(std::move(*store));
}

}  // namespace ark
