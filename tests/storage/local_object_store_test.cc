// LocalObjectStore beyond the conformance suite: the durability of PutFile,
// GetFile and PutBatch under simulated power loss and injected I/O errors
// (FaultInjectionEnv, which has no syncfs, so PutBatch fsyncs each file),
// the syncfs path of PutBatch (a counting Env over the POSIX one), and
// Env::AppendFileContents, the copy under PutFile and GetFile.
#include "storage/local_object_store.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>

#include "storage/fault_injection_env.h"
#include "storage/object_store_test_util.h"

namespace ark::testing {
namespace {

std::string ReadLocal(const std::string& path) {
  std::string s;
  Status st = Env::Default()->ReadFileToString(path, &s);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

std::vector<std::string> TempFiles(const std::string& root) {
  auto names = Env::Default()->ListDir(root + "/.ark-tmp");
  EXPECT_TRUE(names.ok()) << names.status().ToString();
  return names.ok() ? *names : std::vector<std::string>{};
}

// Forwards to the POSIX Env; counts filesystem syncs and can fail them.
class SyncCountingEnv final : public Env {
 public:
  class CountingSync final : public FilesystemSync {
   public:
    CountingSync(SyncCountingEnv* env, std::unique_ptr<FilesystemSync> base)
        : env_(env), base_(std::move(base)) {}
    Status Sync() override {
      ++env_->syncs;
      if (env_->fail_sync) return Status::IOError("syncfs: injected failure");
      return base_->Sync();
    }

   private:
    SyncCountingEnv* env_;
    std::unique_ptr<FilesystemSync> base_;
  };

  Result<std::unique_ptr<FilesystemSync>> NewFilesystemSync(const std::string& path) override {
    ARK_ASSIGN_OR_RETURN(auto sync, base_->NewFilesystemSync(path));
    return std::unique_ptr<FilesystemSync>(new CountingSync(this, std::move(sync)));
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    ++files_created;
    return base_->NewWritableFile(p);
  }
  Result<uint64_t> AppendFileContents(const std::string& from, WritableFile* to) override {
    return base_->AppendFileContents(from, to);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    return base_->NewAppendableFile(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return base_->NewRandomAccessFile(p);
  }
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& p) override {
    return base_->MapFile(p);
  }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Result<uint64_t> GetFileSize(const std::string& p) override { return base_->GetFileSize(p); }
  Result<std::vector<std::string>> ListDir(const std::string& d) override {
    return base_->ListDir(d);
  }
  Status CreateDir(const std::string& d) override { return base_->CreateDir(d); }
  Status CreateDirs(const std::string& d) override { return base_->CreateDirs(d); }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status RemoveDir(const std::string& d) override { return base_->RemoveDir(d); }
  Status RemoveAll(const std::string& p) override { return base_->RemoveAll(p); }
  Status RenameFile(const std::string& f, const std::string& t) override {
    ++renames;
    return base_->RenameFile(f, t);
  }
  Status TruncateFile(const std::string& p, uint64_t n) override {
    return base_->TruncateFile(p, n);
  }
  Status SyncDir(const std::string& d) override {
    ++dir_syncs;
    return base_->SyncDir(d);
  }
  Status LinkFile(const std::string& f, const std::string& t) override {
    return base_->LinkFile(f, t);
  }
  Result<uint64_t> GetFileModificationTime(const std::string& p) override {
    return base_->GetFileModificationTime(p);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return base_->LockFile(p);
  }
  uint64_t NowMicros() override { return base_->NowMicros(); }
  uint64_t WallMicros() override { return base_->WallMicros(); }

  std::atomic<int> syncs{0}, files_created{0}, renames{0}, dir_syncs{0};
  std::atomic<bool> fail_sync{false};

 private:
  Env* base_ = Env::Default();
};

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<LocalObjectStore> Open(Env* env, LocalObjectStoreOptions options = {}) {
    options.env = env;
    auto store = LocalObjectStore::Open(root_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::vector<std::string> Keys(ObjectStore* store) {
    auto all = store->ListAll("");
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    std::vector<std::string> keys;
    if (all.ok()) {
      for (auto& o : *all) keys.push_back(o.key);
    }
    return keys;
  }
  // `n` items "k/<i % 5>/<i>" with distinct random values.
  void MakeBatch(int n, std::vector<std::string>* values, std::vector<PutItem>* items) {
    for (int i = 0; i < n; ++i) {
      values->push_back(RandomBytes(100 + static_cast<size_t>(i) * 13, static_cast<uint64_t>(i)));
    }
    for (int i = 0; i < n; ++i) {
      items->push_back({"k/" + std::to_string(i % 5) + "/" + std::to_string(i),
                        (*values)[static_cast<size_t>(i)], ""});
    }
  }

  TempDir dir_;
  const std::string root_ = dir_.Sub("store");
  FaultInjectionEnv fault_env_{Env::Default()};
};

// FaultInjectionEnv undoes a rename across directories (.ark-tmp/X ->
// ROOT/key) at power loss even after both directories were fsynced, so
// durability is checked as DurableSize: synced bytes and a synced name.
TEST_F(LocalObjectStoreTest, PutBatchWithoutSyncfsMakesEveryObjectDurable) {
  LocalObjectStoreOptions options;
  options.batch_open_files = 7;  // several chunks
  options.batch_sync_threads = 3;
  auto store = Open(&fault_env_, options);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> values;
  std::vector<PutItem> items;
  MakeBatch(40, &values, &items);
  const std::string src = dir_.Sub("from-file");
  ASSERT_OK(Env::Default()->WriteFileAtomic(src, "file content"));
  items.push_back({"k/file", {}, src});
  values.push_back("file content");
  ASSERT_OK(store->PutBatch(items));
  for (size_t i = 0; i < items.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(std::string got, store->Get(items[i].key));
    EXPECT_TRUE(got == values[i]) << items[i].key;
    EXPECT_EQ(fault_env_.DurableSize(root_ + "/" + items[i].key), values[i].size())
        << items[i].key << " is not durable";
  }
  EXPECT_TRUE(TempFiles(root_).empty());
}

TEST_F(LocalObjectStoreTest, PutBatchWriteErrorLeavesNothingVisibleInThatChunk) {
  LocalObjectStoreOptions options;
  options.batch_open_files = 10;
  options.batch_write_threads = 1;  // the 15th append is item 14's
  auto store = Open(&fault_env_, options);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> values;
  std::vector<PutItem> items;
  MakeBatch(25, &values, &items);
  fault_env_.FailWrite(15, EIO, FaultInjectionEnv::WriteFault::kShortWrite);  // item 14, chunk 2
  Status s = store->PutBatch(items);
  EXPECT_TRUE(s.Is(StatusCode::kIOError)) << s.ToString();
  EXPECT_NE(s.message().find(items[14].key), std::string::npos) << s.message();
  // The first chunk was stored whole; nothing of the failed chunk or later.
  std::vector<std::string> expected;
  for (size_t i = 0; i < 10; ++i) expected.push_back(items[i].key);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Keys(store.get()), expected);
  for (size_t i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string got, store->Get(items[i].key));
    EXPECT_TRUE(got == values[i]) << items[i].key;
  }
  EXPECT_TRUE(TempFiles(root_).empty());
}

TEST_F(LocalObjectStoreTest, PutBatchFsyncErrorPublishesNothingOfThatChunk) {
  auto store = Open(&fault_env_);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Put("k/0/0", "old"));
  std::vector<std::string> values;
  std::vector<PutItem> items;
  MakeBatch(20, &values, &items);
  fault_env_.FailSync(5, EIO);
  Status s = store->PutBatch(items);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Keys(store.get()), std::vector<std::string>{"k/0/0"});
  ASSERT_OK_AND_ASSIGN(std::string old, store->Get("k/0/0"));
  EXPECT_EQ(old, "old");
  EXPECT_TRUE(TempFiles(root_).empty());
}

