// ObjectStore: where backups, archived WAL and bootstrap files live.
//
// One small interface, two backends (a local directory and any S3-compatible
// service), one conformance suite (tests/storage/object_store_conformance_test.cc)
// that every backend passes. Stores are opened from a URL (object_store_url.h).
//
// Keys are '/'-separated UTF-8 strings, the same on every backend so that a
// repository can be copied between them: non-empty, at most 1024 bytes, no NUL,
// no leading '/', no empty, "." or ".." segment (ValidateObjectKey). A store
// may be rooted at a prefix (s3://bucket/some/prefix); keys are relative to it.
//
// Consistency: an object is visible only once it is complete (a reader sees
// the old or the new content, never a mix or a prefix). After Put returns OK,
// Get/Head/List see the object (read-after-write), on the local backend and on
// S3 (strongly consistent since 2020; MinIO and Ceph likewise).
//
// Errors: NotFound (no such object), PermissionDenied (credentials refused),
// Unavailable (transient: network, 5xx, throttling — retry later),
// InvalidArgument (bad key, bad range, bad URL), Corruption (bytes that failed
// a check), AlreadyExists (PutIfAbsent lost), TimedOut. Messages name the
// store, the key, and for S3 the HTTP status and S3 error code; they never
// contain credentials.
//
// Thread-safety: every ObjectStore method may be called concurrently from
// several threads. Readers and writers passed in are used by the calling
// thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ark {

// Metadata of one stored object.
struct ObjectInfo {
  std::string key;            // relative to the store's root/prefix
  uint64_t size = 0;          // bytes
  std::string etag;           // opaque; changes when the content is rewritten
  uint64_t mtime_micros = 0;  // last modification, UTC µs since the epoch (0 if unknown)
};

// A byte range [offset, offset + length). A missing length means "to the end".
// Reading from offset == size yields no bytes; offset > size is InvalidArgument.
struct ByteRange {
  uint64_t offset = 0;
  std::optional<uint64_t> length;
};

// Source of bytes for a streaming put. Read returns the number of bytes
// placed in buf (0 means end of stream) or an error, which aborts the put.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

// Sink for a streaming get. An error from Write aborts the get.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Write(std::string_view data) = 0;
};

struct PutOptions {
  // Fail with AlreadyExists instead of overwriting (only if the store's
  // SupportsPutIfAbsent(); otherwise Put returns NotSupported).
  bool if_absent = false;
};

// One object of a PutBatch: its bytes in memory, or a local file.
struct PutItem {
  std::string key;
  std::string_view data;  // the object's bytes when `file` is empty; not owned
  std::string file;       // if set: a local file whose whole content is the object
};

struct ListOptions {
  std::string prefix;       // only keys starting with this (relative to the store)
  std::string delimiter;    // if set, keys with it after the prefix fold into common_prefixes
  std::string start_after;  // only keys strictly greater than this
  std::string page_token;   // ListPage::next_page_token of the previous page
  int max_keys = 1000;      // page size (1..1000)
};

struct ListPage {
  std::vector<ObjectInfo> objects;           // sorted by key (byte order)
  std::vector<std::string> common_prefixes;  // sorted, each ends with the delimiter
  std::string next_page_token;               // empty when this is the last page
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // A human-readable name of the store for messages ("file:///data/repo",
  // "s3://bucket/prefix"). Never contains credentials.
  virtual std::string Describe() const = 0;

  // Stores `data` under `key`, replacing any previous object.
  virtual Status Put(const std::string& key, std::string_view data,
                     const PutOptions& options = {}) = 0;
  // Stores what `reader` yields until its end. Large objects go up in parts
  // (S3 multipart); the object appears only when the whole stream is stored,
  // and if the reader or an upload fails nothing becomes visible.
  virtual Status PutStream(const std::string& key, ObjectReader* reader,
                           const PutOptions& options = {}) = 0;

  // Stores the content of the local file `local_path` (read to its end;
  // the file must not change meanwhile) under `key`, with Put's guarantees.
  // A missing or unreadable file fails (NotFound, ...) naming the path, and
  // nothing becomes visible. The default opens the file through
  // Env::Default() and streams it through PutStream (S3: multipart above the
  // threshold). LocalObjectStore copies inside the kernel (copy_file_range).
  virtual Status PutFile(const std::string& key, const std::string& local_path,
                         const PutOptions& options = {});

  // Stores many objects, each exactly as Put / PutFile would (an object is
  // visible only once complete, and durable once the call returns OK), but
  // lets the store amortise the cost of durability: the local backend writes
  // every temp file, makes them all durable with one filesystem sync, only
  // then renames them into place, and syncs once more for the new names.
  // Keys must be valid and distinct (InvalidArgument, before anything is
  // written). `options` applies to every item. Item data must stay valid
  // until the call returns; item files are read during the call.
  // Not atomic: on error the first error is returned (naming its key) and
  // any subset of the items may have been stored, each complete; the others
  // are absent or keep their previous content. The default calls
  // Put/PutFile for each item in order, stopping at the first error.
  virtual Status PutBatch(const std::vector<PutItem>& items, const PutOptions& options = {});

  // Streams the object (or `range` of it) into `writer`.
  virtual Status GetStream(const std::string& key, ObjectWriter* writer,
                           std::optional<ByteRange> range = std::nullopt) = 0;
  virtual Result<ObjectInfo> Head(const std::string& key) = 0;

  // Downloads the object into the local file `local_path`, replacing it
  // atomically: the bytes go to a temp file beside it ("<local_path>.ark-get-*"),
  // which is fsynced, renamed over `local_path`, and its directory fsynced.
  // On error `local_path` is untouched (unless only that last directory
  // fsync failed) and the temp file removed. The
  // default streams GetStream into a file of Env::Default(); LocalObjectStore
  // copies inside the kernel (copy_file_range).
  virtual Status GetFile(const std::string& key, const std::string& local_path);

  // One page of a listing; pass next_page_token back for the next page.
  virtual Result<ListPage> List(const ListOptions& options) = 0;

  // Deletes one object. Deleting a missing key is OK (idempotent).
  virtual Status Delete(const std::string& key) = 0;
  // Deletes many (S3: DeleteObjects in batches). Missing keys are OK.
  virtual Status DeleteMany(const std::vector<std::string>& keys) = 0;

  // True if Put with if_absent is atomic on this store.
  virtual bool SupportsPutIfAbsent() const = 0;

  // Conveniences built on the methods above.
  Result<std::string> Get(const std::string& key);
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length);
  // Every object under `prefix` (all pages, no delimiter).
  Result<std::vector<ObjectInfo>> ListAll(const std::string& prefix);
};

// InvalidArgument naming the key if it is not a valid portable key (see top).
Status ValidateObjectKey(std::string_view key);

// For ObjectStore implementations. CheckPutBatch: InvalidArgument naming
// `store` and the key if a batch holds an invalid or a repeated key.
// DownloadTempPath: a temp file name beside `local_path`, unique in the
// process, for GetFile.
Status CheckPutBatch(const std::string& store, const std::vector<PutItem>& items);
std::string DownloadTempPath(const std::string& local_path);

// Readers and writers over memory.
class StringObjectReader final : public ObjectReader {
 public:
  explicit StringObjectReader(std::string_view data) : data_(data) {}
  Result<size_t> Read(char* buf, size_t n) override;

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

class StringObjectWriter final : public ObjectWriter {
 public:
  Status Write(std::string_view data) override {
    out_.append(data);
    return Status::OK();
  }
  std::string& data() { return out_; }

 private:
  std::string out_;
};

}  // namespace ark
