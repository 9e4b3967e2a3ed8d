#include "storage/env.h"

#include <gtest/gtest.h>

#include "support/test_util.h"

namespace ark {
namespace {

TEST(PosixEnv, WriteAppendReadAndList) {
  testing::TempDir dir;
  Env* env = Env::Default();
  std::string p = dir.Sub("a.dat");
  {
    ASSERT_OK_AND_ASSIGN(auto f, env->NewWritableFile(p));
    ASSERT_OK(f->Append("hello "));
    ASSERT_OK(f->Sync());
    ASSERT_OK(f->Close());
  }
  {
    ASSERT_OK_AND_ASSIGN(auto f, env->NewAppendableFile(p));
    EXPECT_EQ(f->Size(), 6u);
    ASSERT_OK(f->Append("world"));
    ASSERT_OK(f->Close());
  }
  std::string got;
  ASSERT_OK(env->ReadFileToString(p, &got));
  EXPECT_EQ(got, "hello world");
  ASSERT_OK_AND_ASSIGN(auto raf, env->NewRandomAccessFile(p));
  char scratch[16];
  std::string_view part;
  ASSERT_OK(raf->Read(6, 16, &part, scratch));
  EXPECT_EQ(part, "world");
  ASSERT_OK_AND_ASSIGN(auto mapped, env->MapFile(p));
  EXPECT_EQ(mapped->data(), "hello world");
  ASSERT_OK_AND_ASSIGN(auto names, env->ListDir(dir.path()));
  EXPECT_EQ(names, std::vector<std::string>{"a.dat"});
}

TEST(PosixEnv, MissingFileIsNotFound) {
  testing::TempDir dir;
  auto r = Env::Default()->NewRandomAccessFile(dir.Sub("nope"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("nope"), std::string::npos);
}

TEST(PosixEnv, WriteFileAtomicReplacesWholeFile) {
  testing::TempDir dir;
  Env* env = Env::Default();
  std::string p = dir.Sub("CURRENT");
  ASSERT_OK(env->WriteFileAtomic(p, "MANIFEST-1"));
  ASSERT_OK(env->WriteFileAtomic(p, "MANIFEST-2"));
  std::string got;
  ASSERT_OK(env->ReadFileToString(p, &got));
  EXPECT_EQ(got, "MANIFEST-2");
  EXPECT_FALSE(env->FileExists(p + ".tmp"));
}

TEST(PosixEnv, SecondLockOnSameFileFails) {
  testing::TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK_AND_ASSIGN(auto lock, env->LockFile(dir.Sub("LOCK")));
  auto second = env->LockFile(dir.Sub("LOCK"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  lock.reset();
  EXPECT_TRUE(env->LockFile(dir.Sub("LOCK")).ok());
}

TEST(PosixEnv, CreateDirsAndRemoveAll) {
  testing::TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK(env->CreateDirs(dir.Sub("x/y/z")));
  ASSERT_OK(env->WriteFileAtomic(dir.Sub("x/y/z/f"), "1"));
  ASSERT_OK(env->RemoveAll(dir.Sub("x")));
  EXPECT_FALSE(env->FileExists(dir.Sub("x")));
  EXPECT_OK(env->RemoveAll(dir.Sub("x")));  // already gone: fine
}

TEST(PathHelpers, SplitAndJoin) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(BaseName("a/b/c"), "c");
}

}  // namespace
}  // namespace ark
