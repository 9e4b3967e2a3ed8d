// EnvWrapper: an Env that forwards every call to another Env (LevelDB's
// EnvWrapper). Derive from it to change a few behaviours (the clock, one
// kind of failure) and keep the rest.
//
// Thread-safety: as the wrapped Env's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/env.h"

namespace ark {

class EnvWrapper : public Env {
 public:
  // `target` must outlive this Env.
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return target_->NewWritableFile(path);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return target_->NewAppendableFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return target_->NewRandomAccessFile(path);
  }
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) override { return target_->MapFile(path); }
  Result<std::unique_ptr<MappedFile>> MapFileLazily(const std::string& path) override {
    return target_->MapFileLazily(path);
  }
  bool FileExists(const std::string& path) override { return target_->FileExists(path); }
  Result<uint64_t> GetFileSize(const std::string& path) override { return target_->GetFileSize(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override { return target_->ListDir(dir); }
  Status CreateDir(const std::string& dir) override { return target_->CreateDir(dir); }
  Status CreateDirs(const std::string& dir) override { return target_->CreateDirs(dir); }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status RemoveDir(const std::string& dir) override { return target_->RemoveDir(dir); }
  Status RemoveAll(const std::string& path) override { return target_->RemoveAll(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_->RenameFile(from, to);
  }
  Status TruncateFile(const std::string& path, uint64_t size) override { return target_->TruncateFile(path, size); }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }
  Status LinkFile(const std::string& from, const std::string& to) override { return target_->LinkFile(from, to); }
  Result<uint64_t> GetFileModificationTime(const std::string& path) override {
    return target_->GetFileModificationTime(path);
  }
  Result<uint64_t> AppendFileContents(const std::string& from, WritableFile* to) override {
    return target_->AppendFileContents(from, to);
  }
  Result<std::unique_ptr<FilesystemSync>> NewFilesystemSync(const std::string& path) override {
    return target_->NewFilesystemSync(path);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override { return target_->LockFile(path); }
  uint64_t NowMicros() override { return target_->NowMicros(); }
  uint64_t WallMicros() override { return target_->WallMicros(); }

 private:
  Env* const target_;
};

}  // namespace ark
