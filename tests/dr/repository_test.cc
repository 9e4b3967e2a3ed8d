// Tests of the backup repository layer (src/dr/repository.h): descriptor,
// blob format and its checks, encryption, documents, leases.
#include "dr/repository/repository.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

#include "core/coding.h"
#include "core/hash.h"
#include "storage/env.h"
#include "storage/fault_injecting_store.h"
#include "storage/local_object_store.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

using ark::testing::TempDir;

constexpr uint32_t kChunk = 64u << 10;

std::string HashOf(std::string_view data) { return ToHex(Sha256(data)); }

// Text that zstd shrinks a lot.
std::string Compressible(size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) s += "row " + std::to_string(i) + " name=vector-" + std::to_string(i % 7) + "\n";
  s.resize(n);
  return s;
}

// Random bytes: what zstd cannot shrink by 1/32.
std::string RandomBytes(size_t n, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Embedding-like floats in [-1, 1]: zstd saves about a tenth on them (the
// exponent bytes repeat), so such chunks are usually stored compressed.
std::string RandomFloats(size_t n, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::string s(n, '\0');
  for (size_t i = 0; i + 4 <= n; i += 4) {
    float f = dist(rng);
    std::memcpy(&s[i], &f, 4);
  }
  return s;
}

std::string ReadFile(const std::string& path) {
  std::string out;
  EXPECT_OK(Env::Default()->ReadFileToString(path, &out));
  return out;
}

void WriteFile(const std::string& path, std::string_view data) {
  ASSERT_OK(Env::Default()->WriteFileAtomic(path, data));
}

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = LocalObjectStore::Open(dir_.Sub("repo"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  RepositoryInitOptions Options() {
    RepositoryInitOptions o;
    o.chunk_size = kChunk;
    o.scrypt_n = 1024;  // fast in tests
    return o;
  }

  // Init (Options() unless given) and Open; null after a failure (reported).
  std::unique_ptr<Repository> InitAndOpen(std::optional<RepositoryInitOptions> given = {},
                                          const EncryptionKey& key = {},
                                          ObjectStore* store = nullptr) {
    RepositoryInitOptions options = given ? *given : Options();
    if (!store) store = store_.get();
    Status s = Repository::Init(Env::Default(), store, options, key);
    EXPECT_TRUE(s.ok()) << s.ToString();
    auto repo = Repository::Open(Env::Default(), store, key);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return repo.ok() ? std::move(*repo) : nullptr;
  }

  std::string ObjectPath(const Repository& repo, const std::string& content_hash) {
    return store_->root() + "/" + Repository::BlobKey(repo.BlobId(content_hash));
  }

  std::string KeyFile(std::string_view bytes, const std::string& name = "key") {
    std::string path = dir_.Sub(name);
    WriteFile(path, bytes);
    return path;
  }

  TempDir dir_;
  std::unique_ptr<LocalObjectStore> store_;
};

// ---- descriptor ---------------------------------------------------------------

TEST_F(RepositoryTest, InitOpenRoundTrip) {
  RepositoryInitOptions o = Options();
  o.zstd_level = 5;
  ASSERT_OK(Repository::Init(Env::Default(), store_.get(), o, {}));
  ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(Env::Default(), store_.get(), {}));
  const RepositoryDescriptor& d = repo->descriptor();
  EXPECT_EQ(d.format_version, 1u);
  EXPECT_EQ(d.repository_id.size(), 32u);
  EXPECT_GT(d.created_micros, 0u);
  EXPECT_EQ(d.compression, "zstd");
  EXPECT_EQ(d.zstd_level, 5);
  EXPECT_EQ(d.chunk_size, kChunk);
  EXPECT_EQ(d.encryption, "none");
  EXPECT_EQ(d.key_derivation, "");
  EXPECT_FALSE(repo->encrypted());
  EXPECT_EQ(repo->store(), store_.get());
  auto j = nlohmann::json::parse(ReadFile(store_->root() + "/ark-repo.json"));
  EXPECT_EQ(j["formatVersion"], 1);
  EXPECT_EQ(j["repositoryId"], d.repository_id);
}

TEST_F(RepositoryTest, SecondInitIsAlreadyExists) {
  ASSERT_OK(Repository::Init(Env::Default(), store_.get(), Options(), {}));
  std::string before = ReadFile(store_->root() + "/ark-repo.json");
  Status s = Repository::Init(Env::Default(), store_.get(), Options(), {});
  EXPECT_TRUE(s.Is(StatusCode::kAlreadyExists)) << s.ToString();
  EXPECT_EQ(ReadFile(store_->root() + "/ark-repo.json"), before);
}

TEST_F(RepositoryTest, OpenMissingIsNotFound) {
  auto repo = Repository::Open(Env::Default(), store_.get(), {});
  ASSERT_TRUE(repo.status().IsNotFound()) << repo.status().ToString();
  EXPECT_NE(repo.status().message().find("no repository at"), std::string::npos);
}

TEST_F(RepositoryTest, BadInitOptionsAreInvalidArgument) {
  auto expect_invalid = [&](RepositoryInitOptions o, EncryptionKey key, const char* why) {
    Status s = Repository::Init(Env::Default(), store_.get(), o, key);
    EXPECT_TRUE(s.Is(StatusCode::kInvalidArgument)) << why << ": " << s.ToString();
  };
  RepositoryInitOptions o = Options();
  o.zstd_level = 20;
  expect_invalid(o, {}, "level");
  o = Options();
  o.chunk_size = 1000;
  expect_invalid(o, {}, "chunk");
  o = Options();
  o.compression = "lz4";
  expect_invalid(o, {}, "compression");
  o = Options();
  o.encrypt = true;
  expect_invalid(o, {}, "encrypt without key");
  expect_invalid(Options(), EncryptionKey{"", "secret"}, "key without encrypt");
  o.scrypt_n = 1000;
  expect_invalid(o, EncryptionKey{"", "secret"}, "N not a power of two");
  o = Options();
  o.encrypt = true;
  expect_invalid(o, EncryptionKey{dir_.Sub("missing-key"), ""}, "missing key file");
  EXPECT_FALSE(Env::Default()->FileExists(store_->root() + "/ark-repo.json"));
}

TEST_F(RepositoryTest, MalformedDescriptorFieldsAreCorruptionNamingTheField) {
  ASSERT_OK(Repository::Init(Env::Default(), store_.get(), Options(), {}));
  const std::string path = store_->root() + "/ark-repo.json";
  const auto good = nlohmann::json::parse(ReadFile(path));
  struct Case {
    std::string field;
    nlohmann::json value;  // null = remove the field
  };
  const std::vector<Case> cases = {
      {"formatVersion", "1"},       {"formatVersion", 0},       {"repositoryId", "xyz"},
      {"repositoryId", nullptr},    {"createdMicros", -5},      {"compression", "lz4"},
      {"zstdLevel", 0},             {"zstdLevel", 40},          {"chunkSize", 1024},
      {"encryption", "rot13"},      {"keyDerivation", "scrypt"}, {"saltHex", "00"},
      {"keyCheckHex", "abcd"},      {"scrypt", {{"n", 2}, {"r", 1}, {"p", 1}}},
  };
  for (const auto& c : cases) {
    auto j = good;
    if (c.value.is_null()) j.erase(c.field);
    else j[c.field] = c.value;
    WriteFile(path, j.dump());
    auto repo = Repository::Open(Env::Default(), store_.get(), {});
    ASSERT_TRUE(repo.status().IsCorruption()) << c.field << " = " << c.value << ": "
                                               << repo.status().ToString();
    EXPECT_NE(repo.status().message().find(c.field), std::string::npos)
        << repo.status().ToString();
  }
  WriteFile(path, "{ not json");
  EXPECT_TRUE(Repository::Open(Env::Default(), store_.get(), {}).status().IsCorruption());
  WriteFile(path, "[1, 2]");
  EXPECT_TRUE(Repository::Open(Env::Default(), store_.get(), {}).status().IsCorruption());
}

TEST_F(RepositoryTest, NewerFormatVersionIsNotSupported) {
  ASSERT_OK(Repository::Init(Env::Default(), store_.get(), Options(), {}));
  const std::string path = store_->root() + "/ark-repo.json";
  auto j = nlohmann::json::parse(ReadFile(path));
  j["formatVersion"] = 2;
  WriteFile(path, j.dump());
  auto repo = Repository::Open(Env::Default(), store_.get(), {});
  EXPECT_TRUE(repo.status().Is(StatusCode::kNotSupported)) << repo.status().ToString();
}

// ---- blobs ----------------------------------------------------------------------

TEST_F(RepositoryTest, PutGetRoundTripOfManySizes) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  const std::vector<size_t> sizes = {0, 1, 1000, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 17};
  for (int kind : {0, 1, 2}) {
    for (size_t size : sizes) {
      SCOPED_TRACE(std::to_string(size) + " kind " + std::to_string(kind));
      std::string data = kind == 0   ? Compressible(size)
                         : kind == 1 ? RandomBytes(size, static_cast<uint32_t>(size))
                                     : RandomFloats(size, static_cast<uint32_t>(size));
      std::string hash = HashOf(data);
      std::string src = dir_.Sub("src");
      WriteFile(src, data);
      uint64_t progress = 0;
      TransferControl control;
      control.on_bytes = [&](uint64_t n) { progress += n; };
      ASSERT_OK_AND_ASSIGN(BlobStat stat, repo->PutBlobFromFile(hash, src, control));
      EXPECT_EQ(stat.existed, kind > 0 && size == 0);  // the empty blob is one blob
      EXPECT_EQ(stat.content_hash, hash);
      EXPECT_EQ(stat.blob_id, hash);
      EXPECT_EQ(stat.size, size);
      EXPECT_EQ(progress, size);
      ASSERT_OK_AND_ASSIGN(ObjectInfo info, store_->Head(Repository::BlobKey(hash)));
      EXPECT_EQ(stat.stored_size, info.size);
      ASSERT_OK_AND_ASSIGN(std::string back, repo->GetBlob(hash));
      EXPECT_TRUE(back == data);
      std::string dst = dir_.Sub("dst");
      progress = 0;
      ASSERT_OK(repo->GetBlobToFile(hash, dst, control));
      EXPECT_EQ(progress, size);
      EXPECT_TRUE(ReadFile(dst) == data);
      EXPECT_OK(repo->VerifyBlob(hash, size, stat.stored_size, /*quick=*/false));
      EXPECT_OK(repo->VerifyBlob(hash, size, stat.stored_size, /*quick=*/true));
      EXPECT_TRUE(repo->VerifyBlob(hash, size + 1, stat.stored_size, false).IsCorruption());
      EXPECT_TRUE(repo->VerifyBlob(hash, size, stat.stored_size + 1, true).IsCorruption());
    }
  }
  auto dir_entries = Env::Default()->ListDir(dir_.path());
  ASSERT_TRUE(dir_entries.ok());
  for (const auto& name : *dir_entries) {
    EXPECT_EQ(name.find(".ark-get"), std::string::npos) << "temp file left: " << name;
  }
}

TEST_F(RepositoryTest, CompressibleChunksShrinkAndRandomBytesStayRaw) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  const size_t size = 4 * kChunk;
  std::string text = Compressible(size);
  ASSERT_OK_AND_ASSIGN(BlobStat small, repo->PutBlob(HashOf(text), text));
  EXPECT_LT(small.stored_size, size / 4);
  std::string random = RandomBytes(size);
  ASSERT_OK_AND_ASSIGN(BlobStat raw, repo->PutBlob(HashOf(random), random));
  // Raw: the plaintext plus a 48-byte header and 20 bytes per chunk.
  EXPECT_EQ(raw.stored_size, size + 48 + 4 * 20);
  // Float vectors save too little for the probe (under 1/8): stored raw.
  std::string floats(size, '\0');
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 0.05f);
  for (size_t i = 0; i + 4 <= size; i += 4) {
    float f = g(rng);
    std::memcpy(floats.data() + i, &f, 4);
  }
  ASSERT_OK_AND_ASSIGN(BlobStat vec, repo->PutBlob(HashOf(floats), floats));
  EXPECT_EQ(vec.stored_size, size + 48 + 4 * 20);
  ASSERT_OK_AND_ASSIGN(std::string floats_back, repo->GetBlob(HashOf(floats)));
  EXPECT_TRUE(floats_back == floats);

  RepositoryInitOptions o = Options();
  o.compression = "none";
  TempDir other;
  ASSERT_OK_AND_ASSIGN(auto other_store, LocalObjectStore::Open(other.path()));
  auto plain = InitAndOpen(o, {}, other_store.get());
  ASSERT_TRUE(plain);
  ASSERT_OK_AND_ASSIGN(BlobStat uncompressed, plain->PutBlob(HashOf(text), text));
  EXPECT_EQ(uncompressed.stored_size, size + 48 + 4 * 20);
  ASSERT_OK_AND_ASSIGN(std::string back, plain->GetBlob(HashOf(text)));
  EXPECT_TRUE(back == text);
}

