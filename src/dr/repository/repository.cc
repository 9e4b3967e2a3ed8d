#include "dr/repository/repository.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/hash.h"
#include "dr/repository/blob_codec.h"
#include "dr/repository/blob_format.h"
#include "dr/repository/repository_crypto.h"
#include "dr/repository/repository_descriptor.h"
#include "storage/env.h"

namespace ark::dr {
namespace {

constexpr const char* kDescriptorKey = "ark-repo.json";
constexpr const char* kBlobPrefix = "blobs/";
constexpr const char* kLockPrefix = "locks/";
constexpr size_t kFileReadSize = 1 << 20;

// [A-Za-z0-9._-]{1,128}, not starting with '.' or '-'.
Status ValidateName(std::string_view what, std::string_view name) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(std::string(what) + " \"" + std::string(name.substr(0, 200)) +
                                   "\": " + why);
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 128) return bad("longer than 128 characters");
  if (name.front() == '.' || name.front() == '-') return bad("starts with '.' or '-'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return bad("only letters, digits, '.', '_' and '-' are allowed");
  }
  return Status::OK();
}

// The master key of `key` for descriptor `d` (already validated).
Result<RepositoryKeys> DeriveKeys(Env* env, const RepositoryDescriptor& d, const EncryptionKey& key) {
  std::string salt = *LowerHexToBytes(d.salt_hex);
  SecretKey master;
  if (d.key_derivation == "key-file") {
    ARK_ASSIGN_OR_RETURN(master, ReadKeyFile(env, key.key_file));
  } else {
    ARK_ASSIGN_OR_RETURN(master, ScryptKey(key.passphrase, salt, d.scrypt_n, d.scrypt_r, d.scrypt_p));
  }
  return DeriveRepositoryKeys(master, salt);
}

Status CheckCancelled(const TransferControl& control, const std::string& what) {
  if (control.cancelled && control.cancelled->load()) {
    return Status::Cancelled(what + ": cancelled");
  }
  return Status::OK();
}

// Reads plaintext (a file or memory) for the encoder.
class PlainSource {
 public:
  virtual ~PlainSource() = default;
  // Up to n bytes; 0 at the end.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  virtual std::string Name() const = 0;
};

class FileSource final : public PlainSource {
 public:
  explicit FileSource(std::unique_ptr<RandomAccessFile> file) : file_(std::move(file)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    std::string_view got;
    ARK_RETURN_IF_ERROR(file_->Read(offset_, n, &got, buf));
    if (got.data() != buf && !got.empty()) std::memmove(buf, got.data(), got.size());
    offset_ += got.size();
    return got.size();
  }
  std::string Name() const override { return file_->path(); }

 private:
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t offset_ = 0;
};

