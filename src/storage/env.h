// Env: the only door to the local filesystem and the clock.
//
// Nothing in wal/, engine/ or dr/ calls POSIX directly; everything goes through
// an Env so that tests can substitute FaultInjectionEnv (drop unsynced bytes,
// fail the Nth write or sync, run out of space). Paths are plain strings;
// relative paths resolve against the process's working directory.
//
// Thread-safety: Env methods are thread-safe. A WritableFile / RandomAccessFile
// object is used by one thread at a time unless its comment says otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ark {

// A file written front to back (WAL segments, new segment files, temp files).
// Data becomes durable only after Sync() returns OK. After any failed Sync()
// the file's durable content is unknown and the caller must treat the failure
// as sticky (PostgreSQL's fsyncgate lesson).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // fdatasync: file content (and size) durable; enough for WAL appends.
  virtual Status Sync() = 0;
  // fsync: content and all metadata durable.
  virtual Status Fsync() { return Sync(); }
  virtual Status Close() = 0;
  // Bytes appended so far (including the initial size when reopened for append).
  virtual uint64_t Size() const = 0;
  virtual const std::string& path() const = 0;
};

// Positional reads; safe for concurrent use by several threads.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into scratch; *result points at the bytes
  // read (maybe fewer than n at end of file).
  virtual Status Read(uint64_t offset, size_t n, std::string_view* result,
                      char* scratch) const = 0;
  virtual Result<uint64_t> Size() const = 0;
  virtual const std::string& path() const = 0;
};

// A read-only memory map of a whole file. Unmapped on destruction.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual std::string_view data() const = 0;
  virtual const std::string& path() const = 0;
};

// A pending sync of a whole filesystem (syncfs(2)), for making many files
// durable with one call instead of one fsync each (see Env::NewFilesystemSync).
class FilesystemSync {
 public:
  virtual ~FilesystemSync() = default;
  // Makes everything written to the filesystem durable: file contents,
  // metadata, creations and renames (for every file on it, not only this
  // process's). Reports write-back errors that occurred since this object
  // was created. May be called more than once.
  virtual Status Sync() = 0;
};

// An exclusive lock on a data directory (released on destruction or exit).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env. Never destroyed.
  static Env* Default();

  // Creates (truncating) a file for writing.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens an existing file for appending (creates it if missing).
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) = 0;
  // Maps `path` without reading it in: pages are read on first touch (and
  // may be dropped again under memory pressure). For files most of which a
  // caller may never read (an index opened lazily). Defaults to MapFile.
  virtual Result<std::unique_ptr<MappedFile>> MapFileLazily(const std::string& path) { return MapFile(path); }

  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  // Names (not paths) of the entries in `dir`, without "." and "..", sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Status CreateDir(const std::string& dir) = 0;      // OK if it exists
  virtual Status CreateDirs(const std::string& dir) = 0;     // mkdir -p
  virtual Status RemoveFile(const std::string& path) = 0;    // NotFound if missing
  virtual Status RemoveDir(const std::string& dir) = 0;      // must be empty
  virtual Status RemoveAll(const std::string& path) = 0;     // rm -rf; OK if missing
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // fsync of a directory: makes creations, renames and removals in it durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Creates `to` as a second name (hard link) of the file `from`, failing with
  // AlreadyExists if `to` exists: an atomic "create if absent". Envs that
  // cannot do this return NotSupported (the default).
  virtual Status LinkFile(const std::string& from, const std::string& to) {
    return Status::NotSupported("LinkFile " + from + " -> " + to);
  }
  // Last modification time of `path` (UTC, microseconds since the Unix
  // epoch). NotSupported by default.
  virtual Result<uint64_t> GetFileModificationTime(const std::string& path) {
    return Status::NotSupported("GetFileModificationTime " + path);
  }

  // Appends the whole content of the file `from` (read to its end) to `to`,
  // a file opened by this Env, and returns the number of bytes appended.
  // Syncs nothing. The default reads `from` through NewRandomAccessFile and
  // Append()s it in 1 MiB pieces (so wrappers such as FaultInjectionEnv see
  // every write); PosixEnv copies inside the kernel (copy_file_range) when
  // both are its own files, falling back to read/write where the kernel or
  // the filesystem cannot.
  virtual Result<uint64_t> AppendFileContents(const std::string& from, WritableFile* to);
  // A syncfs(2) handle for the filesystem holding `path`. Create it BEFORE
  // the writes it must cover, so that its Sync() sees their write-back
  // errors. Envs that cannot offer this (or whose kernel's syncfs does not
  // report errors) return NotSupported (the default): Fsync() each file.
  virtual Result<std::unique_ptr<FilesystemSync>> NewFilesystemSync(const std::string& path) {
    return Status::NotSupported("NewFilesystemSync " + path);
  }

  // Takes an exclusive lock on `path` (a lock file), or FailedPrecondition
  // naming the path if another process holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;

  // Monotonic clock for durations and deadlines.
  virtual uint64_t NowMicros() = 0;
  // Wall clock (UTC, microseconds since the Unix epoch) for timestamps.
  virtual uint64_t WallMicros() = 0;

  // Reads a whole file into *out.
  Status ReadFileToString(const std::string& path, std::string* out);
  // Writes `data` to `path` durably and atomically: write `path.tmp`, fsync,
  // rename over `path`, fsync the directory. Readers see the old or the new
  // content, never a mix.
  Status WriteFileAtomic(const std::string& path, std::string_view data);
};

// Path helpers (pure string functions).
std::string JoinPath(std::string_view a, std::string_view b);
std::string DirName(std::string_view path);
std::string BaseName(std::string_view path);

}  // namespace ark
