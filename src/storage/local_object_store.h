// LocalObjectStore: an ObjectStore in a plain directory (the embedded default).
//
// Key "a/b/c" is the file ROOT/a/b/c. Every write goes to a temp file in
// ROOT/.ark-tmp/, is fsynced, then renamed into place and the directory is
// fsynced, so an object is visible only when complete and durable once Put
// returns OK. Put-if-absent links the temp file into place (link(2) fails if
// the name exists), which is atomic even across processes. Keys are validated
// (ValidateObjectKey) so no key can name a file outside ROOT; the first
// segment ".ark-tmp" is reserved (anywhere in a key). All file access goes through Env.
//
// Limits of a filesystem that S3 does not have: a key cannot be both an
// object and a "directory" of other keys ("a" and "a/b"); such a Put fails
// with FailedPrecondition.
//
// Thread-safe; several processes may share one root.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "storage/env.h"
#include "storage/object_store.h"

namespace ark {

struct LocalObjectStoreOptions {
  Env* env = nullptr;  // nullptr = Env::Default(); not owned, must outlive the store
  size_t io_buffer_size = 1 << 20;  // bytes per read/write call when streaming
};

class LocalObjectStore final : public ObjectStore {
 public:
  // Opens (creating if needed) a store rooted at directory `root`.
  static Result<std::unique_ptr<LocalObjectStore>> Open(const std::string& root,
                                                        LocalObjectStoreOptions options = {});

  std::string Describe() const override { return "file://" + root_; }
  Status Put(const std::string& key, std::string_view data, const PutOptions& options = {}) override;
  Status PutStream(const std::string& key, ObjectReader* reader,
                   const PutOptions& options = {}) override;
  Status GetStream(const std::string& key, ObjectWriter* writer,
                   std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<ListPage> List(const ListOptions& options) override;
  Status Delete(const std::string& key) override;
  Status DeleteMany(const std::vector<std::string>& keys) override;
  bool SupportsPutIfAbsent() const override { return true; }

  const std::string& root() const { return root_; }

 private:
  LocalObjectStore(std::string root, LocalObjectStoreOptions options);
  Status CheckKey(const std::string& key) const;
  std::string PathOf(const std::string& key) const { return root_ + "/" + key; }
  std::string NewTempPath();
  // Writes via `fill` (which appends to the temp file) then publishes as key.
  template <typename Fill>
  Status WriteObject(const std::string& key, const PutOptions& options, Fill fill);
  Status Publish(const std::string& key, const std::string& tmp, bool if_absent);
  Status CollectKeys(const std::string& dir_key, std::vector<std::string>* keys);
  Status NotFoundError(const std::string& key) const;

  const std::string root_;
  const LocalObjectStoreOptions options_;
  Env* const env_;
  const uint64_t temp_nonce_;
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace ark