class MemorySource final : public PlainSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  Result<size_t> Read(char* buf, size_t n) override {
    n = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::string Name() const override { return std::to_string(data_.size()) + " bytes in memory"; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// The object bytes of a blob, produced chunk by chunk while the store reads
// them: memory stays at about two chunks. The plaintext's SHA-256 is checked
// before the last chunk is handed out, so a mismatch fails the stream and
// the store publishes nothing.
class EncodingReader final : public ObjectReader {
 public:
  EncodingReader(BlobEncoder* encoder, PlainSource* source, uint64_t size,
                 const Sha256Digest& content, const TransferControl& control, std::string what)
      : encoder_(encoder), source_(source), total_(size), content_(content), control_(control),
        what_(std::move(what)), out_(encoder->header()) {}

  Result<size_t> Read(char* buf, size_t n) override {
    while (pos_ == out_.size()) {
      if (encoder_->done()) return 0;
      out_.clear();
      pos_ = 0;
      ARK_RETURN_IF_ERROR(NextChunk());
    }
    n = std::min(n, out_.size() - pos_);
    std::memcpy(buf, out_.data() + pos_, n);
    pos_ += n;
    written_ += n;
    return n;
  }
  uint64_t written() const { return written_; }

 private:
  Status NextChunk() {
    ARK_RETURN_IF_ERROR(CheckCancelled(control_, what_));
    const size_t want = encoder_->NextChunkSize();
    plain_.resize(std::max<size_t>(want, 1));
    size_t have = 0;
    while (have < want) {
      ARK_ASSIGN_OR_RETURN(size_t got, source_->Read(plain_.data() + have,
                                                     std::min(want - have, kFileReadSize)));
      if (got == 0) return Changed("it ended early");
      have += got;
    }
    hasher_.Update(plain_.data(), want);
    std::string_view plain(plain_.data(), want);
    if (bytes_ + want == total_) {
      char extra;
      ARK_ASSIGN_OR_RETURN(size_t more, source_->Read(&extra, 1));
      if (more != 0) return Changed("it grew");
      Sha256Digest got = hasher_.Finish();
      if (got != content_) {
        return Status::Corruption(what_ + ": " + source_->Name() + " has SHA-256 " + ToHex(got) +
                                  ", not the content hash");
      }
    }
    ARK_RETURN_IF_ERROR(encoder_->EncodeChunk(plain, &out_));
    bytes_ += want;
    if (control_.on_bytes && want > 0) control_.on_bytes(want);
    return Status::OK();
  }
  Status Changed(const std::string& how) const {
    return Status::Corruption(what_ + ": " + source_->Name() + " changed while being read (" +
                              how + ")");
  }

 private:
  BlobEncoder* encoder_;
  PlainSource* source_;
  const uint64_t total_;  // plaintext size
  const Sha256Digest content_;
  const TransferControl& control_;
  const std::string what_;
  Sha256Hasher hasher_;
  std::string out_;
  size_t pos_ = 0;
  std::string plain_;
  uint64_t bytes_ = 0;
  uint64_t written_ = 0;
};

class DecodingWriter final : public ObjectWriter {
 public:
  explicit DecodingWriter(BlobDecoder* decoder) : decoder_(decoder) {}
  Status Write(std::string_view data) override { return decoder_->Feed(data); }

 private:
  BlobDecoder* decoder_;
};

}  // namespace

Status ValidateBackupName(std::string_view name) { return ValidateName("backup name", name); }

struct Repository::Impl {
  Env* env = nullptr;
  ObjectStore* store = nullptr;
  RepositoryDescriptor descriptor;
  std::optional<RepositoryKeys> keys;  // set iff encrypted

  std::string BlobIdOf(const Sha256Digest& digest) const {
    if (!keys) return ToHex(digest);
    std::string mac =
        HmacSha256(keys->name, std::string_view(reinterpret_cast<const char*>(digest.data()),
                                                digest.size()));
    return ToHex(mac.data(), mac.size());
  }

