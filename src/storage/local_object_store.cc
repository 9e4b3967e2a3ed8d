#include "storage/local_object_store.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

namespace ark {
namespace {

constexpr char kTempDir[] = ".ark-tmp";

std::string ParentKeyDir(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? std::string() : key.substr(0, slash);
}

// Runs fn(i) for every i in [0, n) on up to `threads` threads (this one included).
template <typename Fn>
void RunParallel(size_t n, int threads, Fn fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  size_t extra = std::min(n, static_cast<size_t>(std::max(threads, 1))) - (n > 0 ? 1 : 0);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < extra; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

}  // namespace

LocalObjectStore::LocalObjectStore(std::string root, LocalObjectStoreOptions options)
    : root_(std::move(root)),
      options_(options),
      env_(options.env != nullptr ? options.env : Env::Default()),
      temp_nonce_((static_cast<uint64_t>(std::random_device{}()) << 32) ^
                  static_cast<uint64_t>(::getpid())) {}

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(const std::string& root,
                                                                 LocalObjectStoreOptions options) {
  if (root.empty()) return Status::InvalidArgument("local object store: empty root directory");
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  std::unique_ptr<LocalObjectStore> store(new LocalObjectStore(r, options));
  // Nothing is created here: opening is not writing (a refused request, or
  // `ark backup list` of a path that holds no repository, leaves the disk as
  // it was). The root and its temp directory appear at the first write.
  if (store->env_->FileExists(r) && !store->env_->ListDir(r).ok()) {
    return Status::InvalidArgument("open local object store " + r + ": not a directory");
  }
  return store;
}

Status LocalObjectStore::EnsureTempDir() {
  if (temp_dir_ready_.load(std::memory_order_acquire)) return Status::OK();
  ARK_RETURN_IF_ERROR(env_->CreateDirs(root_ + "/" + kTempDir).WithContext(Describe() + ": create the temp directory"));
  temp_dir_ready_.store(true, std::memory_order_release);
  return Status::OK();
}

Status LocalObjectStore::CheckKey(const std::string& key) const {
  ARK_RETURN_IF_ERROR(ValidateObjectKey(key).WithContext(Describe()));
  // ".ark-tmp" is reserved as any segment: a store opened at a subdirectory
  // of another (as `ark objectstore put` does) keeps its temp files there.
  const std::string tmp_segment = std::string("/") + kTempDir + "/";
  if (("/" + key + "/").find(tmp_segment) != std::string::npos) {
    return Status::InvalidArgument(Describe() + ": object key \"" + key +
                                   "\": the segment .ark-tmp is reserved");
  }
  return Status::OK();
}

Status LocalObjectStore::NotFoundError(const std::string& key) const {
  return Status::NotFound(Describe() + ": no object \"" + key + "\"");
}

std::string LocalObjectStore::NewTempPath() {
  char name[64];
  std::snprintf(name, sizeof(name), "%016" PRIx64 "-%" PRIu64, temp_nonce_,
                temp_counter_.fetch_add(1));
  return root_ + "/" + kTempDir + "/" + name;
}

template <typename Fill>
Status LocalObjectStore::WriteObject(const std::string& key, const PutOptions& options, Fill fill) {
  ARK_RETURN_IF_ERROR(CheckKey(key));
  ARK_RETURN_IF_ERROR(EnsureTempDir());
  const std::string tmp = NewTempPath();
  Status s = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(tmp));
    ARK_RETURN_IF_ERROR(fill(file.get()));
    ARK_RETURN_IF_ERROR(file->Fsync());
    ARK_RETURN_IF_ERROR(file->Close());
    return Publish(key, tmp, options.if_absent);
  }();
  if (!s.ok() || options.if_absent) {
    // After a rename the temp name is gone; after a link (if_absent) or a
    // failure it must be removed. Errors here leave only garbage in .ark-tmp.
    (void)env_->RemoveFile(tmp);
  }
  return s;
}

