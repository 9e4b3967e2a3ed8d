// URL -> backend resolution, configuration precedence, and local-backend
// specifics (root confinement, temp files).
#include <map>

#include "storage/local_object_store.h"
#include "storage/object_store_url.h"
#include "support/test_util.h"

namespace ark::testing {
namespace {

ObjectStoreConfig WithEnv(std::map<std::string, std::string> env) {
  ObjectStoreConfig c;
  c.getenv = [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return c;
}

TEST(ObjectStoreUrl, PathsAndFileUrlsAreLocal) {
  auto config = WithEnv({});
  ASSERT_OK_AND_ASSIGN(auto a, ResolveObjectStoreUrl("/data/repo", config));
  EXPECT_EQ(a.kind, ObjectStoreLocation::Kind::kLocal);
  EXPECT_EQ(a.local_root, "/data/repo");
  ASSERT_OK_AND_ASSIGN(auto b, ResolveObjectStoreUrl("file:///data/my%20repo", config));
  EXPECT_EQ(b.local_root, "/data/my repo");
  ASSERT_OK_AND_ASSIGN(auto c, ResolveObjectStoreUrl("relative/dir", config));
  EXPECT_EQ(c.local_root, "relative/dir");
}

TEST(ObjectStoreUrl, S3UrlTakesSettingsFromUrlThenConfigThenEnvironment) {
  auto config = WithEnv({{"AWS_ACCESS_KEY_ID", "AKENV"},
                         {"AWS_SECRET_ACCESS_KEY", "SECRETENV"},
                         {"AWS_SESSION_TOKEN", "TOKENENV"},
                         {"AWS_REGION", "ap-south-1"},
                         {"AWS_ENDPOINT_URL", "http://env-endpoint:9000"}});
  ASSERT_OK_AND_ASSIGN(auto a, ResolveObjectStoreUrl("s3://bucket/some/prefix/", config));
  EXPECT_EQ(a.kind, ObjectStoreLocation::Kind::kS3);
  EXPECT_EQ(a.s3.bucket, "bucket");
  EXPECT_EQ(a.s3.prefix, "some/prefix/");
  EXPECT_EQ(a.s3.region, "ap-south-1");
  EXPECT_EQ(a.s3.endpoint, "http://env-endpoint:9000");
  EXPECT_TRUE(a.s3.path_style);  // custom endpoint
  EXPECT_EQ(a.s3.credentials.access_key_id, "AKENV");
  EXPECT_EQ(a.s3.credentials.secret_access_key, "SECRETENV");
  EXPECT_EQ(a.s3.credentials.session_token, "TOKENENV");

  config.region = "us-west-2";
  config.credentials = {"AKCFG", "SECRETCFG", ""};
  ASSERT_OK_AND_ASSIGN(auto b, ResolveObjectStoreUrl(
                                   "s3://bucket?region=eu-north-1&path_style=false"
                                   "&endpoint=https%3A%2F%2Fs3.example.com&part_size=6MiB"
                                   "&parallel=8&conditional_put=false",
                                   config));
  EXPECT_EQ(b.s3.prefix, "");
  EXPECT_EQ(b.s3.region, "eu-north-1");
  EXPECT_EQ(b.s3.endpoint, "https://s3.example.com");
  EXPECT_FALSE(b.s3.path_style);
  EXPECT_EQ(b.s3.part_size, 6u << 20);
  EXPECT_EQ(b.s3.max_parallel_parts, 8);
  EXPECT_FALSE(b.s3.conditional_put);
  EXPECT_EQ(b.s3.credentials.access_key_id, "AKCFG");

  ASSERT_OK_AND_ASSIGN(auto aws, ResolveObjectStoreUrl("s3://bucket", WithEnv({})));
  EXPECT_EQ(aws.s3.region, "us-east-1");
  EXPECT_EQ(aws.s3.endpoint, "");
  EXPECT_FALSE(aws.s3.path_style);  // AWS: virtual-hosted
}

TEST(ObjectStoreUrl, MalformedUrlsAreInvalidArgumentNamingTheUrl) {
  auto config = WithEnv({});
  for (const std::string url :
       {"", "s3://", "s3:///prefix", "gs://bucket/x", "file://host/x", "s3://b/p?bogus=1",
        "s3://b/p?path_style=maybe", "s3://b/a/../c", "s3://b?endpoint=ftp://x",
        "s3://b?part_size=lots", "file:///bad%zzescape"}) {
    auto r = ResolveObjectStoreUrl(url, config);
    EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument)) << url << ": " << r.status().ToString();
    if (!url.empty()) {
      EXPECT_NE(r.status().message().find(url), std::string::npos) << r.status().message();
    }
  }
}

TEST(ObjectStoreUrl, CredentialsInUrlsAreRefusedAndRedacted) {
  auto config = WithEnv({});
  auto r = ResolveObjectStoreUrl("s3://AKID:TopSecret@bucket/x", config);
  EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument));
  EXPECT_EQ(r.status().message().find("TopSecret"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("AKID"), std::string::npos) << r.status().message();
  auto q = ResolveObjectStoreUrl("s3://bucket/x?secret_key=TopSecret", config);
  EXPECT_TRUE(q.status().Is(StatusCode::kInvalidArgument));
  EXPECT_EQ(RedactObjectStoreUrl("s3://a:b@host/x"), "s3://***@host/x");
}