  const SecretKey* data_key() const { return keys ? &keys->data : nullptr; }
  int zstd_level() const { return descriptor.compression == "zstd" ? descriptor.zstd_level : 0; }
  std::string What(const std::string& id, const std::string& hash) const {
    return store->Describe() + ": blob " + id + " (content " + hash + ")";
  }
  Result<BlobStat> Put(const std::string& content_hash, uint64_t size, PlainSource* source,
                       const TransferControl& control);
  // Streams the blob through the checks into `sink`; returns its size.
  Result<uint64_t> Fetch(const std::string& content_hash, const TransferControl& control,
                         const std::function<Status(std::string_view)>& sink);
  Result<std::string> EncodeDocument(const std::string& key, const nlohmann::json& doc) const;
  Result<nlohmann::json> DecodeDocument(const std::string& key, const std::string& bytes) const;
};

Repository::Repository(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Repository::~Repository() = default;

ObjectStore* Repository::store() const { return impl_->store; }
Env* Repository::env() const { return impl_->env; }
const RepositoryDescriptor& Repository::descriptor() const { return impl_->descriptor; }
bool Repository::encrypted() const { return impl_->keys.has_value(); }

Status Repository::Init(Env* env, ObjectStore* store, const RepositoryInitOptions& options,
                        const EncryptionKey& key) {
  const std::string where = store->Describe() + ": init repository: ";
  if (options.compression != "zstd" && options.compression != "none") {
    return Status::InvalidArgument(where + "compression \"" + options.compression +
                                   "\" is not \"zstd\" or \"none\"");
  }
  if (options.zstd_level < 1 || options.zstd_level > 19) {
    return Status::InvalidArgument(where + "zstd level " + std::to_string(options.zstd_level) +
                                   " not in 1..19");
  }
  if (options.chunk_size < kMinChunkSize || options.chunk_size > kMaxChunkSize) {
    return Status::InvalidArgument(where + "chunk size " + std::to_string(options.chunk_size) +
                                   " not in 64 KiB..64 MiB");
  }
  if (!key.key_file.empty() && !key.passphrase.empty()) {
    return Status::InvalidArgument(where + "give a key file or a passphrase, not both");
  }
  if (options.encrypt && key.empty()) {
    return Status::InvalidArgument(where + "encryption needs a key: --key-file, or a passphrase "
                                   "(--passphrase, --passphrase-file or ARK_BACKUP_PASSPHRASE)");
  }
  if (!options.encrypt && !key.empty()) {
    return Status::InvalidArgument(where + "a key was given but encryption is off");
  }
  RepositoryDescriptor d;
  d.format_version = kRepositoryFormatVersion;
  ARK_ASSIGN_OR_RETURN(std::string id, RandomBytes(16));
  d.repository_id = ToHex(id.data(), id.size());
  d.created_micros = env->WallMicros();
  d.compression = options.compression;
  d.zstd_level = options.zstd_level;
  d.chunk_size = options.chunk_size;
  d.encryption = options.encrypt ? "aes-256-gcm" : "none";
  if (options.encrypt) {
    if (key.key_file.empty()) {
      ARK_RETURN_IF_ERROR(
          CheckScryptCost(options.scrypt_n, options.scrypt_r, options.scrypt_p, where));
      d.key_derivation = "scrypt";
      d.scrypt_n = options.scrypt_n;
      d.scrypt_r = options.scrypt_r;
      d.scrypt_p = options.scrypt_p;
    } else {
      d.key_derivation = "key-file";
    }
    ARK_ASSIGN_OR_RETURN(std::string salt, RandomBytes(kSaltSize));
    d.salt_hex = ToHex(salt.data(), salt.size());
    ARK_ASSIGN_OR_RETURN(RepositoryKeys keys, DeriveKeys(env, d, key));
    std::string check = HmacSha256(keys.check, d.repository_id);
    d.key_check_hex = ToHex(check.data(), check.size());
  }
  std::string text = DescriptorToJson(d).dump(2) + "\n";
  auto exists = [&] {
    return Status::AlreadyExists(store->Describe() + " already holds a repository (" +
                                 kDescriptorKey + ")");
  };
  PutOptions put;
  put.if_absent = store->SupportsPutIfAbsent();
  if (!put.if_absent) {
    // Not atomic: two concurrent inits may both pass this check; the last
    // descriptor written wins and nothing else exists yet.
    auto head = store->Head(kDescriptorKey);
    if (head.ok()) return exists();
    if (!head.status().IsNotFound()) return head.status();
  }
  Status s = store->Put(kDescriptorKey, text, put);
  if (s.Is(StatusCode::kAlreadyExists)) return exists();
  return s;
}

Result<std::unique_ptr<Repository>> Repository::Open(Env* env, ObjectStore* store, const EncryptionKey& key) {
  const std::string where = store->Describe() + "/" + kDescriptorKey;
  auto text = store->Get(kDescriptorKey);
  if (!text.ok()) {
    if (text.status().IsNotFound()) {
      return Status::NotFound("no repository at " + store->Describe() + " (no " +
                              kDescriptorKey + ")");
    }
    return text.status();
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption(where + ": not valid JSON");
  ARK_ASSIGN_OR_RETURN(RepositoryDescriptor d, ParseDescriptor(where, j));
  if (!key.key_file.empty() && !key.passphrase.empty()) {
    return Status::InvalidArgument("give a key file or a passphrase for " + store->Describe() +
                                   ", not both");
  }
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->store = store;
  if (d.encryption == "none") {
    if (!key.empty()) {
      return Status::InvalidArgument("the repository at " + store->Describe() +
                                     " is not encrypted; give no key");
    }
  } else {
    if (key.empty()) {
      return Status::InvalidArgument(
          "the repository at " + store->Describe() +
          " is encrypted: supply its key with --key-file, or its passphrase with --passphrase, "
          "--passphrase-file or ARK_BACKUP_PASSPHRASE");
    }
    if (d.key_derivation == "key-file" && key.key_file.empty()) {
      return Status::InvalidArgument("the repository at " + store->Describe() +
                                     " is encrypted with a key file: use --key-file, not a passphrase");
    }
    if (d.key_derivation == "scrypt" && key.passphrase.empty()) {
      return Status::InvalidArgument("the repository at " + store->Describe() +
                                     " is encrypted with a passphrase, not a key file");
    }
    ARK_ASSIGN_OR_RETURN(RepositoryKeys keys, DeriveKeys(env, d, key));
    std::string check = HmacSha256(keys.check, d.repository_id);
    if (!ConstantTimeEquals(ToHex(check.data(), check.size()), d.key_check_hex)) {
      return Status::PermissionDenied("wrong encryption key for " + store->Describe());
    }
    impl->keys = std::move(keys);
  }
  impl->descriptor = std::move(d);
  return std::unique_ptr<Repository>(new Repository(std::move(impl)));
}

std::string Repository::BlobId(const std::string& content_hash) const {
  if (!impl_->keys) return content_hash;
  // Callers pass a valid hash; an invalid one maps to an id no blob has.
  auto digest = Sha256FromHex(content_hash);
  if (!digest.ok()) return std::string(64, 'x');
  return impl_->BlobIdOf(*digest);
}

std::string Repository::BlobKey(const std::string& blob_id) {
  return kBlobPrefix + blob_id.substr(0, 2) + "/" + blob_id;
}

Result<std::map<std::string, Repository::StoredBlob>> Repository::ListBlobs() {
  ARK_ASSIGN_OR_RETURN(auto objects, impl_->store->ListAll(kBlobPrefix));
  std::map<std::string, StoredBlob> blobs;
  for (const auto& o : objects) {
    // Only keys of the exact shape blobs/ab/<64 hex starting ab>: anything
    // else is not ours, and prune must never delete it.
    std::string_view key = o.key;
    if (key.size() != 6 + 3 + 64) continue;
    std::string id(key.substr(9));
    if (!IsSha256Hex(id) || BlobKey(id) != key) continue;
    blobs[id] = StoredBlob{o.size, o.mtime_micros};
  }
  return blobs;
}

Result<BlobStat> Repository::Impl::Put(const std::string& content_hash, uint64_t size,
                                       PlainSource* source, const TransferControl& control) {
  ARK_ASSIGN_OR_RETURN(Sha256Digest digest, Sha256FromHex(content_hash));
  BlobStat stat;
  stat.content_hash = content_hash;
  stat.blob_id = BlobIdOf(digest);
  stat.size = size;
  const std::string key = BlobKey(stat.blob_id);
  const std::string what = What(stat.blob_id, content_hash);
  auto existing = store->Head(key);
  if (existing.ok()) {
    stat.existed = true;
    stat.stored_size = existing->size;
    return stat;
  }
  if (!existing.status().IsNotFound()) return existing.status();
  ARK_RETURN_IF_ERROR(CheckCancelled(control, what));
  ARK_ASSIGN_OR_RETURN(auto encoder, BlobEncoder::Create(data_key(), digest, descriptor.chunk_size,
                                                         size, zstd_level()));
  EncodingReader reader(encoder.get(), source, size, digest, control, what);
  PutOptions options;
  // Two uploads of one blob (parallel backups) race harmlessly: either copy
  // is valid. Where the store can, the loser just learns it existed.
  options.if_absent = store->SupportsPutIfAbsent();
  Status s = store->PutStream(key, &reader, options);
  if (s.Is(StatusCode::kAlreadyExists)) {
    ARK_ASSIGN_OR_RETURN(ObjectInfo info, store->Head(key));
    stat.existed = true;
    stat.stored_size = info.size;
    return stat;
  }
  ARK_RETURN_IF_ERROR(s);
  stat.stored_size = reader.written();
  return stat;
}

Result<BlobStat> Repository::PutBlobFromFile(const std::string& content_hash,
                                             const std::string& local_path,
                                             const TransferControl& control) {
  if (!IsSha256Hex(content_hash)) {
    return Status::InvalidArgument("content hash \"" + content_hash + "\" is not 64 hex characters");
  }
  Env* env = impl_->env;
  // Opened lazily would be nicer, but the file must exist either way; it is
  // only read if the blob is missing.
  ARK_ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(local_path));
  return PutBlobFromReader(content_hash, std::move(file), control);
}

Result<BlobStat> Repository::PutBlobFromReader(const std::string& content_hash,
                                               std::unique_ptr<RandomAccessFile> file,
                                               const TransferControl& control) {
  if (!IsSha256Hex(content_hash)) {
    return Status::InvalidArgument("content hash \"" + content_hash + "\" is not 64 hex characters");
  }
  ARK_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  FileSource source(std::move(file));
  return impl_->Put(content_hash, size, &source, control);
}

Result<BlobStat> Repository::PutBlob(const std::string& content_hash, std::string_view content,
                                     const TransferControl& control) {
  if (!IsSha256Hex(content_hash)) {
    return Status::InvalidArgument("content hash \"" + content_hash + "\" is not 64 hex characters");
  }
  MemorySource source(content);
  return impl_->Put(content_hash, content.size(), &source, control);
}

Result<uint64_t> Repository::Impl::Fetch(const std::string& content_hash,
                                         const TransferControl& control,
                                         const std::function<Status(std::string_view)>& sink) {
  auto digest = Sha256FromHex(content_hash);
  if (!digest.ok() || !IsSha256Hex(content_hash)) {
    return Status::InvalidArgument("content hash \"" + content_hash + "\" is not 64 hex characters");
  }
  const std::string id = BlobIdOf(*digest);
  const std::string what = What(id, content_hash);
  ARK_RETURN_IF_ERROR(CheckCancelled(control, what));
  BlobDecoder decoder(data_key(), *digest, what, [&](std::string_view plain) -> Status {
    ARK_RETURN_IF_ERROR(CheckCancelled(control, what));
    ARK_RETURN_IF_ERROR(sink(plain));
    if (control.on_bytes && !plain.empty()) control.on_bytes(plain.size());
    return Status::OK();
  });
  DecodingWriter writer(&decoder);
  Status s = store->GetStream(BlobKey(id), &writer);
  if (s.IsNotFound()) return Status::NotFound(what + ": no such blob");
  ARK_RETURN_IF_ERROR(s);
  ARK_RETURN_IF_ERROR(decoder.Finish());
  return decoder.size();
}

Status Repository::GetBlobToFile(const std::string& content_hash, const std::string& local_path,
                                 const TransferControl& control) {
  Env* env = impl_->env;
  const std::string tmp = DownloadTempPath(local_path);
  Status s = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp));
    auto size = impl_->Fetch(content_hash, control,
                             [&](std::string_view plain) { return file->Append(plain); });
    if (!size.ok()) {
      (void)file->Close();
      return size.status();
    }
    ARK_RETURN_IF_ERROR(file->Fsync());
    ARK_RETURN_IF_ERROR(file->Close());
    ARK_RETURN_IF_ERROR(env->RenameFile(tmp, local_path));
    return env->SyncDir(DirName(local_path));
  }();
  if (!s.ok()) (void)env->RemoveFile(tmp);  // NotFound once renamed: fine
  return s;
}