Status LocalObjectStore::Publish(const std::string& key, const std::string& tmp, bool if_absent,
                                 std::set<std::string>* dirs_to_sync) {
  const std::string path = PathOf(key);
  const std::string parent_key = ParentKeyDir(key);
  const std::string parent = parent_key.empty() ? root_ : PathOf(parent_key);
  // A concurrent Delete may remove an empty parent directory between our
  // CreateDirs and the rename; try again a few times.
  Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    bool created = false;
    // In a batch, a directory published into a moment ago is known to exist
    // (if a concurrent Delete removed it, the rename fails and we retry).
    bool known = attempt == 0 && dirs_to_sync != nullptr && dirs_to_sync->count(parent) > 0;
    if (!parent_key.empty() && !known && !env_->FileExists(parent)) {
      s = env_->CreateDirs(parent);
      if (!s.ok()) {
        return Status::FailedPrecondition(Describe() + ": cannot create the directory for \"" +
                                          key + "\" (is a prefix of it an object?): " +
                                          s.message());
      }
      created = true;
    }
    s = if_absent ? env_->LinkFile(tmp, path) : env_->RenameFile(tmp, path);
    if (s.IsNotFound()) continue;
    if (s.Is(StatusCode::kAlreadyExists)) {
      return Status::AlreadyExists(Describe() + ": object \"" + key + "\" already exists");
    }
    if (!s.ok()) {
      if (!parent_key.empty() && !env_->ListDir(parent).ok()) {
        return Status::FailedPrecondition(Describe() + ": cannot store \"" + key +
                                          "\": a prefix of it is an object");
      }
      return s.WithContext(Describe() + ": publish \"" + key + "\"");
    }
    std::set<std::string> dirs;
    std::set<std::string>* to_sync = dirs_to_sync != nullptr ? dirs_to_sync : &dirs;
    to_sync->insert(parent);
    if (created) {
      // New directories are durable only once their own parents are synced.
      std::string k = parent_key;
      while (!k.empty()) {
        k = ParentKeyDir(k);
        to_sync->insert(k.empty() ? root_ : PathOf(k));
      }
    }
    if (dirs_to_sync == nullptr) {
      for (const auto& dir : dirs) ARK_RETURN_IF_ERROR(env_->SyncDir(dir));
    }
    return Status::OK();
  }
  return s.WithContext(Describe() + ": publish \"" + key + "\"");
}

Status LocalObjectStore::Put(const std::string& key, std::string_view data,
                             const PutOptions& options) {
  return WriteObject(key, options, [&](WritableFile* f) { return f->Append(data); });
}

Status LocalObjectStore::PutStream(const std::string& key, ObjectReader* reader,
                                   const PutOptions& options) {
  return WriteObject(key, options, [&](WritableFile* f) -> Status {
    std::string buf(options_.io_buffer_size, '\0');
    for (;;) {
      ARK_ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
      if (n == 0) return Status::OK();
      ARK_RETURN_IF_ERROR(f->Append(std::string_view(buf.data(), n)));
    }
  });
}

Status LocalObjectStore::PutFile(const std::string& key, const std::string& local_path,
                                 const PutOptions& options) {
  return WriteObject(key, options, [&](WritableFile* f) -> Status {
    return env_->AppendFileContents(local_path, f)
        .status()
        .WithContext(Describe() + ": put \"" + key + "\" from " + local_path);
  });
}

Result<std::unique_ptr<WritableFile>> LocalObjectStore::WriteTemp(const PutItem& item,
                                                                  const std::string& tmp,
                                                                  bool keep_open) {
  ARK_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(tmp));
  if (item.file.empty()) {
    ARK_RETURN_IF_ERROR(file->Append(item.data));
  } else {
    ARK_RETURN_IF_ERROR(env_->AppendFileContents(item.file, file.get())
                            .status()
                            .WithContext("from " + item.file));
  }
  if (!keep_open) ARK_RETURN_IF_ERROR(file->Close());
  return file;
}

