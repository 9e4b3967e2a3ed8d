// The POSIX Env: the one place in Ark that calls open/pwrite/fsync/rename.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "storage/env.h"

namespace ark {
namespace {

Status PosixError(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  switch (err) {
    case ENOENT: return Status::NotFound(msg);
    case EEXIST: return Status::AlreadyExists(msg);
    case EACCES:
    case EPERM: return Status::PermissionDenied(msg);
    case ENOSPC:
    case EDQUOT: return Status::ResourceExhausted(msg);
    default: return Status::IOError(msg);
  }
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("write " + path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return Status::OK();
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync " + path_, errno);
    return Status::OK();
  }
  Status Fsync() override {
    if (::fsync(fd_) != 0) return PosixError("fsync " + path_, errno);
    return Status::OK();
  }
  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return PosixError("close " + path_, errno);
    return Status::OK();
  }
  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

  // Appends everything from `src_fd` (from offset 0 to its end), inside the
  // kernel where it can (copy_file_range), else through a user buffer.
  Result<uint64_t> AppendFrom(int src_fd, const std::string& src_path) {
    off_t in = 0;
    bool kernel_copy = true;
    std::string buf;
    for (;;) {
      if (kernel_copy) {
        ssize_t n = ::copy_file_range(src_fd, &in, fd_, nullptr, size_t{1} << 30, 0);
        if (n > 0) {
          size_ += static_cast<uint64_t>(n);
          continue;
        }
        if (n == 0) break;
        int err = errno;
        if (err == EINTR) continue;
        // Not possible here (old kernel, other filesystem, O_APPEND target):
        // copy the rest through user space. Real I/O errors come back from
        // the plain read/write just as well.
        if (err == EXDEV || err == ENOSYS || err == EINVAL || err == EOPNOTSUPP || err == EBADF) {
          kernel_copy = false;
          continue;
        }
        return PosixError("copy " + src_path + " to " + path_ + " at offset " + std::to_string(in),
                          err);
      }
      if (buf.empty()) buf.resize(1 << 20);
      ssize_t r = ::pread(src_fd, buf.data(), buf.size(), in);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read " + src_path + " at offset " + std::to_string(in), errno);
      }
      if (r == 0) break;
      ARK_RETURN_IF_ERROR(Append(std::string_view(buf.data(), static_cast<size_t>(r))));
      in += r;
    }
    return static_cast<uint64_t>(in);
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixFilesystemSync final : public FilesystemSync {
 public:
  PosixFilesystemSync(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFilesystemSync() override { ::close(fd_); }
  Status Sync() override {
    if (::syncfs(fd_) != 0) return PosixError("syncfs " + path_, errno);
    return Status::OK();
  }

 private:
  std::string path_;
  int fd_;
};

// syncfs(2) reports write-back errors only since Linux 5.8.
bool SyncfsReportsErrors() {
  static const bool ok = [] {
    struct utsname u;
    int major = 0, minor = 0;
    if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 5 || (major == 5 && minor >= 8);
  }();
  return ok;
}

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, std::string_view* result,
              char* scratch) const override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read " + path_ + " at offset " + std::to_string(offset + got), errno);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, got);
    return Status::OK();
  }
  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return PosixError("stat " + path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
};

class PosixMappedFile final : public MappedFile {
 public:
  PosixMappedFile(std::string path, void* addr, size_t size)
      : path_(std::move(path)), addr_(addr), size_(size) {}
  ~PosixMappedFile() override {
    if (addr_ != nullptr) ::munmap(addr_, size_);
  }
  std::string_view data() const override {
    return std::string_view(static_cast<const char*>(addr_), size_);
  }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  void* addr_;
  size_t size_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("create " + path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, 0));
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open for append " + path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("stat " + path, err);
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) override { return Map(path, true); }
  Result<std::unique_ptr<MappedFile>> MapFileLazily(const std::string& path) override { return Map(path, false); }
  Result<std::unique_ptr<MappedFile>> Map(const std::string& path, bool populate) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("stat " + path, err);
    }
    size_t size = static_cast<size_t>(st.st_size);
    void* addr = nullptr;
    if (size > 0) {
      // MAP_POPULATE: map every page up front (one pass in the kernel)
      // instead of one page fault per 4 KiB as the caller reads it through.
      addr = ::mmap(nullptr, size, PROT_READ, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
      if (addr == MAP_FAILED) {
        int err = errno;
        ::close(fd);
        return PosixError("mmap " + path, err);
      }
    }
    ::close(fd);
    return std::unique_ptr<MappedFile>(new PosixMappedFile(path, addr, size));
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat " + path, errno);
    return static_cast<uint64_t>(st.st_size);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("list " + dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }
  Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return PosixError("mkdir " + dir, errno);
    return Status::OK();
  }
  Status CreateDirs(const std::string& dir) override {
    if (dir.empty() || FileExists(dir)) return Status::OK();
    std::string parent = DirName(dir);
    if (parent != dir) ARK_RETURN_IF_ERROR(CreateDirs(parent));
    return CreateDir(dir);
  }
  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("remove " + path, errno);
    return Status::OK();
  }
  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError("rmdir " + dir, errno);
    return Status::OK();
  }
  Status RemoveAll(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      return errno == ENOENT ? Status::OK() : PosixError("stat " + path, errno);
    }
    if (S_ISDIR(st.st_mode)) {
      ARK_ASSIGN_OR_RETURN(auto names, ListDir(path));
      for (const auto& n : names) ARK_RETURN_IF_ERROR(RemoveAll(JoinPath(path, n)));
      return RemoveDir(path);
    }
    return RemoveFile(path);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename " + from + " -> " + to, errno);
    }
    return Status::OK();
  }
  Status LinkFile(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) {
      return PosixError("link " + from + " -> " + to, errno);
    }
    return Status::OK();
  }
  Result<uint64_t> GetFileModificationTime(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat " + path, errno);
    return static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000u +
           static_cast<uint64_t>(st.st_mtim.tv_nsec) / 1000u;
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return PosixError("truncate " + path + " to " + std::to_string(size), errno);
    }
    return Status::OK();
  }
  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open dir " + dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError("fsync dir " + dir, err);
    return Status::OK();
  }
  Result<uint64_t> AppendFileContents(const std::string& from, WritableFile* to) override {
    auto* posix_to = dynamic_cast<PosixWritableFile*>(to);
    if (posix_to == nullptr) return Env::AppendFileContents(from, to);
    int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + from, errno);
    auto n = posix_to->AppendFrom(fd, from);
    ::close(fd);
    return n;
  }
  Result<std::unique_ptr<FilesystemSync>> NewFilesystemSync(const std::string& path) override {
    if (!SyncfsReportsErrors()) {
      return Status::NotSupported("syncfs does not report errors on this kernel (" + path + ")");
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    return std::unique_ptr<FilesystemSync>(new PosixFilesystemSync(path, fd));
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open lock file " + path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status::FailedPrecondition(
            "data directory is locked by another process (lock file " + path + ")");
      }
      return PosixError("lock " + path, err);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }
  uint64_t NowMicros() override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now().time_since_epoch()).count());
  }
  uint64_t WallMicros() override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count());
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv();  // intentionally leaked: lives for the process
  return env;
}

