#include "engine/content_file.h"

#include <fmt/format.h>

#include <atomic>

#include "core/hash.h"

namespace ark {

Result<std::string> WriteContentAddressedFile(Env* env, const std::string& dir,
                                              std::string_view content) {
  std::string name = ToHex(Sha256(content));
  std::string path = JoinPath(dir, name);
  if (env->FileExists(path)) return name;
  // A temp name unique in the process: two writers of the same content (an
  // index build and a compaction can produce identical bytes) must not
  // truncate each other's file; the rename is atomic and either wins.
  static std::atomic<uint64_t> counter{0};
  std::string tmp = fmt::format("{}.{}.tmp", path, counter.fetch_add(1));
  {
    ARK_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(tmp));
    ARK_RETURN_IF_ERROR(f->Append(content));
    ARK_RETURN_IF_ERROR(f->Fsync());
    ARK_RETURN_IF_ERROR(f->Close());
  }
  ARK_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  ARK_RETURN_IF_ERROR(env->SyncDir(dir));
  return name;
}

Status VerifyContentAddressedFile(Env* env, const std::string& path) {
  std::string data;
  ARK_RETURN_IF_ERROR(env->ReadFileToString(path, &data));
  std::string actual = ToHex(Sha256(data));
  std::string expected = BaseName(path);
  if (actual != expected) {
    return Status::Corruption(
        fmt::format("{}: content hash mismatch: name says {}, content hashes to {}", path,
                    expected, actual));
  }
  return Status::OK();
}

}  // namespace ark
