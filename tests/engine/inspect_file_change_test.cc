// `ark inspect wal` shows every manifest change with its file hashes: run the
// built binary on a database that sealed, built an index and compacted.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/database.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

std::string ArkBinary() {
  std::string path = ::ark::testing::BinaryDir() + "/ark";
  if (Env::Default()->FileExists(path)) return path;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return path;
  return DirName(std::string(self, static_cast<size_t>(n))) + "/ark";
}

std::string RunArk(const std::string& args, int* exit_code) {
  std::string out;
  FILE* p = ::popen((ArkBinary() + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(InspectFileChanges, EveryManifestChangeIsListedWithItsFileHashes) {
  if (!Env::Default()->FileExists(ArkBinary())) GTEST_SKIP() << "the ark binary is not built";
  testing::TempDir dir;
  DatabaseOptions options;
  options.auto_seal = false;
  options.index_build_threads = 0;
  options.seal_rows = 1000;
  Manifest last;
  {
    ASSERT_OK_AND_ASSIGN(auto db, Database::Open(Env::Default(), dir.path(), options));
    ASSERT_OK(db->Pin("keep-wal", {}, Position{1, 1}, 0));  // keep the whole history in wal/
    const CollectionSchema schema = testing::TestSchema(4);
    ASSERT_OK(db->CreateCollection("", "docs", schema).status());
    ASSERT_OK(db->CreateIndex("", "docs", "", "embedding", "FLAT", "L2", {}).status());
    for (int s = 0; s < 2; ++s) {
      ASSERT_OK(db->Insert("", "docs", testing::TestRows(schema, s * 10, 10)).status());
      ASSERT_OK(db->Flush("", "docs"));
    }
    while (db->RunIndexBuild()) {
    }
    ASSERT_OK(db->Compact("", "docs").status());
    last = db->CurrentManifest();
  }
  int code = -1;
  std::string out = RunArk("inspect wal --json " + dir.path() + "/wal", &code);
  ASSERT_EQ(code, 0) << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  std::vector<std::string> kinds;
  std::set<std::string> added;
  for (const auto& seg : j["segments"]) {
    for (const auto& r : seg["records"]) {
      if (r["op_name"] != "file_change") continue;
      kinds.push_back(r["file_change"]["kind"]);
      for (const auto& f : r["file_change"]["added"]) added.insert(f.get<std::string>());
    }
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"seal", "seal", "index", "index", "compact"}));
  // Every file the final manifest lists was announced by some record.
  for (const auto& f : last.LiveFiles()) EXPECT_TRUE(added.count(f)) << f;
  // The text form prints the hashes too.
  std::string text = RunArk("inspect wal " + dir.path() + "/wal", &code);
  ASSERT_EQ(code, 0) << text;
  for (const auto& f : last.LiveFiles()) EXPECT_NE(text.find("+ " + f), std::string::npos) << f;
}

}  // namespace
}  // namespace ark
