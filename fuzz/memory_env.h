// MemoryEnv: a read-only, in-memory Env for fuzz targets, so a reader that
// takes an Env (WalReader) can read fuzzer bytes without touching the disk.
//
// Files are added with AddFile(); directories exist implicitly (any prefix of
// a file path). Every write or mutation returns NotSupported: the readers
// under test must never write. Not thread-safe (fuzz targets are serial).
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"

namespace ark::fuzz {

class MemoryEnv final : public Env {
 public:
  void AddFile(const std::string& path, std::string data) { files_[path] = std::move(data); }
  void Clear() { files_.clear(); }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return Status::NotSupported("MemoryEnv is read-only: " + path);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return Status::NotSupported("MemoryEnv is read-only: " + path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound("no file " + path);
    return std::unique_ptr<RandomAccessFile>(new File(path, &it->second));
  }
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound("no file " + path);
    return std::unique_ptr<MappedFile>(new Mapped(path, &it->second));
  }
  bool FileExists(const std::string& path) override {
    return files_.count(path) != 0 || IsDir(path);
  }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound("no file " + path);
    return static_cast<uint64_t>(it->second.size());
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    if (!IsDir(dir)) return Status::NotFound("no directory " + dir);
    std::vector<std::string> names;
    std::string prefix = dir + "/";
    for (const auto& [path, data] : files_) {
      if (path.compare(0, prefix.size(), prefix) != 0) continue;
      std::string rest = path.substr(prefix.size());
      std::string name = rest.substr(0, rest.find('/'));
      if (names.empty() || names.back() != name) names.push_back(name);
    }
    return names;
  }
  Status CreateDir(const std::string& dir) override { return ReadOnly(dir); }
  Status CreateDirs(const std::string& dir) override { return ReadOnly(dir); }
  Status RemoveFile(const std::string& path) override { return ReadOnly(path); }
  Status RemoveDir(const std::string& dir) override { return ReadOnly(dir); }
  Status RemoveAll(const std::string& path) override { return ReadOnly(path); }
  Status RenameFile(const std::string& from, const std::string& to) override { return ReadOnly(from); }
  Status TruncateFile(const std::string& path, uint64_t size) override { return ReadOnly(path); }
  Status SyncDir(const std::string& dir) override { return ReadOnly(dir); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return ReadOnly(path);
  }
  uint64_t NowMicros() override { return ++clock_; }
  uint64_t WallMicros() override { return ++clock_; }

 private:
  class File final : public RandomAccessFile {
   public:
    File(std::string path, const std::string* data) : path_(std::move(path)), data_(data) {}
    Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
      if (offset >= data_->size()) {
        *result = {};
        return Status::OK();
      }
      size_t got = std::min<uint64_t>(n, data_->size() - offset);
      std::memcpy(scratch, data_->data() + offset, got);
      *result = std::string_view(scratch, got);
      return Status::OK();
    }
    Result<uint64_t> Size() const override { return static_cast<uint64_t>(data_->size()); }
    const std::string& path() const override { return path_; }

   private:
    std::string path_;
    const std::string* data_;
  };
  class Mapped final : public MappedFile {
   public:
    Mapped(std::string path, const std::string* data) : path_(std::move(path)), data_(data) {}
    std::string_view data() const override { return *data_; }
    const std::string& path() const override { return path_; }

   private:
    std::string path_;
    const std::string* data_;
  };

  bool IsDir(const std::string& dir) const {
    std::string prefix = dir + "/";
    auto it = files_.lower_bound(prefix);
    return it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
  }
  static Status ReadOnly(const std::string& path) {
    return Status::NotSupported("MemoryEnv is read-only: " + path);
  }

  std::map<std::string, std::string> files_;
  uint64_t clock_ = 0;
};

}  // namespace ark::fuzz