Result<std::string> Repository::GetBlob(const std::string& content_hash,
                                        const TransferControl& control) {
  std::string out;
  ARK_RETURN_IF_ERROR(impl_->Fetch(content_hash, control, [&](std::string_view plain) {
                             out.append(plain);
                             return Status::OK();
                           }).status());
  return out;
}

Status Repository::VerifyBlob(const std::string& content_hash, uint64_t size,
                              uint64_t stored_size, bool quick, const TransferControl& control) {
  if (!IsSha256Hex(content_hash)) {
    return Status::InvalidArgument("content hash \"" + content_hash + "\" is not 64 hex characters");
  }
  const std::string id = BlobId(content_hash);
  const std::string what = impl_->What(id, content_hash);
  if (quick) {
    auto info = impl_->store->Head(BlobKey(id));
    if (info.status().IsNotFound()) return Status::NotFound(what + ": no such blob");
    ARK_RETURN_IF_ERROR(info.status());
    if (info->size != stored_size) {
      return Status::Corruption(what + ": stored size " + std::to_string(info->size) +
                                ", expected " + std::to_string(stored_size));
    }
    return Status::OK();
  }
  ARK_ASSIGN_OR_RETURN(uint64_t got, impl_->Fetch(content_hash, control, [](std::string_view) {
                         return Status::OK();
                       }));
  if (got != size) {
    return Status::Corruption(what + ": holds " + std::to_string(got) + " bytes, expected " +
                              std::to_string(size));
  }
  return Status::OK();
}

