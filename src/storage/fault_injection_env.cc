#include "storage/fault_injection_env.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ark {

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv* env, std::unique_ptr<WritableFile> base)
      : env_(env), base_(std::move(base)) {}
  Status Append(std::string_view data) override { return env_->FileAppend(base_.get(), data); }
  Status Sync() override { return env_->FileSync(base_.get(), false); }
  Status Fsync() override { return env_->FileSync(base_.get(), true); }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<WritableFile> base_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

Status FaultInjectionEnv::InjectedError(const std::string& what, int error_number) {
  std::string msg = what + ": " + std::strerror(error_number) + " (injected)";
  if (error_number == ENOSPC || error_number == EDQUOT) return Status::ResourceExhausted(msg);
  return Status::IOError(msg);
}

Status FaultInjectionEnv::CheckActive(const std::string& what) const {
  if (active_) return Status::OK();
  return Status::IOError(what + ": filesystem inactive (simulated crash)");
}

void FaultInjectionEnv::SetFilesystemActive(bool active) {
  std::lock_guard<std::mutex> l(mu_);
  active_ = active;
}

void FaultInjectionEnv::FailWrite(uint64_t nth, int error_number, WriteFault kind) {
  std::lock_guard<std::mutex> l(mu_);
  write_fault_at_ = nth == 0 ? 0 : writes_ + nth;
  write_errno_ = error_number;
  write_fault_kind_ = kind;
}

void FaultInjectionEnv::FailSync(uint64_t nth, int error_number) {
  std::lock_guard<std::mutex> l(mu_);
  sync_fault_at_ = nth == 0 ? 0 : syncs_ + nth;
  sync_errno_ = error_number;
}

void FaultInjectionEnv::FailTruncate(uint64_t nth, int error_number) {
  std::lock_guard<std::mutex> l(mu_);
  truncate_fault_at_ = nth == 0 ? 0 : truncates_ + nth;
  truncate_errno_ = error_number;
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard<std::mutex> l(mu_);
  write_fault_at_ = sync_fault_at_ = truncate_fault_at_ = 0;
}

void FaultInjectionEnv::SetForwardSyncs(bool forward) {
  std::lock_guard<std::mutex> l(mu_);
  forward_syncs_ = forward;
}

uint64_t FaultInjectionEnv::write_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return writes_;
}

uint64_t FaultInjectionEnv::sync_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return syncs_;
}

uint64_t FaultInjectionEnv::DurableSize(const std::string& path) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return UINT64_MAX;
  if (it->second.dir_entry_unsynced) return 0;
  return it->second.synced;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("create " + path));
  bool existed = base_->FileExists(path);
  ARK_ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(path));
  auto it = files_.find(path);
  bool was_new = it != files_.end() && it->second.dir_entry_unsynced;
  FileState st;
  st.dir_entry_unsynced = !existed || was_new;
  files_[path] = st;
  return std::unique_ptr<WritableFile>(new File(this, std::move(f)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("open for append " + path));
  bool existed = base_->FileExists(path);
  ARK_ASSIGN_OR_RETURN(auto f, base_->NewAppendableFile(path));
  auto it = files_.find(path);
  if (it == files_.end()) {
    FileState st;
    st.size = st.synced = f->Size();
    st.dir_entry_unsynced = !existed;
    files_[path] = st;
  } else {
    it->second.size = f->Size();
  }
  return std::unique_ptr<WritableFile>(new File(this, std::move(f)));
}

Status FaultInjectionEnv::FileAppend(WritableFile* base, std::string_view data) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("write " + base->path()));
  ++writes_;
  FileState& st = files_[base->path()];
  if (write_fault_at_ != 0 && writes_ == write_fault_at_) {
    write_fault_at_ = 0;
    std::string what = "write " + base->path();
    size_t half = data.size() / 2;
    switch (write_fault_kind_) {
      case WriteFault::kError:
        return InjectedError(what, write_errno_);
      case WriteFault::kShortWrite: {
        ARK_RETURN_IF_ERROR(base->Append(data.substr(0, half)));
        st.size = base->Size();
        return InjectedError(what + " (short write: " + std::to_string(half) + " of " +
                                 std::to_string(data.size()) + " bytes)",
                             write_errno_);
      }
      case WriteFault::kTornWrite: {
        uint64_t limit = base->Size() + half;
        ARK_RETURN_IF_ERROR(base->Append(data));
        st.size = base->Size();
        st.torn_limit = std::min(st.torn_limit, limit);
        return Status::OK();
      }
    }
  }
  ARK_RETURN_IF_ERROR(base->Append(data));
  st.size = base->Size();
  return Status::OK();
}

Status FaultInjectionEnv::FileSync(WritableFile* base, bool full) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive((full ? "fsync " : "fdatasync ") + base->path()));
  ++syncs_;
  if (sync_fault_at_ != 0 && syncs_ == sync_fault_at_) {
    sync_fault_at_ = 0;
    return InjectedError((full ? "fsync " : "fdatasync ") + base->path(), sync_errno_);
  }
  if (forward_syncs_) ARK_RETURN_IF_ERROR(full ? base->Fsync() : base->Sync());
  FileState& st = files_[base->path()];
  // Capped by the file's real size: a TruncateFile by path (a WAL cutting
  // off a failed write) does not update the open handle's byte count.
  auto real = base_->GetFileSize(base->path());
  st.size = real.ok() ? std::min(base->Size(), *real) : base->Size();
  st.synced = std::min(st.size, st.torn_limit);
  return Status::OK();
}

Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("mkdir " + dir));
  return base_->CreateDir(dir);
}

