#include "dr/repository/repository_open.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "storage/object_store_url.h"

namespace ark::dr {

Result<EncryptionKey> KeyFromOptions(Env* env, const std::string& key_file, const std::string& passphrase_file) {
  EncryptionKey key;
  if (!key_file.empty() && !passphrase_file.empty()) {
    return Status::InvalidArgument("give either --key-file or --passphrase-file, not both");
  }
  if (!key_file.empty()) {
    key.key_file = key_file;
    return key;
  }
  if (!passphrase_file.empty()) {
    std::string content;
    if (!env->ReadFileToString(passphrase_file, &content).ok()) {
      return Status::InvalidArgument(fmt::format("cannot read the passphrase file {}", passphrase_file));
    }
    key.passphrase = content.substr(0, content.find('\n'));  // the first line
    std::fill(content.begin(), content.end(), '\0');
    if (!key.passphrase.empty() && key.passphrase.back() == '\r') key.passphrase.pop_back();
    if (key.passphrase.empty()) {
      return Status::InvalidArgument(fmt::format("the passphrase file {} is empty", passphrase_file));
    }
    return key;
  }
  if (const char* p = std::getenv("ARK_BACKUP_PASSPHRASE"); p != nullptr && *p != '\0') key.passphrase = p;
  return key;
}

Result<OpenedRepository> OpenRepositoryUrl(Env* env, const std::string& url, const EncryptionKey& key, bool create,
                                           const RepositoryInitOptions& init) {
  if (url.empty()) return Status::InvalidArgument("no repository given (--repo URL)");
  OpenedRepository out;
  ARK_ASSIGN_OR_RETURN(out.store, OpenObjectStore(url));
  auto repo = Repository::Open(env, out.store.get(), key);
  if (!repo.ok() && repo.status().IsNotFound() && create) {
    RepositoryInitOptions options = init;
    if (!key.empty()) options.encrypt = true;  // a key given for a new repository means: encrypt it
    Status s = Repository::Init(env, out.store.get(), options, key);
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;  // lost a race: open theirs
    repo = Repository::Open(env, out.store.get(), key);
  }
  if (!repo.ok()) return repo.status();
  out.repo = std::move(repo).value();
  return out;
}

}  // namespace ark::dr