TEST_F(RepositoryTest, SecondPutFindsTheBlobAndUploadsNothing) {
  FaultInjectingStore faults(store_.get());
  auto repo = InitAndOpen({}, {}, &faults);
  ASSERT_TRUE(repo);
  std::string data = Compressible(100000);
  std::string src = dir_.Sub("src");
  WriteFile(src, data);
  ASSERT_OK_AND_ASSIGN(BlobStat first, repo->PutBlobFromFile(HashOf(data), src));
  EXPECT_FALSE(first.existed);
  // Any put now would fail: a second upload would show as an error.
  faults.FailNext(FaultInjectingStore::kPut, 1);
  ASSERT_OK_AND_ASSIGN(BlobStat second, repo->PutBlobFromFile(HashOf(data), src));
  EXPECT_TRUE(second.existed);
  EXPECT_EQ(second.stored_size, first.stored_size);
  EXPECT_EQ(second.size, data.size());
  ASSERT_OK_AND_ASSIGN(BlobStat third, repo->PutBlob(HashOf(data), data));
  EXPECT_TRUE(third.existed);
  EXPECT_EQ(faults.injected(), 0u);
}

TEST_F(RepositoryTest, HashMismatchOnPutIsCorruptionAndStoresNothing) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  std::string data = RandomBytes(3 * kChunk + 5);
  std::string wrong = HashOf("something else");
  auto stat = repo->PutBlob(wrong, data);
  EXPECT_TRUE(stat.status().IsCorruption()) << stat.status().ToString();
  std::string src = dir_.Sub("src");
  WriteFile(src, data);
  stat = repo->PutBlobFromFile(wrong, src);
  ASSERT_TRUE(stat.status().IsCorruption()) << stat.status().ToString();
  EXPECT_NE(stat.status().message().find(src), std::string::npos) << stat.status().ToString();
  EXPECT_TRUE(store_->Head(Repository::BlobKey(wrong)).status().IsNotFound());
  ASSERT_OK_AND_ASSIGN(auto blobs, repo->ListBlobs());
  EXPECT_TRUE(blobs.empty());
  EXPECT_TRUE(repo->PutBlob("not-a-hash", data).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(repo->PutBlobFromFile(HashOf(data), dir_.Sub("missing")).status().IsNotFound());
}

