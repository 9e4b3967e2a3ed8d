#include "engine/content_file.h"

#include <fmt/format.h>

#include "core/hash.h"

namespace ark {

Result<std::string> WriteContentAddressedFile(Env* env, const std::string& dir,
                                              std::string_view content) {
  std::string name = ToHex(Sha256(content));
  std::string path = JoinPath(dir, name);
  if (env->FileExists(path)) return name;
  std::string tmp = path + ".tmp";
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
