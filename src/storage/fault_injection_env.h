// FaultInjectionEnv: an Env wrapper for crash and I/O-error tests (LevelDB's
// fault_injection_test, extended).
//
// What it models:
//   * Power loss (DropUnsyncedData): every file written through this Env is
//     cut back to the size it had at its last successful Sync()/Fsync(); a
//     file created through this Env whose directory was never SyncDir()'ed
//     since is removed; a RenameFile() whose directory was never SyncDir()'ed
//     since is undone (the file goes back to its old name, and a file it
//     replaced gets its old content back).
//   * Not modelled (treated as durable at once): RemoveFile/RemoveAll,
//     TruncateFile, directory creation. Files that existed before this Env
//     first touched them count as fully synced.
//   * I/O errors: the Nth Append() from now fails with a chosen errno (EIO ->
//     IOError, ENOSPC -> ResourceExhausted), writes half and fails ("short
//     write"), or writes everything and reports success while only the first
//     half can ever become durable ("torn write": lost on crash even after a
//     later successful Sync). The Nth Sync()/Fsync() fails with a chosen errno,
//     and so does the Nth TruncateFile(). Faults fire once.
//   * SetFilesystemActive(false): the machine is "off": every call that would
//     change the filesystem fails with IOError, so a Wal or engine object can
//     be destroyed after a simulated crash without writing anything more.
//
// Thread-safety: all methods are thread-safe (one mutex; the wrapped file
// operations run under it, which serialises I/O: fine for tests).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/env.h"

namespace ark {

class FaultInjectionEnv final : public Env {
 public:
  enum class WriteFault {
    kError,       // nothing written, error returned
    kShortWrite,  // first half written, error returned
    kTornWrite,   // everything written, OK returned, second half lost on crash
  };

  // `base` must outlive this Env.
  explicit FaultInjectionEnv(Env* base);
  ~FaultInjectionEnv() override;

  // Simulated power loss (see above). Files stay usable afterwards.
  Status DropUnsyncedData();
  // A harsher power loss: each file keeps its synced bytes plus a random
  // prefix (chosen by `seed`) of its unsynced bytes, and that kept unsynced
  // part is, one time in four, zero-filled (the size reached the disk but the
  // data blocks did not). Removed files and undone renames as above.
  Status DropUnsyncedDataRandomly(uint64_t seed);
  void SetFilesystemActive(bool active);
  // nth >= 1 counts Append() calls from now on; 0 clears the fault.
  void FailWrite(uint64_t nth, int error_number, WriteFault kind = WriteFault::kError);
  // nth >= 1 counts Sync()/Fsync() calls from now on; 0 clears the fault.
  void FailSync(uint64_t nth, int error_number);
  // nth >= 1 counts TruncateFile() calls from now on (nothing is cut); 0 clears.
  void FailTruncate(uint64_t nth, int error_number);
  void ClearFaults();
  // false: Sync()/Fsync()/SyncDir() do the bookkeeping but skip the real
  // fsync (crash tests simulate the crash themselves; saves time).
  void SetForwardSyncs(bool forward);

  uint64_t write_count() const;
  uint64_t sync_count() const;
  // Bytes of `path` that would survive DropUnsyncedData now (nullopt-like:
  // UINT64_MAX for a file this Env does not track).
  uint64_t DurableSize(const std::string& path) const;

  // Env.
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return base_->NewRandomAccessFile(path);
  }
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) override {
    return base_->MapFile(path);
  }
  Result<std::unique_ptr<MappedFile>> MapFileLazily(const std::string& path) override {
    return base_->MapFileLazily(path);
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  Status CreateDir(const std::string& dir) override;
  Status CreateDirs(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& dir) override;
  Status RemoveAll(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Status LinkFile(const std::string& from, const std::string& to) override;
  Result<uint64_t> GetFileModificationTime(const std::string& path) override {
    return base_->GetFileModificationTime(path);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }
  uint64_t NowMicros() override { return base_->NowMicros(); }
  uint64_t WallMicros() override { return base_->WallMicros(); }

 private:
  class File;
  friend class File;
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
    uint64_t torn_limit = UINT64_MAX;  // bytes past this never become durable
    bool dir_entry_unsynced = false;   // created since the last SyncDir of its dir
  };
  struct PendingRename {
    std::string from, to;
    bool replaced = false;  // `to` existed before the rename
    std::string replaced_content;
    FileState replaced_state;
    bool replaced_tracked = false;
  };

  Status Drop(uint64_t* seed);  // mu_ held; seed == nullptr: drop everything unsynced
  Status FileAppend(WritableFile* base, std::string_view data);
  Status FileSync(WritableFile* base, bool full);
  Status CheckActive(const std::string& what) const;  // mu_ held
  static Status InjectedError(const std::string& what, int error_number);

  Env* const base_;
  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;  // GUARDED_BY(mu_)
  std::vector<PendingRename> renames_;      // GUARDED_BY(mu_)
  bool active_ = true;
  bool forward_syncs_ = true;
  uint64_t writes_ = 0, syncs_ = 0, truncates_ = 0;
  // absolute counter values, 0 = none
  uint64_t write_fault_at_ = 0, sync_fault_at_ = 0, truncate_fault_at_ = 0;
  int write_errno_ = 0, sync_errno_ = 0, truncate_errno_ = 0;
  WriteFault write_fault_kind_ = WriteFault::kError;
};

}  // namespace ark