// The file changes between the size taken up front and the end of the
// upload (a live data file, a bug): the upload fails and publishes nothing.
TEST_F(RepositoryTest, FileChangingDuringPutIsCorruption) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  const std::string data = RandomBytes(3 * kChunk);
  const std::string src = dir_.Sub("src");
  for (bool grow : {true, false}) {
    SCOPED_TRACE(grow ? "grows" : "shrinks");
    WriteFile(src, data);
    TransferControl control;
    bool changed = false;
    control.on_bytes = [&](uint64_t) {
      if (changed) return;
      changed = true;
      // In place: WriteFileAtomic would make a new inode the open handle never sees.
      ASSERT_OK(grow ? [&] {
        auto f = Env::Default()->NewAppendableFile(src);
        if (!f.ok()) return f.status();
        Status s = (*f)->Append("more");
        return s.ok() ? (*f)->Close() : s;
      }()
                     : Env::Default()->TruncateFile(src, kChunk + 10));
    };
    auto put = repo->PutBlobFromFile(HashOf(data), src, control);
    ASSERT_TRUE(put.status().IsCorruption()) << put.status().ToString();
    EXPECT_NE(put.status().message().find("changed while being read"), std::string::npos)
        << put.status().ToString();
    EXPECT_TRUE(store_->Head(Repository::BlobKey(HashOf(data))).status().IsNotFound());
  }
}