Status LocalObjectStore::PutBatch(const std::vector<PutItem>& items, const PutOptions& options) {
  ARK_RETURN_IF_ERROR(CheckPutBatch(Describe(), items));
  for (const auto& item : items) ARK_RETURN_IF_ERROR(CheckKey(item.key));
  if (items.empty()) return Status::OK();
  ARK_RETURN_IF_ERROR(EnsureTempDir());  // and the root, which the filesystem sync opens
  std::unique_ptr<FilesystemSync> fs_sync;
  if (options_.batch_sync_filesystem) {
    // Opened before any write, so that its Sync() sees their write-back errors.
    auto opened = env_->NewFilesystemSync(root_);
    if (opened.ok()) {
      fs_sync = std::move(*opened);
    } else if (!opened.status().Is(StatusCode::kNotSupported)) {
      return opened.status().WithContext(Describe() + ": put batch");
    }
  }
  // With syncfs no file stays open, so the whole batch is one chunk.
  const size_t chunk = fs_sync ? items.size() : std::max<size_t>(options_.batch_open_files, 1);
  for (size_t begin = 0; begin < items.size(); begin += chunk) {
    ARK_RETURN_IF_ERROR(PutBatchChunk(items, begin, std::min(items.size(), begin + chunk), options,
                                      fs_sync.get()));
  }
  return Status::OK();
}

Status LocalObjectStore::PutBatchChunk(const std::vector<PutItem>& items, size_t begin,
                                       size_t end, const PutOptions& options,
                                       FilesystemSync* fs_sync) {
  std::vector<std::string> temps;
  temps.reserve(end - begin);
  // Removes temp files [from, ...): after a failure, or links (if_absent).
  auto remove_temps = [&](size_t from) {
    for (size_t i = from; i < temps.size(); ++i) (void)env_->RemoveFile(temps[i]);
  };
  // 1. Every object's bytes into its temp file (kept open only to fsync it).
  const size_t n = end - begin;
  for (size_t i = 0; i < n; ++i) temps.push_back(NewTempPath());
  std::vector<std::unique_ptr<WritableFile>> open_files(n);
  std::vector<Status> errors(n);
  RunParallel(n, options_.batch_write_threads, [&](size_t i) {
    auto file = WriteTemp(items[begin + i], temps[i], /*keep_open=*/fs_sync == nullptr);
    if (file.ok()) {
      open_files[i] = std::move(*file);
    } else {
      errors[i] = file.status();
    }
  });
  for (size_t i = 0; i < n; ++i) {
    if (!errors[i].ok()) {
      remove_temps(0);
      return errors[i].WithContext(Describe() + ": put \"" + items[begin + i].key + "\"");
    }
  }
  // 2. Make them durable: one syncfs, or fsyncs from a few threads.
  Status synced;
  if (fs_sync != nullptr) {
    synced = fs_sync->Sync();
  } else {
    RunParallel(n, options_.batch_sync_threads, [&](size_t i) {
      errors[i] = open_files[i]->Fsync();
      Status closed = open_files[i]->Close();
      if (errors[i].ok()) errors[i] = closed;
    });
    for (size_t i = 0; i < errors.size() && synced.ok(); ++i) {
      if (!errors[i].ok()) {
        synced = errors[i].WithContext(Describe() + ": put \"" + items[begin + i].key + "\"");
      }
    }
  }
  if (!synced.ok()) {
    remove_temps(0);
    return synced.WithContext(Describe() + ": put batch");
  }
  // 3. Publish in order; stop at the first failure but keep what was published.
  std::set<std::string> dirs;
  Status published;
  for (size_t i = 0; i < temps.size(); ++i) {
    published = Publish(items[begin + i].key, temps[i], options.if_absent, &dirs);
    if (options.if_absent) (void)env_->RemoveFile(temps[i]);  // linked, not renamed
    if (!published.ok()) {
      remove_temps(i);
      break;
    }
  }
  // 4. Make the renames durable.
  Status dirs_synced;
  if (fs_sync != nullptr) {
    dirs_synced = fs_sync->Sync().WithContext(Describe() + ": put batch");
  } else {
    for (const auto& dir : dirs) {
      dirs_synced = env_->SyncDir(dir);
      if (!dirs_synced.ok()) break;
    }
  }
  return published.ok() ? dirs_synced : published;
}