Status FaultInjectionEnv::CreateDirs(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("mkdir -p " + dir));
  return base_->CreateDirs(dir);
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("remove " + path));
  ARK_RETURN_IF_ERROR(base_->RemoveFile(path));
  files_.erase(path);
  return Status::OK();
}

Status FaultInjectionEnv::RemoveDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("rmdir " + dir));
  return base_->RemoveDir(dir);
}

Status FaultInjectionEnv::RemoveAll(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("rm -rf " + path));
  ARK_RETURN_IF_ERROR(base_->RemoveAll(path));
  std::string prefix = path + "/";
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->first == path || it->first.compare(0, prefix.size(), prefix) == 0) {
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::OK();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("rename " + from + " -> " + to));
  PendingRename r;
  r.from = from;
  r.to = to;
  r.replaced = base_->FileExists(to);
  if (r.replaced) {
    ARK_RETURN_IF_ERROR(base_->ReadFileToString(to, &r.replaced_content));
    auto it = files_.find(to);
    r.replaced_tracked = it != files_.end();
    if (r.replaced_tracked) r.replaced_state = it->second;
  }
  ARK_RETURN_IF_ERROR(base_->RenameFile(from, to));
  auto it = files_.find(from);
  FileState st;
  if (it != files_.end()) {
    st = it->second;
    files_.erase(it);
  } else {
    ARK_ASSIGN_OR_RETURN(st.size, base_->GetFileSize(to));
    st.synced = st.size;
  }
  files_[to] = st;
  renames_.push_back(std::move(r));
  return Status::OK();
}

Status FaultInjectionEnv::LinkFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("link " + from + " -> " + to));
  ARK_RETURN_IF_ERROR(base_->LinkFile(from, to));
  FileState st;
  ARK_ASSIGN_OR_RETURN(st.size, base_->GetFileSize(to));
  auto it = files_.find(from);
  st.synced = it == files_.end() ? st.size : it->second.synced;
  st.dir_entry_unsynced = true;
  files_[to] = st;
  return Status::OK();
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("truncate " + path));
  ++truncates_;
  if (truncate_fault_at_ != 0 && truncates_ == truncate_fault_at_) {
    truncate_fault_at_ = 0;
    return InjectedError("truncate " + path, truncate_errno_);
  }
  ARK_RETURN_IF_ERROR(base_->TruncateFile(path, size));
  auto it = files_.find(path);
  if (it != files_.end()) {
    it->second.size = std::min(it->second.size, size);
    it->second.synced = std::min(it->second.synced, size);
    if (it->second.torn_limit >= size) it->second.torn_limit = UINT64_MAX;  // torn bytes cut off
  }
  return Status::OK();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckActive("fsync dir " + dir));
  if (forward_syncs_) ARK_RETURN_IF_ERROR(base_->SyncDir(dir));
  for (auto& [path, st] : files_) {
    if (DirName(path) == dir) st.dir_entry_unsynced = false;
  }
  std::erase_if(renames_, [&](const PendingRename& r) {
    return DirName(r.to) == dir && DirName(r.from) == dir;
  });
  return Status::OK();
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(mu_);
  return Drop(nullptr);
}

Status FaultInjectionEnv::DropUnsyncedDataRandomly(uint64_t seed) {
  std::lock_guard<std::mutex> l(mu_);
  return Drop(&seed);
}

Status FaultInjectionEnv::Drop(uint64_t* seed) {
  // splitmix64: deterministic for a given seed, no <random> state to carry.
  auto next = [seed]() {
    uint64_t z = (*seed += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  // Undo renames newest first, so chains of renames unwind correctly.
  for (auto it = renames_.rbegin(); it != renames_.rend(); ++it) {
    ARK_RETURN_IF_ERROR(base_->RenameFile(it->to, it->from));
    auto st = files_.find(it->to);
    if (st != files_.end()) {
      files_[it->from] = st->second;
      files_.erase(it->to);
    }
    if (it->replaced) {
      ARK_ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(it->to));
      ARK_RETURN_IF_ERROR(f->Append(it->replaced_content));
      ARK_RETURN_IF_ERROR(f->Close());
      if (it->replaced_tracked) files_[it->to] = it->replaced_state;
    }
  }
  renames_.clear();
  for (auto it = files_.begin(); it != files_.end();) {
    FileState& st = it->second;
    if (st.dir_entry_unsynced) {
      Status s = base_->RemoveFile(it->first);
      if (!s.ok() && !s.IsNotFound()) return s;
      it = files_.erase(it);
      continue;
    }
    if (base_->FileExists(it->first)) {
      ARK_ASSIGN_OR_RETURN(uint64_t size, base_->GetFileSize(it->first));
      uint64_t keep = st.synced;
      if (seed != nullptr && size > st.synced) keep += next() % (size - st.synced + 1);
      if (size > keep) ARK_RETURN_IF_ERROR(base_->TruncateFile(it->first, keep));
      if (seed != nullptr && keep > st.synced && next() % 4 == 0) {
        std::string content;
        ARK_RETURN_IF_ERROR(base_->ReadFileToString(it->first, &content));
        std::fill(content.begin() + static_cast<ptrdiff_t>(st.synced), content.end(), '\0');
        ARK_ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(it->first));
        ARK_RETURN_IF_ERROR(f->Append(content));
        ARK_RETURN_IF_ERROR(f->Close());
      }
      st.synced = keep;
    }
    st.size = st.synced;
    st.torn_limit = UINT64_MAX;
    ++it;
  }
  return Status::OK();
}

}  // namespace ark