TEST_F(RepositoryTest, FlippedByteIsCorruptionAndLeavesTheDestinationUntouched) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  std::string data = Compressible(2 * kChunk) + RandomBytes(kChunk + 100);
  std::string hash = HashOf(data);
  ASSERT_OK_AND_ASSIGN(BlobStat stat, repo->PutBlob(hash, data));
  const std::string object = ObjectPath(*repo, hash);
  const std::string good = ReadFile(object);
  const std::string dst = dir_.Sub("dst");
  for (size_t offset : {size_t{0}, size_t{9}, size_t{20}, size_t{30}, size_t{40}, size_t{48},
                        size_t{52}, size_t{60}, good.size() / 2, good.size() - 1}) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    std::string bad = good;
    bad[offset] ^= 0x10;
    WriteFile(object, bad);
    auto got = repo->GetBlob(hash);
    ASSERT_TRUE(got.status().IsCorruption()) << got.status().ToString();
    EXPECT_NE(got.status().message().find(stat.blob_id), std::string::npos);
    EXPECT_TRUE(repo->VerifyBlob(hash, data.size(), stat.stored_size, false).IsCorruption());
    WriteFile(dst, "old content");
    EXPECT_TRUE(repo->GetBlobToFile(hash, dst).IsCorruption());
    EXPECT_EQ(ReadFile(dst), "old content");
  }
  auto entries = Env::Default()->ListDir(dir_.path());
  ASSERT_TRUE(entries.ok());
  for (const auto& name : *entries) EXPECT_EQ(name.find(".ark-get"), std::string::npos) << name;
}

TEST_F(RepositoryTest, TruncatedOrExtendedBlobIsCorruption) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  std::string data = RandomBytes(2 * kChunk + 10);
  std::string hash = HashOf(data);
  ASSERT_OK(repo->PutBlob(hash, data).status());
  const std::string object = ObjectPath(*repo, hash);
  const std::string good = ReadFile(object);
  // Cutting at a chunk boundary (after the first chunk) must fail too.
  const size_t first_chunk_end = 48 + 12 + kChunk + 8;
  for (size_t keep : {size_t{0}, size_t{10}, size_t{48}, size_t{55}, first_chunk_end,
                      good.size() - 1}) {
    WriteFile(object, std::string_view(good).substr(0, keep));
    auto got = repo->GetBlob(hash);
    EXPECT_TRUE(got.status().IsCorruption()) << keep << ": " << got.status().ToString();
  }
  WriteFile(object, good + "x");
  EXPECT_TRUE(repo->GetBlob(hash).status().IsCorruption());
  WriteFile(object, good);
  EXPECT_OK(repo->GetBlob(hash).status());
}

// The bytes of a blob as docs/formats/backup-repository.md spells them out,
// built here by hand: a reader must accept them, and an unencrypted writer
// (deterministic) must produce exactly them. Guards the format against
// accidental change.
TEST_F(RepositoryTest, BlobBytesFollowTheSpecification) {
  RepositoryInitOptions o = Options();
  o.compression = "none";
  auto repo = InitAndOpen(o);
  ASSERT_TRUE(repo);
  const std::string content = "hello, repository";
  std::string expected("ARKBLOB\n");
  PutFixed32(&expected, 1);       // format version
  PutFixed32(&expected, 0);       // flags: not encrypted
  PutFixed32(&expected, kChunk);  // chunk size
  PutFixed32(&expected, 0);       // reserved
  PutFixed64(&expected, content.size());
  expected.append(12, '\0');  // nonce base
  PutFixed32(&expected, static_cast<uint32_t>(Xxh3_64(expected.data(), 44)));
  std::string chunk;
  chunk.push_back(0);  // raw
  chunk.push_back(1);  // last
  PutFixed16(&chunk, 0);
  PutFixed32(&chunk, content.size());
  PutFixed32(&chunk, content.size());
  chunk += content;
  PutFixed64(&chunk, Xxh3_64(chunk.data(), chunk.size(), /*seed=chunk index*/ 0));
  expected += chunk;

  ASSERT_OK_AND_ASSIGN(BlobStat stat, repo->PutBlob(HashOf(content), content));
  EXPECT_EQ(stat.stored_size, expected.size());
  EXPECT_TRUE(ReadFile(ObjectPath(*repo, HashOf(content))) == expected);
  // And a hand-made object of another content reads back.
  const std::string other = "hello, world!!!!!";  // same length
  ASSERT_EQ(other.size(), content.size());
  std::string hand = expected.substr(0, 48);
  std::string other_chunk = chunk.substr(0, 12) + other;
  PutFixed64(&other_chunk, Xxh3_64(other_chunk.data(), other_chunk.size(), 0));
  hand += other_chunk;
  ASSERT_OK(store_->Put(Repository::BlobKey(HashOf(other)), hand));
  ASSERT_OK_AND_ASSIGN(std::string back, repo->GetBlob(HashOf(other)));
  EXPECT_EQ(back, other);
}

