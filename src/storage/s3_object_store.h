// S3ObjectStore: an ObjectStore on any S3-compatible service (AWS S3, MinIO,
// Ceph RGW, s3rver) through S3Client (libcurl, SigV4, retries).
//
// - Put sends one PUT up to multipart_threshold bytes; larger objects (and
//   PutStream of long streams) go up as a multipart upload whose parts are
//   uploaded max_parallel_parts at a time. If a part, the reader or the
//   completion fails, the upload is aborted (AbortMultipartUpload; a server
//   that refuses the abort, like s3rver, keeps the invisible parts until its
//   own cleanup) and nothing becomes visible: S3 shows an object only after
//   CompleteMultipartUpload.
// - GetStream with a range sends "Range: bytes=a-b" and checks for 206.
// - List is ListObjectsV2 (its continuation token is the page token).
// - DeleteMany is DeleteObjects in batches of delete_batch_size.
// - Put with if_absent sends If-None-Match: * when options.conditional_put
//   (AWS since 2024, MinIO, Ceph); s3rver ignores that header, so tests against
//   it run with conditional_put = false, where if_absent is NotSupported.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "storage/object_store.h"
#include "storage/s3_client.h"
#include "storage/s3_options.h"

namespace ark {

class S3ObjectStore final : public ObjectStore {
 public:
  // InvalidArgument if the options are unusable (no bucket, bad bucket name,
  // no credentials, bad endpoint), naming the field but never a secret.
  static Result<std::unique_ptr<S3ObjectStore>> Open(S3Options options);

  std::string Describe() const override;
  Status Put(const std::string& key, std::string_view data, const PutOptions& options = {}) override;
  Status PutStream(const std::string& key, ObjectReader* reader,
                   const PutOptions& options = {}) override;
  Status GetStream(const std::string& key, ObjectWriter* writer,
                   std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<ListPage> List(const ListOptions& options) override;
  Status Delete(const std::string& key) override;
  Status DeleteMany(const std::vector<std::string>& keys) override;
  bool SupportsPutIfAbsent() const override { return client_.options().conditional_put; }

  S3Client& client() { return client_; }

 private:
  explicit S3ObjectStore(S3Options options) : client_(std::move(options)) {}
  std::string FullKey(const std::string& key) const { return client_.options().prefix + key; }
  Status PutSingle(const std::string& full_key, std::string_view data, const PutOptions& options);
  Status PutMultipart(const std::string& full_key, std::vector<std::string> head,
                      bool reader_done, ObjectReader* reader, const PutOptions& options);
  Status CompleteMultipart(const std::string& full_key, const std::string& upload_id,
                           const std::vector<std::string>& etags, const PutOptions& options);
  void AbortMultipart(const std::string& full_key, const std::string& upload_id);

  S3Client client_;
};

}  // namespace ark
