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
// PutFile and GetFile copy inside the kernel (copy_file_range through
// Env::AppendFileContents). PutBatch writes every temp file first, makes
// them durable together (one syncfs of the filesystem through
// Env::NewFilesystemSync, or, where the Env has none, an fsync of each file
// from a few threads), then renames them all into place and makes the
// renames durable (a second syncfs, or one fsync per touched directory).
//
// Limits of a filesystem that S3 does not have: a key cannot be both an
// object and a "directory" of other keys ("a" and "a/b"); such a Put fails
// with FailedPrecondition.
//
// Thread-safe; several processes may share one root.
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "storage/env.h"
#include "storage/object_store.h"

namespace ark {

struct LocalObjectStoreOptions {
  Env* env = nullptr;  // nullptr = Env::Default(); not owned, must outlive the store
  size_t io_buffer_size = 1 << 20;  // bytes per read/write call when streaming
  // PutBatch: sync the whole filesystem once (syncfs) when the Env can;
  // false: always fsync each file (never flushes other programs' data).
  bool batch_sync_filesystem = true;
  // PutBatch: threads writing temp files (each creates, writes, closes).
  int batch_write_threads = 2;
  // PutBatch without syncfs: files fsynced at once (threads), and files kept
  // open at a time (the batch goes in chunks of this many).
  int batch_sync_threads = 32;
  size_t batch_open_files = 256;
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
  Status PutFile(const std::string& key, const std::string& local_path,
                 const PutOptions& options = {}) override;
  Status PutBatch(const std::vector<PutItem>& items, const PutOptions& options = {}) override;
  Status GetFile(const std::string& key, const std::string& local_path) override;
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
  // Creates ROOT/.ark-tmp (and ROOT) before the first write; later calls are free.
  Status EnsureTempDir();
  // Writes via `fill` (which appends to the temp file) then publishes as key.
  template <typename Fill>
  Status WriteObject(const std::string& key, const PutOptions& options, Fill fill);
  // Renames (or links, if_absent) `tmp` into place as `key`. Makes it
  // durable (directory fsyncs) unless `dirs_to_sync` is set: then adds the
  // directories that need an fsync to it instead.
  Status Publish(const std::string& key, const std::string& tmp, bool if_absent,
                 std::set<std::string>* dirs_to_sync = nullptr);
  // PutBatch of items [begin, end). `fs_sync` null: fsync each file.
  Status PutBatchChunk(const std::vector<PutItem>& items, size_t begin, size_t end,
                       const PutOptions& options, FilesystemSync* fs_sync);
  // Creates a temp file holding the item's bytes; closes it if `keep_open` is false.
  Result<std::unique_ptr<WritableFile>> WriteTemp(const PutItem& item, const std::string& tmp,
                                                  bool keep_open);
  Status CollectKeys(const std::string& dir_key, std::vector<std::string>* keys);
  Status NotFoundError(const std::string& key) const;

  const std::string root_;
  const LocalObjectStoreOptions options_;
  Env* const env_;
  const uint64_t temp_nonce_;
  std::atomic<uint64_t> temp_counter_{0};
  std::atomic<bool> temp_dir_ready_{false};
};

}  // namespace ark