TEST_F(RepositoryTest, CorruptReadsFromTheStoreAreDetected) {
  FaultInjectingStore faults(store_.get());
  auto repo = InitAndOpen({}, {}, &faults);
  ASSERT_TRUE(repo);
  std::string data = Compressible(kChunk + 3);
  ASSERT_OK(repo->PutBlob(HashOf(data), data).status());
  faults.CorruptReads(true);
  EXPECT_TRUE(repo->GetBlob(HashOf(data)).status().IsCorruption());
  faults.CorruptReads(false);
  faults.ShortReads(0.5);
  EXPECT_TRUE(repo->GetBlob(HashOf(data)).status().IsCorruption());
}

TEST_F(RepositoryTest, SwappedBlobsAreCorruption) {
  for (bool encrypt : {false, true}) {
    SCOPED_TRACE(encrypt ? "encrypted" : "plain");
    TempDir d;
    ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Open(d.Sub("repo")));
    RepositoryInitOptions o = Options();
    o.encrypt = encrypt;
    EncryptionKey key;
    if (encrypt) key.key_file = KeyFile(std::string(32, 'k'));
    auto repo = InitAndOpen(o, key, store.get());
    ASSERT_TRUE(repo);
    std::string a = RandomBytes(1000, 1), b = RandomBytes(1000, 2);
    ASSERT_OK(repo->PutBlob(HashOf(a), a).status());
    ASSERT_OK(repo->PutBlob(HashOf(b), b).status());
    std::string a_path = store->root() + "/" + Repository::BlobKey(repo->BlobId(HashOf(a)));
    std::string b_path = store->root() + "/" + Repository::BlobKey(repo->BlobId(HashOf(b)));
    WriteFile(a_path, ReadFile(b_path));
    auto got = repo->GetBlob(HashOf(a));
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
    EXPECT_OK(repo->GetBlob(HashOf(b)).status());
  }
}

TEST_F(RepositoryTest, GetOfAMissingBlobIsNotFound) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  std::string hash = HashOf("absent");
  auto got = repo->GetBlob(hash);
  ASSERT_TRUE(got.status().IsNotFound()) << got.status().ToString();
  EXPECT_NE(got.status().message().find(hash), std::string::npos);
  EXPECT_TRUE(repo->GetBlobToFile(hash, dir_.Sub("dst")).IsNotFound());
  EXPECT_FALSE(Env::Default()->FileExists(dir_.Sub("dst")));
  EXPECT_TRUE(repo->VerifyBlob(hash, 0, 0, true).IsNotFound());
}

TEST_F(RepositoryTest, ListAndDeleteBlobs) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  std::vector<std::string> hashes;
  for (int i = 0; i < 5; ++i) {
    std::string data = "blob " + std::to_string(i);
    hashes.push_back(HashOf(data));
    ASSERT_OK(repo->PutBlob(hashes.back(), data).status());
  }
  ASSERT_OK(store_->Put("blobs/zz/not-a-blob", "x"));  // foreign objects are ignored
  ASSERT_OK_AND_ASSIGN(auto blobs, repo->ListBlobs());
  ASSERT_EQ(blobs.size(), 5u);
  for (const auto& h : hashes) {
    ASSERT_TRUE(blobs.count(h));
    EXPECT_GT(blobs[h].stored_size, 48u);
    EXPECT_GT(blobs[h].mtime_micros, 0u);
  }
  ASSERT_OK(repo->DeleteBlobs({hashes[0], hashes[3]}));
  ASSERT_OK_AND_ASSIGN(blobs, repo->ListBlobs());
  EXPECT_EQ(blobs.size(), 3u);
  EXPECT_FALSE(blobs.count(hashes[0]));
  EXPECT_TRUE(repo->DeleteBlobs({"../ark-repo.json"}).Is(StatusCode::kInvalidArgument));
}

TEST_F(RepositoryTest, ParallelPutsOfTheSameAndDifferentBlobs) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  std::string shared = RandomBytes(kChunk * 2 + 1);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string own = Compressible(50000 + t);
      if (!repo->PutBlob(HashOf(shared), shared).ok()) failures++;
      if (!repo->PutBlob(HashOf(own), own).ok()) failures++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(auto blobs, repo->ListBlobs());
  EXPECT_EQ(blobs.size(), 5u);
  ASSERT_OK_AND_ASSIGN(std::string back, repo->GetBlob(HashOf(shared)));
  EXPECT_TRUE(back == shared);
}