Status Env::ReadFileToString(const std::string& path, std::string* out) {
  ARK_ASSIGN_OR_RETURN(auto file, NewRandomAccessFile(path));
  ARK_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  out->resize(size);
  std::string_view got;
  ARK_RETURN_IF_ERROR(file->Read(0, size, &got, out->data()));
  out->resize(got.size());
  return Status::OK();
}

Result<uint64_t> Env::AppendFileContents(const std::string& from, WritableFile* to) {
  ARK_ASSIGN_OR_RETURN(auto file, NewRandomAccessFile(from));
  std::string buf(1 << 20, '\0');
  uint64_t offset = 0;
  for (;;) {
    std::string_view got;
    ARK_RETURN_IF_ERROR(file->Read(offset, buf.size(), &got, buf.data()));
    if (got.empty()) return offset;
    ARK_RETURN_IF_ERROR(to->Append(got));
    offset += got.size();
  }
}

Status Env::WriteFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  {
    ARK_ASSIGN_OR_RETURN(auto f, NewWritableFile(tmp));
    ARK_RETURN_IF_ERROR(f->Append(data));
    ARK_RETURN_IF_ERROR(f->Fsync());
    ARK_RETURN_IF_ERROR(f->Close());
  }
  ARK_RETURN_IF_ERROR(RenameFile(tmp, path));
  return SyncDir(DirName(path));
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  std::string s(a);
  if (s.back() != '/') s += '/';
  s += b;
  return s;
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace ark