Status LocalObjectStore::GetFile(const std::string& key, const std::string& local_path) {
  ARK_RETURN_IF_ERROR(CheckKey(key));
  const std::string path = PathOf(key);
  if (env_->ListDir(path).ok()) return NotFoundError(key);  // a "directory" is no object
  const std::string tmp = DownloadTempPath(local_path);
  Status s = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(tmp));
    auto copied = env_->AppendFileContents(path, file.get());
    if (copied.status().IsNotFound() && !env_->FileExists(path)) return NotFoundError(key);
    ARK_RETURN_IF_ERROR(
        copied.status().WithContext(Describe() + ": get \"" + key + "\" to " + local_path));
    ARK_RETURN_IF_ERROR(file->Fsync());
    ARK_RETURN_IF_ERROR(file->Close());
    ARK_RETURN_IF_ERROR(env_->RenameFile(tmp, local_path));
    return env_->SyncDir(DirName(local_path));
  }();
  if (!s.ok()) (void)env_->RemoveFile(tmp);  // NotFound once renamed: fine
  return s;
}

Status LocalObjectStore::GetStream(const std::string& key, ObjectWriter* writer,
                                   std::optional<ByteRange> range) {
  ARK_RETURN_IF_ERROR(CheckKey(key));
  const std::string path = PathOf(key);
  auto file = env_->NewRandomAccessFile(path);
  if (!file.ok()) {
    if (file.status().IsNotFound()) return NotFoundError(key);
    return file.status().WithContext(Describe());
  }
  if (env_->ListDir(path).ok()) return NotFoundError(key);  // a "directory" is no object
  ARK_ASSIGN_OR_RETURN(uint64_t size, (*file)->Size());
  uint64_t offset = range ? range->offset : 0;
  if (offset > size) {
    return Status::InvalidArgument(Describe() + ": object \"" + key + "\": range offset " +
                                   std::to_string(offset) + " beyond size " +
                                   std::to_string(size));
  }
  uint64_t end = size;
  if (range && range->length) end = std::min(size, offset + *range->length);
  std::string scratch(std::min<uint64_t>(options_.io_buffer_size, std::max<uint64_t>(end - offset, 1)), '\0');
  while (offset < end) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(scratch.size(), end - offset));
    std::string_view got;
    ARK_RETURN_IF_ERROR((*file)->Read(offset, want, &got, scratch.data()));
    if (got.empty()) {
      return Status::Corruption(Describe() + ": object \"" + key + "\" shrank while reading at " +
                                std::to_string(offset));
    }
    ARK_RETURN_IF_ERROR(writer->Write(got));
    offset += got.size();
  }
  return Status::OK();
}

Result<ObjectInfo> LocalObjectStore::Head(const std::string& key) {
  ARK_RETURN_IF_ERROR(CheckKey(key));
  const std::string path = PathOf(key);
  auto size = env_->GetFileSize(path);
  if (!size.ok()) {
    if (size.status().IsNotFound()) return NotFoundError(key);
    return size.status().WithContext(Describe());
  }
  if (env_->ListDir(path).ok()) return NotFoundError(key);
  ObjectInfo info;
  info.key = key;
  info.size = *size;
  auto mtime = env_->GetFileModificationTime(path);
  if (mtime.ok()) info.mtime_micros = *mtime;
  char etag[48];
  std::snprintf(etag, sizeof(etag), "%" PRIx64 "-%" PRIx64, info.size, info.mtime_micros);
  info.etag = etag;
  return info;
}