// ---- encryption ---------------------------------------------------------------

TEST_F(RepositoryTest, KeyFileEncryptionRoundTrip) {
  const std::string raw_key = RandomBytes(32, 99);
  const std::string key_path = KeyFile(raw_key);
  RepositoryInitOptions o = Options();
  o.encrypt = true;
  auto repo = InitAndOpen(o, EncryptionKey{key_path, ""});
  ASSERT_TRUE(repo);
  EXPECT_TRUE(repo->encrypted());
  EXPECT_EQ(repo->descriptor().encryption, "aes-256-gcm");
  EXPECT_EQ(repo->descriptor().key_derivation, "key-file");
  std::string data = RandomBytes(2 * kChunk + 333);
  std::string hash = HashOf(data);
  ASSERT_OK_AND_ASSIGN(BlobStat stat, repo->PutBlob(hash, data));
  EXPECT_NE(stat.blob_id, hash);
  EXPECT_EQ(stat.blob_id, repo->BlobId(hash));
  EXPECT_TRUE(IsSha256Hex(stat.blob_id));
  ASSERT_OK_AND_ASSIGN(std::string back, repo->GetBlob(hash));
  EXPECT_TRUE(back == data);
  std::string text = Compressible(kChunk + 7);
  ASSERT_OK(repo->PutBlob(HashOf(text), text).status());
  ASSERT_OK_AND_ASSIGN(back, repo->GetBlob(HashOf(text)));
  EXPECT_TRUE(back == text);
  // Neither the plaintext, nor the hash, nor the key appears in the store.
  std::string stored = ReadFile(ObjectPath(*repo, hash));
  EXPECT_EQ(stored.find(data.substr(1000, 64)), std::string::npos);
  std::string stored_text = ReadFile(ObjectPath(*repo, HashOf(text)));
  EXPECT_EQ(stored_text.find("name=vector-"), std::string::npos);
  std::string descriptor = ReadFile(store_->root() + "/ark-repo.json");
  EXPECT_EQ(descriptor.find(ToHex(raw_key.data(), raw_key.size())), std::string::npos);
  EXPECT_FALSE(store_->Head(Repository::BlobKey(hash)).ok());

  // The same key as 64 hex characters and a newline opens it too.
  std::string hex_path = KeyFile(ToHex(raw_key.data(), raw_key.size()) + "\n", "key.hex");
  ASSERT_OK_AND_ASSIGN(auto again, Repository::Open(Env::Default(), store_.get(), EncryptionKey{hex_path, ""}));
  ASSERT_OK_AND_ASSIGN(back, again->GetBlob(hash));
  EXPECT_TRUE(back == data);
}

TEST_F(RepositoryTest, WrongMissingOrMalformedKeysAreRefused) {
  const std::string key_path = KeyFile(std::string(32, 'a'));
  RepositoryInitOptions o = Options();
  o.encrypt = true;
  ASSERT_OK(Repository::Init(Env::Default(), store_.get(), o, EncryptionKey{key_path, ""}));

  auto wrong = Repository::Open(Env::Default(), store_.get(), EncryptionKey{KeyFile(std::string(32, 'b'), "k2"), ""});
  ASSERT_TRUE(wrong.status().Is(StatusCode::kPermissionDenied)) << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find("wrong encryption key for " + store_->Describe()),
            std::string::npos);

  auto none = Repository::Open(Env::Default(), store_.get(), {});
  ASSERT_TRUE(none.status().Is(StatusCode::kInvalidArgument)) << none.status().ToString();
  EXPECT_NE(none.status().message().find("encrypted"), std::string::npos);
  EXPECT_NE(none.status().message().find("--key-file"), std::string::npos);
  EXPECT_NE(none.status().message().find("ARK_BACKUP_PASSPHRASE"), std::string::npos);

  auto passphrase = Repository::Open(Env::Default(), store_.get(), EncryptionKey{"", "hunter2"});
  EXPECT_TRUE(passphrase.status().Is(StatusCode::kInvalidArgument));

  const std::string secret = "0123456789abcdef0123456789abcdef0";  // 33 bytes
  const std::string bad_path = KeyFile(secret, "bad");
  auto bad = Repository::Open(Env::Default(), store_.get(), EncryptionKey{bad_path, ""});
  ASSERT_TRUE(bad.status().Is(StatusCode::kInvalidArgument)) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find(bad_path), std::string::npos);
  EXPECT_NE(bad.status().message().find("64 hex"), std::string::npos);
  EXPECT_EQ(bad.status().message().find(secret), std::string::npos);
  std::string not_hex(64, 'g');
  EXPECT_TRUE(Repository::Open(Env::Default(), store_.get(), EncryptionKey{KeyFile(not_hex, "nothex"), ""})
                  .status()
                  .Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(Repository::Open(Env::Default(), store_.get(), EncryptionKey{dir_.Sub("absent"), ""})
                  .status()
                  .Is(StatusCode::kInvalidArgument));

  // A key for an unencrypted repository is refused too.
  TempDir other;
  ASSERT_OK_AND_ASSIGN(auto plain_store, LocalObjectStore::Open(other.path()));
  ASSERT_OK(Repository::Init(Env::Default(), plain_store.get(), Options(), {}));
  EXPECT_TRUE(Repository::Open(Env::Default(), plain_store.get(), EncryptionKey{key_path, ""})
                  .status()
                  .Is(StatusCode::kInvalidArgument));
}

