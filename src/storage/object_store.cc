#include "storage/object_store.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>

#include "storage/env.h"

namespace ark {
namespace {

// Yields a local file front to back.
class FileObjectReader final : public ObjectReader {
 public:
  explicit FileObjectReader(std::unique_ptr<RandomAccessFile> file) : file_(std::move(file)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    std::string_view got;
    ARK_RETURN_IF_ERROR(file_->Read(offset_, n, &got, buf));
    if (got.data() != buf && !got.empty()) std::memmove(buf, got.data(), got.size());
    offset_ += got.size();
    return got.size();
  }

 private:
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t offset_ = 0;
};

class FileObjectWriter final : public ObjectWriter {
 public:
  explicit FileObjectWriter(WritableFile* file) : file_(file) {}
  Status Write(std::string_view data) override { return file_->Append(data); }

 private:
  WritableFile* file_;
};

}  // namespace

std::string DownloadTempPath(const std::string& local_path) {
  static std::atomic<uint64_t> counter{0};
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), ".ark-get-%d-%" PRIu64, static_cast<int>(::getpid()),
                counter.fetch_add(1));
  return local_path + suffix;
}

Status ObjectStore::PutFile(const std::string& key, const std::string& local_path,
                            const PutOptions& options) {
  ARK_RETURN_IF_ERROR(ValidateObjectKey(key).WithContext(Describe()));
  auto file = Env::Default()->NewRandomAccessFile(local_path);
  if (!file.ok()) {
    return file.status().WithContext(Describe() + ": put \"" + key + "\" from " + local_path);
  }
  FileObjectReader reader(std::move(*file));
  return PutStream(key, &reader, options);
}

Status CheckPutBatch(const std::string& store, const std::vector<PutItem>& items) {
  std::set<std::string_view> seen;
  for (const auto& item : items) {
    ARK_RETURN_IF_ERROR(ValidateObjectKey(item.key).WithContext(store));
    if (!seen.insert(item.key).second) {
      return Status::InvalidArgument(store + ": put batch names the key \"" + item.key +
                                     "\" twice");
    }
  }
  return Status::OK();
}

Status ObjectStore::PutBatch(const std::vector<PutItem>& items, const PutOptions& options) {
  ARK_RETURN_IF_ERROR(CheckPutBatch(Describe(), items));
  for (const auto& item : items) {
    ARK_RETURN_IF_ERROR(item.file.empty() ? Put(item.key, item.data, options)
                                          : PutFile(item.key, item.file, options));
  }
  return Status::OK();
}

Status ObjectStore::GetFile(const std::string& key, const std::string& local_path) {
  Env* env = Env::Default();
  const std::string tmp = DownloadTempPath(local_path);
  Status s = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp));
    FileObjectWriter writer(file.get());
    ARK_RETURN_IF_ERROR(GetStream(key, &writer));
    ARK_RETURN_IF_ERROR(file->Fsync());
    ARK_RETURN_IF_ERROR(file->Close());
    ARK_RETURN_IF_ERROR(env->RenameFile(tmp, local_path));
    return env->SyncDir(DirName(local_path));
  }();
  if (!s.ok()) (void)env->RemoveFile(tmp);  // NotFound once renamed: fine
  return s;
}

Result<std::string> ObjectStore::Get(const std::string& key) {
  StringObjectWriter writer;
  ARK_RETURN_IF_ERROR(GetStream(key, &writer));
  return std::move(writer.data());
}

Result<std::string> ObjectStore::GetRange(const std::string& key, uint64_t offset,
                                          uint64_t length) {
  StringObjectWriter writer;
  ARK_RETURN_IF_ERROR(GetStream(key, &writer, ByteRange{offset, length}));
  return std::move(writer.data());
}

Result<std::vector<ObjectInfo>> ObjectStore::ListAll(const std::string& prefix) {
  std::vector<ObjectInfo> all;
  ListOptions options;
  options.prefix = prefix;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(ListPage page, List(options));
    for (auto& o : page.objects) all.push_back(std::move(o));
    if (page.next_page_token.empty()) break;
    options.page_token = page.next_page_token;
  }
  return all;
}

Status ValidateObjectKey(std::string_view key) {
  auto bad = [&](const char* why) {
    std::string shown(key);
    for (char& c : shown) {
      if (c == '\0') c = '?';
    }
    return Status::InvalidArgument("object key \"" + shown + "\": " + why);
  };
  if (key.empty()) return bad("empty key");
  if (key.size() > 1024) return bad("longer than 1024 bytes");
  if (key.find('\0') != std::string_view::npos) return bad("contains NUL");
  if (key.front() == '/') return bad("absolute (leading '/')");
  size_t start = 0;
  for (;;) {
    size_t end = key.find('/', start);
    std::string_view seg = key.substr(start, end == std::string_view::npos ? end : end - start);
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' or '..' segment");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return Status::OK();
}

Result<size_t> StringObjectReader::Read(char* buf, size_t n) {
  size_t k = std::min(n, data_.size() - pos_);
  if (k > 0) std::memcpy(buf, data_.data() + pos_, k);
  pos_ += k;
  return k;
}

}  // namespace ark
