// S3Options: everything the S3 backend needs to know about one bucket.
// Filled from an s3:// URL plus config and the standard AWS_* environment
// variables by OpenObjectStore (object_store_url.h), or directly in code.
#pragma once

#include <cstdint>
#include <string>

namespace ark {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)
};

struct S3Options {
  std::string bucket;
  std::string prefix;  // key prefix inside the bucket ("" or ending in '/')
  // "http(s)://host[:port]"; empty = AWS: https://s3.REGION.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";
  // Path-style (endpoint/bucket/key) or virtual-hosted (bucket.endpoint/key).
  bool path_style = false;
  S3Credentials credentials;

  // Objects larger than this go up as multipart uploads of part_size parts,
  // up to max_parallel_parts at a time (each holds part_size bytes of memory).
  uint64_t multipart_threshold = 16ull << 20;
  uint64_t part_size = 8ull << 20;
  int max_parallel_parts = 4;
  // Send the SHA-256 of every body (x-amz-content-sha256) instead of
  // UNSIGNED-PAYLOAD: the server then rejects bodies damaged in transit.
  bool sign_payload = true;
  // Send If-None-Match: * for PutOptions::if_absent. AWS S3 (since 2024),
  // MinIO and Ceph honour it; s3rver ignores it (it would silently overwrite),
  // so turn this off for servers that do not, and if_absent becomes NotSupported.
  bool conditional_put = true;

  int connect_timeout_ms = 10'000;
  // A transfer slower than low_speed_bytes_per_second for low_speed_time_seconds is
  // aborted as a timeout (and retried): catches hung connections on big bodies.
  int low_speed_bytes_per_second = 1024;
  int low_speed_time_seconds = 30;
  int request_timeout_ms = 0;  // whole-request limit; 0 = none (use the low-speed limit)

  // Retries of transient failures (5xx, 429, connection resets, timeouts):
  // attempt n waits a random time in [0, min(max_backoff, base_backoff * 2^n)].
  int max_attempts = 6;
  int base_backoff_ms = 100;
  int max_backoff_ms = 5'000;

  int list_page_size = 1000;    // ListObjectsV2 max-keys
  int delete_batch_size = 1000; // keys per DeleteObjects request (S3 max 1000)
};

}  // namespace ark