TEST(ObjectStoreUrl, OpeningS3WithoutCredentialsNamesTheVariables) {
  auto r = OpenObjectStore("s3://bucket/x", WithEnv({}));
  EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument));
  EXPECT_NE(r.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(LocalObjectStore, KeysCannotEscapeTheRoot) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Open(dir.Sub("root")));
  for (const std::string key : {"../outside", "a/../../outside", "/etc/passwd", "..",
                                ".ark-tmp/x", ".ark-tmp", "a/.ark-tmp/b"}) {
    EXPECT_TRUE(store->Put(key, "x").Is(StatusCode::kInvalidArgument)) << key;
  }
  EXPECT_FALSE(Env::Default()->FileExists(dir.Sub("outside")));
  // Refused writes create nothing, not even the root.
  ASSERT_OK_AND_ASSIGN(auto names, Env::Default()->ListDir(dir.path()));
  EXPECT_TRUE(names.empty());
}

// Opening and reading write nothing: the root and its temp directory appear
// at the first write (a refused admin request or `ark backup list` of an
// empty path used to leave an empty .ark-tmp behind).
TEST(LocalObjectStore, OpeningAndReadingWriteNothing) {
  TempDir dir;
  const std::string root = dir.Sub("repo");
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Open(root));
  ASSERT_OK_AND_ASSIGN(auto all, store->ListAll(""));
  EXPECT_TRUE(all.empty());
  EXPECT_TRUE(store->Get("missing").status().IsNotFound());
  EXPECT_TRUE(store->Head("missing").status().IsNotFound());
  EXPECT_FALSE(Env::Default()->FileExists(root));

  ASSERT_OK(Env::Default()->CreateDirs(root));
  ASSERT_OK_AND_ASSIGN(auto again, LocalObjectStore::Open(root));
  ASSERT_OK_AND_ASSIGN(all, again->ListAll(""));
  ASSERT_OK_AND_ASSIGN(auto names, Env::Default()->ListDir(root));
  EXPECT_TRUE(names.empty());

  ASSERT_OK(again->Put("a/b", "x"));
  ASSERT_OK_AND_ASSIGN(auto got, again->Get("a/b"));
  EXPECT_EQ(got, "x");
  EXPECT_TRUE(Env::Default()->FileExists(root + "/.ark-tmp"));
}

TEST(LocalObjectStore, RootThatIsAFileIsRefusedAtOpen) {
  TempDir dir;
  ASSERT_OK(Env::Default()->WriteFileAtomic(dir.Sub("file"), "x"));
  auto store = LocalObjectStore::Open(dir.Sub("file"));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("not a directory"), std::string::npos) << store.status().ToString();
}

TEST(LocalObjectStore, LeftoverTempFilesAreNeverListed) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Open(dir.path()));
  // A crash mid-put leaves a temp file behind; it must stay invisible.
  ASSERT_OK(Env::Default()->CreateDirs(dir.Sub(".ark-tmp")));
  ASSERT_OK(Env::Default()->WriteFileAtomic(dir.Sub(".ark-tmp/crashed-put"), "partial"));
  ASSERT_OK(store->Put("real", "data"));
  ASSERT_OK_AND_ASSIGN(auto all, store->ListAll(""));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].key, "real");
}

TEST(LocalObjectStore, ObjectIsAFileUnderTheRootAndDeleteRemovesEmptyDirectories) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Open(dir.path()));
  ASSERT_OK(store->Put("x/y/z", "data"));
  std::string content;
  ASSERT_OK(Env::Default()->ReadFileToString(dir.Sub("x/y/z"), &content));
  EXPECT_EQ(content, "data");
  ASSERT_OK(store->Delete("x/y/z"));
  EXPECT_FALSE(Env::Default()->FileExists(dir.Sub("x")));
  // A key cannot be both an object and a directory of objects here.
  ASSERT_OK(store->Put("file", "1"));
  EXPECT_TRUE(store->Put("file/child", "2").Is(StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace ark::testing