Status LocalObjectStore::CollectKeys(const std::string& dir_key, std::vector<std::string>* keys) {
  const std::string dir = dir_key.empty() ? root_ : PathOf(dir_key);
  auto names = env_->ListDir(dir);
  if (!names.ok()) {
    // Missing (or concurrently deleted) directories hold no keys; a file
    // where a directory was expected is not one either.
    if (names.status().IsNotFound() || names.status().Is(StatusCode::kIOError)) {
      return Status::OK();
    }
    return names.status().WithContext(Describe() + ": list");
  }
  for (const auto& name : *names) {
    if (name == kTempDir) continue;
    std::string key = dir_key.empty() ? name : dir_key + "/" + name;
    if (env_->ListDir(PathOf(key)).ok()) {
      ARK_RETURN_IF_ERROR(CollectKeys(key, keys));
    } else {
      keys->push_back(std::move(key));
    }
  }
  return Status::OK();
}

Result<ListPage> LocalObjectStore::List(const ListOptions& options) {
  if (options.max_keys < 1 || options.max_keys > 1000) {
    return Status::InvalidArgument(Describe() + ": list max_keys " +
                                   std::to_string(options.max_keys) + " not in 1..1000");
  }
  // Walk only the directory the prefix lies in; keys there are filtered by
  // the full prefix.
  std::string base = ParentKeyDir(options.prefix);
  if (!base.empty() && !ValidateObjectKey(base).ok()) return ListPage{};
  std::vector<std::string> keys;
  ARK_RETURN_IF_ERROR(CollectKeys(base, &keys));
  std::sort(keys.begin(), keys.end());

  const std::string& after =
      options.page_token.empty() ? options.start_after
                                 : std::max(options.page_token, options.start_after);
  ListPage page;
  std::string last;
  size_t count = 0;
  auto it = std::upper_bound(keys.begin(), keys.end(), after);
  for (; it != keys.end(); ++it) {
    const std::string& key = *it;
    if (key.compare(0, options.prefix.size(), options.prefix) != 0) continue;
    std::string entry = key;
    bool is_prefix = false;
    if (!options.delimiter.empty()) {
      size_t d = key.find(options.delimiter, options.prefix.size());
      if (d != std::string::npos) {
        entry = key.substr(0, d + options.delimiter.size());
        is_prefix = true;
      }
    }
    if (is_prefix && !page.common_prefixes.empty() && page.common_prefixes.back() == entry) {
      continue;
    }
    if (is_prefix && entry <= after) continue;  // folded into a prefix of an earlier page
    if (count == static_cast<size_t>(options.max_keys)) {
      page.next_page_token = last;
      break;
    }
    if (is_prefix) {
      page.common_prefixes.push_back(entry);
      // Everything under this prefix sorts before prefix + "\xff..."; the
      // token skips the whole group on the next page.
      last = entry + std::string(1, '\xff');
    } else {
      auto info = Head(key);
      if (!info.ok()) {
        if (info.status().IsNotFound()) continue;  // deleted while listing
        return info.status();
      }
      page.objects.push_back(std::move(*info));
      last = key;
    }
    ++count;
  }
  return page;
}

Status LocalObjectStore::Delete(const std::string& key) { return DeleteMany({key}); }

Status LocalObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  for (const auto& key : keys) ARK_RETURN_IF_ERROR(CheckKey(key));
  std::set<std::string> dirs;  // parents to sync once each, deepest last
  for (const auto& key : keys) {
    const std::string path = PathOf(key);
    if (env_->ListDir(path).ok()) continue;  // a "directory" is no object
    Status s = env_->RemoveFile(path);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return s.WithContext(Describe() + ": delete \"" + key + "\"");
    dirs.insert(ParentKeyDir(key));
  }
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    std::string parent_key = *it;
    Status s = env_->SyncDir(parent_key.empty() ? root_ : PathOf(parent_key));
    if (s.IsNotFound()) continue;  // removed as an empty parent of a deeper key
    ARK_RETURN_IF_ERROR(s);
    // Remove directories left empty (best effort: a concurrent Put may refill one).
    while (!parent_key.empty()) {
      if (!env_->RemoveDir(PathOf(parent_key)).ok()) break;
      parent_key = ParentKeyDir(parent_key);
    }
  }
  return Status::OK();
}

}  // namespace ark