TEST_F(LocalObjectStoreTest, PutBatchSyncsTheFilesystemTwiceAndFsyncsNoDirectory) {
  SyncCountingEnv env;
  auto store = Open(&env);
  ASSERT_NE(store, nullptr);
  auto probe = Env::Default()->NewFilesystemSync(root_);
  if (!probe.ok()) GTEST_SKIP() << "no syncfs here: " << probe.status().ToString();
  std::vector<std::string> values;
  std::vector<PutItem> items;
  MakeBatch(500, &values, &items);
  ASSERT_OK(store->PutBatch(items));
  EXPECT_EQ(env.syncs.load(), 2);  // contents before the renames, renames after
  EXPECT_EQ(env.dir_syncs.load(), 0);
  EXPECT_EQ(env.renames.load(), 500);
  for (size_t i = 0; i < items.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(std::string got, store->Get(items[i].key));
    EXPECT_TRUE(got == values[i]) << items[i].key;
  }
}

TEST_F(LocalObjectStoreTest, PutBatchSyncfsFailurePublishesNothing) {
  SyncCountingEnv env;
  auto store = Open(&env);
  ASSERT_NE(store, nullptr);
  if (!Env::Default()->NewFilesystemSync(root_).ok()) GTEST_SKIP() << "no syncfs here";
  std::vector<std::string> values;
  std::vector<PutItem> items;
  MakeBatch(50, &values, &items);
  env.fail_sync = true;
  Status s = store->PutBatch(items);
  EXPECT_TRUE(s.Is(StatusCode::kIOError)) << s.ToString();
  EXPECT_EQ(env.renames.load(), 0);
  EXPECT_TRUE(Keys(store.get()).empty());
  EXPECT_TRUE(TempFiles(root_).empty());
}

