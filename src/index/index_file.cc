#include "index/index_file.h"

#include "core/hash.h"

namespace ark {

std::string IndexFileName(std::string_view bytes) { return ToHex(Sha256(bytes)) + ".idx"; }

Status WriteIndexFile(Env* env, const std::string& path, std::string_view bytes) {
  return env->WriteFileAtomic(path, bytes).WithContext("writing index file " + path);
}

Result<std::unique_ptr<VectorIndex>> ReadIndexFile(Env* env, const std::string& path) {
  std::string bytes;
  ARK_RETURN_IF_ERROR(env->ReadFileToString(path, &bytes));
  return VectorIndex::Load(bytes, path);
}

}  // namespace ark
