// Opening an ObjectStore from a URL.
//
//   /path/to/dir, ./dir, file:///path/to/dir     a local directory (LocalObjectStore)
//   s3://bucket[/prefix][?param=value&...]       an S3-compatible bucket (S3ObjectStore)
//
// s3:// parameters: endpoint (http(s)://host[:port]), region, path_style
// (true|false), conditional_put (true|false), sign_payload (true|false),
// part_size and multipart_threshold (bytes, or with a KiB/MiB/GiB suffix),
// parallel (parts in flight). Each setting is taken from, in order: the URL,
// ObjectStoreConfig, the environment (AWS_ENDPOINT_URL, AWS_REGION or
// AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), the default (AWS, us-east-1; path-style when an
// endpoint is given, virtual-hosted otherwise). Credentials never come from
// the URL: a URL with user:password@ is refused, and messages show URLs with
// any such part redacted.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "storage/local_object_store.h"
#include "storage/object_store.h"
#include "storage/s3_options.h"

namespace ark {

struct ObjectStoreConfig {
  // S3 settings that override the environment (empty = not set).
  std::string endpoint;
  std::string region;
  std::optional<bool> path_style;
  S3Credentials credentials;
  // Tuning (part sizes, timeouts, retries) for s3:// stores; its bucket,
  // prefix, endpoint, region, path_style and credentials are ignored.
  S3Options s3_tuning;
  LocalObjectStoreOptions local;
  // Environment lookup; nullptr = the process environment. Tests replace it.
  std::function<std::optional<std::string>(const std::string& name)> getenv;
};

// What a URL resolves to, before anything is opened.
struct ObjectStoreLocation {
  enum class Kind { kLocal, kS3 };
  Kind kind = Kind::kLocal;
  std::string local_root;  // kLocal
  S3Options s3;            // kS3 (with credentials resolved)
};

// InvalidArgument naming the (redacted) URL if it is malformed.
Result<ObjectStoreLocation> ResolveObjectStoreUrl(const std::string& url,
                                                  const ObjectStoreConfig& config = {});
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& url,
                                                     const ObjectStoreConfig& config = {});

// The URL with any "user:password@" replaced by "***@" (for messages).
std::string RedactObjectStoreUrl(const std::string& url);

}  // namespace ark