TEST_F(LocalObjectStoreTest, BatchSyncFilesystemFalseFsyncsEachFileInstead) {
  SyncCountingEnv env;
  LocalObjectStoreOptions options;
  options.batch_sync_filesystem = false;
  auto store = Open(&env, options);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> values;
  std::vector<PutItem> items;
  MakeBatch(30, &values, &items);
  ASSERT_OK(store->PutBatch(items));
  EXPECT_EQ(env.syncs.load(), 0);
  // One fsync per touched directory (the five k/<n>, k, the root), not per object.
  EXPECT_LE(env.dir_syncs.load(), 7);
  EXPECT_EQ(Keys(store.get()).size(), 30u);
}

TEST_F(LocalObjectStoreTest, PutFileIsDurableAndAWriteErrorStoresNothing) {
  auto store = Open(&fault_env_);
  ASSERT_NE(store, nullptr);
  const std::string src = dir_.Sub("segment.bin");
  const std::string data = RandomBytes((3u << 20) + 11, 9);  // several 1 MiB appends
  ASSERT_OK(Env::Default()->WriteFileAtomic(src, data));
  ASSERT_OK(store->PutFile("seg/1", src));
  EXPECT_EQ(fault_env_.DurableSize(root_ + "/seg/1"), data.size());
  ASSERT_OK_AND_ASSIGN(std::string got, store->Get("seg/1"));
  EXPECT_TRUE(got == data);

  fault_env_.FailWrite(2, ENOSPC, FaultInjectionEnv::WriteFault::kShortWrite);
  Status s = store->PutFile("seg/2", src);
  EXPECT_TRUE(s.Is(StatusCode::kResourceExhausted)) << s.ToString();
  EXPECT_TRUE(store->Head("seg/2").status().IsNotFound());
  EXPECT_TRUE(TempFiles(root_).empty());
}

TEST_F(LocalObjectStoreTest, GetFileSyncErrorLeavesTheDestinationAlone) {
  auto store = Open(&fault_env_);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Put("obj", RandomBytes(100'000, 4)));
  const std::string dst = dir_.Sub("restored.bin");
  ASSERT_OK(Env::Default()->WriteFileAtomic(dst, "before"));
  fault_env_.FailSync(1, EIO);
  EXPECT_FALSE(store->GetFile("obj", dst).ok());
  EXPECT_EQ(ReadLocal(dst), "before");
  ASSERT_OK_AND_ASSIGN(auto names, Env::Default()->ListDir(dir_.path()));
  EXPECT_EQ(names, (std::vector<std::string>{"restored.bin", "store"}));
  ASSERT_OK(store->GetFile("obj", dst));
  ASSERT_OK(fault_env_.DropUnsyncedData());
  EXPECT_EQ(ReadLocal(dst).size(), 100'000u);
}

TEST_F(LocalObjectStoreTest, AppendFileContentsAfterExistingBytesAndIntoAppendModeFiles) {
  Env* env = Env::Default();
  const std::string src = dir_.Sub("src");
  const std::string data = RandomBytes((2u << 20) + 3, 5);
  ASSERT_OK(env->WriteFileAtomic(src, data));
  // copy_file_range after a plain write continues at the file offset.
  ASSERT_OK_AND_ASSIGN(auto f, env->NewWritableFile(dir_.Sub("a")));
  ASSERT_OK(f->Append("head:"));
  ASSERT_OK_AND_ASSIGN(uint64_t n, env->AppendFileContents(src, f.get()));
  EXPECT_EQ(n, data.size());
  EXPECT_EQ(f->Size(), data.size() + 5);
  ASSERT_OK(f->Append(":tail"));
  ASSERT_OK(f->Close());
  EXPECT_TRUE(ReadLocal(dir_.Sub("a")) == "head:" + data + ":tail");
  // O_APPEND files refuse copy_file_range (EBADF): the read/write fallback.
  ASSERT_OK(env->WriteFileAtomic(dir_.Sub("b"), "old:"));
  ASSERT_OK_AND_ASSIGN(auto g, env->NewAppendableFile(dir_.Sub("b")));
  ASSERT_OK_AND_ASSIGN(uint64_t m, env->AppendFileContents(src, g.get()));
  EXPECT_EQ(m, data.size());
  ASSERT_OK(g->Close());
  EXPECT_TRUE(ReadLocal(dir_.Sub("b")) == "old:" + data);
  // A missing source names its path.
  auto missing = env->AppendFileContents(dir_.Sub("nope"), f.get());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find(dir_.Sub("nope")), std::string::npos);
}

}  // namespace
}  // namespace ark::testing