TEST_F(RepositoryTest, PassphraseEncryptionRoundTrip) {
  const std::string passphrase = "correct horse battery staple";
  RepositoryInitOptions o = Options();
  o.encrypt = true;
  auto repo = InitAndOpen(o, EncryptionKey{"", passphrase});
  ASSERT_TRUE(repo);
  const auto& d = repo->descriptor();
  EXPECT_EQ(d.key_derivation, "scrypt");
  EXPECT_EQ(d.scrypt_n, 1024u);
  EXPECT_EQ(d.scrypt_r, 8u);
  EXPECT_EQ(d.scrypt_p, 1u);
  EXPECT_EQ(d.salt_hex.size(), 32u);
  EXPECT_EQ(d.key_check_hex.size(), 64u);
  std::string data = Compressible(kChunk * 2);
  ASSERT_OK_AND_ASSIGN(BlobStat stat, repo->PutBlob(HashOf(data), data));
  EXPECT_NE(stat.blob_id, HashOf(data));
  ASSERT_OK_AND_ASSIGN(auto reopened, Repository::Open(Env::Default(), store_.get(), EncryptionKey{"", passphrase}));
  ASSERT_OK_AND_ASSIGN(std::string back, reopened->GetBlob(HashOf(data)));
  EXPECT_TRUE(back == data);
  EXPECT_EQ(reopened->BlobId(HashOf(data)), stat.blob_id);

  auto wrong = Repository::Open(Env::Default(), store_.get(), EncryptionKey{"", "incorrect horse"});
  ASSERT_TRUE(wrong.status().Is(StatusCode::kPermissionDenied)) << wrong.status().ToString();
  EXPECT_EQ(wrong.status().message().find("incorrect horse"), std::string::npos);
  EXPECT_EQ(ReadFile(store_->root() + "/ark-repo.json").find(passphrase), std::string::npos);

  // Another repository with the same passphrase names the same content differently.
  TempDir other;
  ASSERT_OK_AND_ASSIGN(auto other_store, LocalObjectStore::Open(other.path()));
  auto other_repo = InitAndOpen(o, EncryptionKey{"", passphrase}, other_store.get());
  ASSERT_TRUE(other_repo);
  EXPECT_NE(other_repo->BlobId(HashOf(data)), stat.blob_id);
}

// ---- documents ----------------------------------------------------------------

TEST_F(RepositoryTest, DocumentsRoundTripPlainAndEncrypted) {
  for (bool encrypt : {false, true}) {
    SCOPED_TRACE(encrypt ? "encrypted" : "plain");
    TempDir d;
    ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Open(d.path()));
    RepositoryInitOptions o = Options();
    o.encrypt = encrypt;
    EncryptionKey key;
    if (encrypt) key.key_file = KeyFile(std::string(32, 'z'));
    auto repo = InitAndOpen(o, key, store.get());
    ASSERT_TRUE(repo);
    nlohmann::json doc = {{"name", "nightly-secret-name"}, {"files", {1, 2, 3}}};
    ASSERT_OK(repo->PutDocument("backups/b1.json", doc));
    ASSERT_OK_AND_ASSIGN(nlohmann::json back, repo->GetDocument("backups/b1.json"));
    EXPECT_EQ(back, doc);
    std::string raw = ReadFile(store->root() + "/backups/b1.json");
    if (encrypt) {
      EXPECT_EQ(raw.find("nightly-secret-name"), std::string::npos);
      EXPECT_EQ(raw.substr(0, 8), "ARKDOC1\n");
    } else {
      EXPECT_EQ(nlohmann::json::parse(raw), doc);
    }
    Status s = repo->PutDocument("backups/b1.json", {{"other", 1}}, /*if_absent=*/true);
    EXPECT_TRUE(s.Is(StatusCode::kAlreadyExists)) << s.ToString();
    ASSERT_OK_AND_ASSIGN(back, repo->GetDocument("backups/b1.json"));
    EXPECT_EQ(back, doc);
    EXPECT_TRUE(repo->GetDocument("backups/none.json").status().IsNotFound());

    // Moved to another name: authentication fails (encrypted); a damaged
    // document is Corruption naming the key.
    WriteFile(store->root() + "/backups/b2.json", raw);
    auto moved = repo->GetDocument("backups/b2.json");
    if (encrypt) {
      EXPECT_TRUE(moved.status().IsCorruption()) << moved.status().ToString();
    }
    std::string damaged = raw;
    damaged[damaged.size() / 2] = '\x01';
    WriteFile(store->root() + "/backups/b3.json", damaged);
    auto bad = repo->GetDocument("backups/b3.json");
    ASSERT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
    EXPECT_NE(bad.status().message().find("backups/b3.json"), std::string::npos);
  }
}

// ---- leases -------------------------------------------------------------------

