// Helpers shared by the object store tests: backends opened by name, random
// payloads, readers that fail on purpose.
#pragma once

#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "storage/object_store.h"
#include "storage/object_store_url.h"
#include "storage/s3rver_process.h"
#include "support/test_util.h"

namespace ark::testing {

// Deterministic pseudo-random bytes.
inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  for (; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

// Yields `data` in chunks of at most `chunk` bytes; after `fail_after` bytes
// (if set) returns an IOError instead: a stream that breaks midway.
class ChunkedReader final : public ObjectReader {
 public:
  ChunkedReader(std::string_view data, size_t chunk, size_t fail_after = SIZE_MAX)
      : data_(data), chunk_(chunk), fail_after_(fail_after) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= fail_after_) return Status::IOError("ChunkedReader: injected stream failure");
    size_t k = std::min({n, chunk_, data_.size() - pos_, fail_after_ - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view data_;
  size_t chunk_;
  size_t fail_after_;
  size_t pos_ = 0;
};

// The process-wide s3rver of this test binary, started on first use.
inline Result<S3rverProcess*> SharedS3rver() {
  static std::unique_ptr<S3rverProcess> server;
  static Status start_status;
  static bool tried = false;
  if (!tried) {
    tried = true;
    server = std::make_unique<S3rverProcess>();
    start_status = server->Start();
  }
  if (!start_status.ok()) return start_status;
  return server.get();
}

// "local" or "s3": a fresh, empty store for one test. `name` keeps tests
// apart (a directory or a key prefix). Small part sizes so that multipart
// paths run on modest data.
inline Result<std::unique_ptr<ObjectStore>> OpenTestStore(const std::string& backend,
                                                          const std::string& name,
                                                          TempDir* dir) {
  if (backend == "local") return OpenObjectStore("file://" + dir->Sub(name));
  ARK_ASSIGN_OR_RETURN(S3rverProcess * server, SharedS3rver());
  ObjectStoreConfig config;
  config.credentials = {S3rverProcess::kAccessKey, S3rverProcess::kSecretKey, ""};
  config.s3_tuning.max_attempts = 3;
  config.s3_tuning.base_backoff_ms = 10;
  return OpenObjectStore(std::string("s3://") + S3rverProcess::kBucket + "/" + name +
                             "?endpoint=" + server->endpoint() +
                             "&conditional_put=false&part_size=5MiB&multipart_threshold=8MiB"
                             "&parallel=4",
                         config);
}

}  // namespace ark::testing
