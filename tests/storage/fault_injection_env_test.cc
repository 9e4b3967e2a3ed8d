#include "storage/fault_injection_env.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

#include "support/test_util.h"

namespace ark {
namespace {

std::string Read(Env* env, const std::string& path) {
  std::string s;
  Status st = env->ReadFileToString(path, &s);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
};

TEST_F(FaultInjectionEnvTest, DropUnsyncedDataKeepsSyncedPrefix) {
  std::string p = dir_.Sub("a");
  ASSERT_OK_AND_ASSIGN(auto f, env_.NewWritableFile(p));
  ASSERT_OK(env_.SyncDir(dir_.path()));
  ASSERT_OK(f->Append("synced"));
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->Append("-lost"));
  EXPECT_EQ(Read(&env_, p), "synced-lost");
  EXPECT_EQ(env_.DurableSize(p), 6u);
  ASSERT_OK(env_.DropUnsyncedData());
  EXPECT_EQ(Read(&env_, p), "synced");
}

TEST_F(FaultInjectionEnvTest, NewFileWithoutDirSyncDisappears) {
  std::string p = dir_.Sub("new");
  ASSERT_OK_AND_ASSIGN(auto f, env_.NewWritableFile(p));
  ASSERT_OK(f->Append("data"));
  ASSERT_OK(f->Sync());
  EXPECT_EQ(env_.DurableSize(p), 0u);
  ASSERT_OK(env_.DropUnsyncedData());
  EXPECT_FALSE(env_.FileExists(p));
}

TEST_F(FaultInjectionEnvTest, ExistingFileOpenedForAppendCountsAsSynced) {
  std::string p = dir_.Sub("old");
  ASSERT_OK(Env::Default()->WriteFileAtomic(p, "before"));
  ASSERT_OK_AND_ASSIGN(auto f, env_.NewAppendableFile(p));
  ASSERT_OK(f->Append("+after"));
  ASSERT_OK(env_.DropUnsyncedData());
  EXPECT_EQ(Read(&env_, p), "before");
}

TEST_F(FaultInjectionEnvTest, UnsyncedRenameIsUndoneAndReplacedFileRestored) {
  std::string target = dir_.Sub("CURRENT");
  ASSERT_OK(Env::Default()->WriteFileAtomic(target, "v1"));
  std::string tmp = target + ".tmp";
  {
    ASSERT_OK_AND_ASSIGN(auto f, env_.NewWritableFile(tmp));
    ASSERT_OK(f->Append("v2"));
    ASSERT_OK(f->Fsync());
    ASSERT_OK(f->Close());
  }
  ASSERT_OK(env_.RenameFile(tmp, target));
  EXPECT_EQ(Read(&env_, target), "v2");
  ASSERT_OK(env_.DropUnsyncedData());
  EXPECT_EQ(Read(&env_, target), "v1");
  EXPECT_FALSE(env_.FileExists(tmp));  // created, never dir-synced
}

TEST_F(FaultInjectionEnvTest, WriteFileAtomicSurvivesDrop) {
  std::string target = dir_.Sub("CURRENT");
  ASSERT_OK(env_.WriteFileAtomic(target, "v1"));
  ASSERT_OK(env_.WriteFileAtomic(target, "v2"));
  ASSERT_OK(env_.DropUnsyncedData());
  EXPECT_EQ(Read(&env_, target), "v2");
}

TEST_F(FaultInjectionEnvTest, FailsNthWriteWithChosenErrno) {
  ASSERT_OK_AND_ASSIGN(auto f, env_.NewWritableFile(dir_.Sub("w")));
  env_.FailWrite(2, ENOSPC);
  ASSERT_OK(f->Append("one"));
  Status s = f->Append("two");
  EXPECT_TRUE(s.Is(StatusCode::kResourceExhausted)) << s.ToString();
  EXPECT_NE(s.message().find("No space left"), std::string::npos);
  ASSERT_OK(f->Append("three"));  // one-shot
  EXPECT_EQ(Read(&env_, dir_.Sub("w")), "onethree");

  env_.FailWrite(1, EIO);
  EXPECT_TRUE(f->Append("x").Is(StatusCode::kIOError));
}

TEST_F(FaultInjectionEnvTest, ShortWriteWritesHalfAndFails) {
  ASSERT_OK_AND_ASSIGN(auto f, env_.NewWritableFile(dir_.Sub("w")));
  env_.FailWrite(1, EIO, FaultInjectionEnv::WriteFault::kShortWrite);
  EXPECT_TRUE(f->Append("abcdefgh").Is(StatusCode::kIOError));
  EXPECT_EQ(Read(&env_, dir_.Sub("w")), "abcd");
  EXPECT_EQ(f->Size(), 4u);
}

TEST_F(FaultInjectionEnvTest, TornWriteReportsSuccessButLosesSecondHalfOnCrash) {
  std::string p = dir_.Sub("w");
  ASSERT_OK_AND_ASSIGN(auto f, env_.NewWritableFile(p));
  ASSERT_OK(env_.SyncDir(dir_.path()));
  ASSERT_OK(f->Append("0123"));
  env_.FailWrite(1, EIO, FaultInjectionEnv::WriteFault::kTornWrite);
  ASSERT_OK(f->Append("abcdefgh"));
  ASSERT_OK(f->Sync());
  EXPECT_EQ(Read(&env_, p), "0123abcdefgh");
  ASSERT_OK(env_.DropUnsyncedData());
  EXPECT_EQ(Read(&env_, p), "0123abcd");
}

TEST_F(FaultInjectionEnvTest, FailsNthSyncAndKeepsDataUnsynced) {
  std::string p = dir_.Sub("s");
  ASSERT_OK_AND_ASSIGN(auto f, env_.NewWritableFile(p));
  ASSERT_OK(env_.SyncDir(dir_.path()));
  ASSERT_OK(f->Append("abc"));
  env_.FailSync(1, EIO);
  Status s = f->Sync();
  EXPECT_TRUE(s.Is(StatusCode::kIOError)) << s.ToString();
  EXPECT_EQ(env_.DurableSize(p), 0u);
  ASSERT_OK(env_.DropUnsyncedData());
  EXPECT_EQ(Read(&env_, p), "");
}

TEST_F(FaultInjectionEnvTest, InactiveFilesystemRefusesChanges) {
  ASSERT_OK_AND_ASSIGN(auto f, env_.NewWritableFile(dir_.Sub("x")));
  env_.SetFilesystemActive(false);
  EXPECT_FALSE(f->Append("a").ok());
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_FALSE(env_.NewWritableFile(dir_.Sub("y")).ok());
  EXPECT_FALSE(env_.RenameFile(dir_.Sub("x"), dir_.Sub("z")).ok());
  env_.SetFilesystemActive(true);
  ASSERT_OK(f->Append("a"));
}

TEST_F(FaultInjectionEnvTest, RandomDropKeepsSyncedBytesAndAPrefixOfTheRest) {
  std::string p = dir_.Sub("r");
  bool saw_partial = false, saw_zeros = false;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    ASSERT_OK_AND_ASSIGN(auto f, env_.NewWritableFile(p));
    ASSERT_OK(env_.SyncDir(dir_.path()));
    ASSERT_OK(f->Append("SYNCED"));
    ASSERT_OK(f->Sync());
    ASSERT_OK(f->Append("abcdefghij"));
    ASSERT_OK(env_.DropUnsyncedDataRandomly(seed));
    std::string got = Read(&env_, p);
    ASSERT_GE(got.size(), 6u);
    ASSERT_LE(got.size(), 16u);
    EXPECT_EQ(got.substr(0, 6), "SYNCED");
    std::string tail = got.substr(6);
    if (!tail.empty() && tail == std::string(tail.size(), '\0')) {
      saw_zeros = true;
    } else {
      EXPECT_EQ(tail, std::string("abcdefghij").substr(0, tail.size()));
    }
    if (got.size() > 6 && got.size() < 16) saw_partial = true;
    EXPECT_EQ(env_.DurableSize(p), got.size());
  }
  EXPECT_TRUE(saw_partial);
  EXPECT_TRUE(saw_zeros);
}

TEST_F(FaultInjectionEnvTest, ConcurrentAppendsAreCounted) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto f = env_.NewWritableFile(dir_.Sub("t" + std::to_string(t)));
      ASSERT_TRUE(f.ok());
      for (int i = 0; i < 100; ++i) ASSERT_TRUE((*f)->Append("x").ok());
      ASSERT_TRUE((*f)->Sync().ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(env_.write_count(), 400u);
  EXPECT_EQ(env_.sync_count(), 4u);
}

}  // namespace
}  // namespace ark