Status Repository::DeleteBlobs(const std::vector<std::string>& blob_ids) {
  std::vector<std::string> keys;
  keys.reserve(blob_ids.size());
  for (const auto& id : blob_ids) {
    if (!IsSha256Hex(id)) {
      return Status::InvalidArgument("blob id \"" + id + "\" is not 64 hex characters");
    }
    keys.push_back(BlobKey(id));
  }
  if (keys.empty()) return Status::OK();
  return impl_->store->DeleteMany(keys);
}

// ---- documents ---------------------------------------------------------------

Result<std::string> Repository::Impl::EncodeDocument(const std::string& key,
                                                     const nlohmann::json& doc) const {
  std::string text = doc.dump(2) + "\n";
  if (!keys) return text;
  ARK_ASSIGN_OR_RETURN(std::string nonce, RandomBytes(kNonceSize));
  std::string out(kDocumentMagic);
  out.append(nonce);
  // AAD = the object key: a document cannot be moved to another name (an
  // old manifest replayed as a new backup) without failing authentication.
  ARK_RETURN_IF_ERROR(AesGcmSeal(keys->document, reinterpret_cast<const uint8_t*>(nonce.data()),
                                 key, text, &out));
  OPENSSL_cleanse(text.data(), text.size());
  return out;
}