TEST_F(RepositoryTest, LeasesPutListRenewDelete) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  ASSERT_OK_AND_ASSIGN(auto leases, repo->ListLeases());
  EXPECT_TRUE(leases.empty());
  ASSERT_OK(repo->PutLease({"a1b2", "backup", "nightly", 1000}));
  ASSERT_OK(repo->PutLease({"c3d4", "prune", "prune keep-last 3", 2000}));
  ASSERT_OK(repo->PutLease({"a1b2", "backup", "nightly", 5000}));  // renewal
  ASSERT_OK_AND_ASSIGN(leases, repo->ListLeases());
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_EQ(leases[0].owner, "a1b2");
  EXPECT_EQ(leases[0].kind, "backup");
  EXPECT_EQ(leases[0].description, "nightly");
  EXPECT_EQ(leases[0].expires_micros, 5000u);
  EXPECT_EQ(leases[1].owner, "c3d4");
  EXPECT_EQ(leases[1].kind, "prune");
  ASSERT_OK(repo->DeleteLease("a1b2"));
  ASSERT_OK(repo->DeleteLease("a1b2"));  // idempotent
  ASSERT_OK_AND_ASSIGN(leases, repo->ListLeases());
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].owner, "c3d4");
  EXPECT_TRUE(repo->PutLease({"../x", "backup", "", 1}).Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(repo->PutLease({"ok", "", "", 1}).Is(StatusCode::kInvalidArgument));
  ASSERT_OK(store_->Put("locks/broken.json", "{\"owner\": 3}"));
  EXPECT_TRUE(repo->ListLeases().status().IsCorruption());
}

// ---- names ----------------------------------------------------------------------

TEST(BackupNameTest, AcceptedAndRejected) {
  for (const char* name : {"a", "nightly-2024-01-01", "b.1", "A_b-c.d", "0", "x-"}) {
    EXPECT_OK(ValidateBackupName(name));
  }
  EXPECT_OK(ValidateBackupName(std::string(128, 'n')));
  for (const char* name : {"", ".hidden", "-flag", "a/b", "..", "a b", "name\n", "é", "a\\b",
                           "x:y", "a*"}) {
    Status s = ValidateBackupName(name);
    EXPECT_TRUE(s.Is(StatusCode::kInvalidArgument)) << "\"" << name << "\": " << s.ToString();
  }
  EXPECT_TRUE(ValidateBackupName(std::string(129, 'n')).Is(StatusCode::kInvalidArgument));
}

// ---- cancellation and failures ------------------------------------------------

TEST_F(RepositoryTest, CancellationStopsTransfersAndLeavesNothing) {
  auto repo = InitAndOpen();
  ASSERT_TRUE(repo);
  std::string data = RandomBytes(4 * kChunk);
  std::string hash = HashOf(data);
  std::atomic<bool> cancelled{true};
  TransferControl control;
  control.cancelled = &cancelled;
  EXPECT_TRUE(repo->PutBlob(hash, data, control).status().Is(StatusCode::kCancelled));
  // Cancelled midway (after the first chunk).
  cancelled = false;
  control.on_bytes = [&](uint64_t) { cancelled = true; };
  auto put = repo->PutBlob(hash, data, control);
  EXPECT_TRUE(put.status().Is(StatusCode::kCancelled)) << put.status().ToString();
  EXPECT_TRUE(store_->Head(Repository::BlobKey(hash)).status().IsNotFound());

  cancelled = false;
  control.on_bytes = nullptr;
  ASSERT_OK(repo->PutBlob(hash, data, control).status());
  const std::string dst = dir_.Sub("dst");
  WriteFile(dst, "old");
  control.on_bytes = [&](uint64_t) { cancelled = true; };
  Status s = repo->GetBlobToFile(hash, dst, control);
  EXPECT_TRUE(s.Is(StatusCode::kCancelled)) << s.ToString();
  EXPECT_EQ(ReadFile(dst), "old");
}

TEST_F(RepositoryTest, FailedPutsLeaveNoVisibleBlob) {
  FaultInjectingStore faults(store_.get());
  auto repo = InitAndOpen({}, {}, &faults);
  ASSERT_TRUE(repo);
  std::string data = RandomBytes(3 * kChunk + 1);
  std::string hash = HashOf(data);
  for (auto how : {FaultInjectingStore::PutFailure::kBefore, FaultInjectingStore::PutFailure::kTorn}) {
    faults.FailNext(FaultInjectingStore::kPut, 1, Status::Unavailable("injected"), how);
    auto put = repo->PutBlob(hash, data);
    EXPECT_TRUE(put.status().Is(StatusCode::kUnavailable)) << put.status().ToString();
    EXPECT_TRUE(store_->Head(Repository::BlobKey(hash)).status().IsNotFound());
  }
  // A lost reply: the blob is there and complete; the retry finds it.
  faults.FailNext(FaultInjectingStore::kPut, 1, Status::Unavailable("injected"),
                  FaultInjectingStore::PutFailure::kAfter);
  EXPECT_FALSE(repo->PutBlob(hash, data).ok());
  ASSERT_OK_AND_ASSIGN(BlobStat retry, repo->PutBlob(hash, data));
  EXPECT_TRUE(retry.existed);
  ASSERT_OK_AND_ASSIGN(std::string back, repo->GetBlob(hash));
  EXPECT_TRUE(back == data);
  // A failing Head is reported, not taken for "absent".
  faults.FailNext(FaultInjectingStore::kHead, 1);
  EXPECT_TRUE(repo->PutBlob(hash, data).status().Is(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace ark::dr