Result<nlohmann::json> Repository::Impl::DecodeDocument(const std::string& key,
                                                        const std::string& bytes) const {
  const std::string what = store->Describe() + ": document " + key;
  std::string plain;
  std::string_view text = bytes;
  if (keys) {
    const size_t overhead = kDocumentMagic.size() + kNonceSize + kTagSize;
    if (bytes.size() < overhead || std::string_view(bytes).substr(0, kDocumentMagic.size()) != kDocumentMagic) {
      return Status::Corruption(what + ": not an encrypted document (bad magic or too short)");
    }
    const char* nonce = bytes.data() + kDocumentMagic.size();
    std::string_view ciphertext(nonce + kNonceSize, bytes.size() - overhead);
    if (!AesGcmOpen(keys->document, reinterpret_cast<const uint8_t*>(nonce), key, ciphertext,
                    reinterpret_cast<const uint8_t*>(bytes.data() + bytes.size() - kTagSize),
                    &plain)) {
      return Status::Corruption(what + ": authentication failed (damaged, or not this document)");
    }
    text = plain;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption(what + ": not valid JSON");
  return j;
}

Status Repository::PutDocument(const std::string& key, const nlohmann::json& doc, bool if_absent) {
  ARK_RETURN_IF_ERROR(ValidateObjectKey(key));
  ARK_ASSIGN_OR_RETURN(std::string bytes, impl_->EncodeDocument(key, doc));
  PutOptions options;
  if (if_absent) {
    if (impl_->store->SupportsPutIfAbsent()) {
      options.if_absent = true;
    } else {
      auto head = impl_->store->Head(key);
      if (head.ok()) {
        return Status::AlreadyExists(impl_->store->Describe() + ": document " + key +
                                     " already exists");
      }
      if (!head.status().IsNotFound()) return head.status();
    }
  }
  return impl_->store->Put(key, bytes, options);
}

Result<nlohmann::json> Repository::GetDocument(const std::string& key) {
  ARK_RETURN_IF_ERROR(ValidateObjectKey(key));
  ARK_ASSIGN_OR_RETURN(std::string bytes, impl_->store->Get(key));
  return impl_->DecodeDocument(key, bytes);
}

// ---- leases ------------------------------------------------------------------

namespace {

std::string LeaseKey(const std::string& owner) { return kLockPrefix + owner + ".json"; }

Result<Repository::Lease> LeaseFromJson(const std::string& what, const nlohmann::json& j) {
  auto field = [&](const char* name, bool number) -> Result<const nlohmann::json*> {
    auto it = j.find(name);
    if (it == j.end() || (number ? !it->is_number_unsigned() : !it->is_string())) {
      return Status::Corruption(what + ": field " + name + " missing or not " +
                                (number ? "an unsigned integer" : "a string"));
    }
    return &*it;
  };
  if (!j.is_object()) return Status::Corruption(what + ": not a JSON object");
  Repository::Lease lease;
  ARK_ASSIGN_OR_RETURN(const nlohmann::json* owner, field("owner", false));
  ARK_ASSIGN_OR_RETURN(const nlohmann::json* kind, field("kind", false));
  ARK_ASSIGN_OR_RETURN(const nlohmann::json* description, field("description", false));
  ARK_ASSIGN_OR_RETURN(const nlohmann::json* expires, field("expiresMicros", true));
  lease.owner = owner->get<std::string>();
  lease.kind = kind->get<std::string>();
  lease.description = description->get<std::string>();
  lease.expires_micros = expires->get<uint64_t>();
  return lease;
}

}  // namespace

Status Repository::PutLease(const Lease& lease) {
  ARK_RETURN_IF_ERROR(ValidateName("lease owner", lease.owner));
  if (lease.kind.empty()) return Status::InvalidArgument("lease of " + lease.owner + ": empty kind");
  nlohmann::json j = {{"owner", lease.owner},
                      {"kind", lease.kind},
                      {"description", lease.description},
                      {"expiresMicros", lease.expires_micros}};
  return PutDocument(LeaseKey(lease.owner), j);
}

Status Repository::DeleteLease(const std::string& owner) {
  ARK_RETURN_IF_ERROR(ValidateName("lease owner", owner));
  return impl_->store->Delete(LeaseKey(owner));
}

Result<std::vector<Repository::Lease>> Repository::ListLeases() {
  ARK_ASSIGN_OR_RETURN(auto objects, impl_->store->ListAll(kLockPrefix));
  std::vector<Lease> leases;
  for (const auto& o : objects) {
    std::string_view key = o.key;
    if (key.size() <= 5 || key.substr(key.size() - 5) != ".json") continue;
    auto doc = GetDocument(o.key);
    if (doc.status().IsNotFound()) continue;  // released since the listing
    ARK_RETURN_IF_ERROR(doc.status());
    const std::string what = impl_->store->Describe() + ": lease " + o.key;
    ARK_ASSIGN_OR_RETURN(Lease lease, LeaseFromJson(what, *doc));
    if (LeaseKey(lease.owner) != o.key) {
      return Status::Corruption(what + ": names the owner \"" + lease.owner + "\"");
    }
    leases.push_back(std::move(lease));
  }
  return leases;
}

}  // namespace ark::dr
