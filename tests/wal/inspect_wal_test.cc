// `ark inspect wal`: runs the built `ark` binary on real WAL files.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/coding.h"
#include "wal/wal_format.h"
#include "wal/wal_test_util.h"

namespace ark {
namespace {

using namespace wal_testing;

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// $ARK_TEST_BINARY_DIR (set by CTest), else the directory of this test binary.
std::string ArkBinary() {
  std::string path = ::ark::testing::BinaryDir() + "/ark";
  if (Env::Default()->FileExists(path)) return path;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return path;
  return DirName(std::string(self, static_cast<size_t>(n))) + "/ark";
}

RunResult RunArk(const std::string& args) {
  RunResult r;
  std::string cmd = ArkBinary() + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class InspectWalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Env::Default()->FileExists(ArkBinary())) {
      GTEST_SKIP() << "the ark binary is not built (looked for " << ArkBinary() << ")";
    }
    auto wal = Wal::Open(Env::Default(), dir_.Sub("wal"), {});
    ASSERT_TRUE(wal.ok());
    ASSERT_OK(AppendRecords(wal->get(), 5, 100, true));
    auto p = (*wal)->Append(WalOp::kDelete, 42, "gone");
    ASSERT_TRUE(p.ok());
    ASSERT_OK((*wal)->WaitDurable(*p));
    segment_ = (*wal)->SegmentFiles().back();
  }

  testing::TempDir dir_;
  std::string segment_;
};

TEST_F(InspectWalTest, PrintsHeaderAndOneLinePerRecord) {
  RunResult r = RunArk("inspect wal " + dir_.Sub("wal"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("segment " + segment_), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("epoch 1  first lsn 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1/6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("delete"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("collection 42"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Z  insert"), std::string::npos) << r.out;  // ISO-8601 UTC time
}

TEST_F(InspectWalTest, JsonListsRecords) {
  RunResult r = RunArk("inspect wal --json " + segment_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["segments"].size(), 1u);
  const auto& recs = j["segments"][0]["records"];
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs[5]["op_name"], "delete");
  EXPECT_EQ(recs[5]["collection_id"], 42);
  EXPECT_EQ(recs[5]["body_size"], 4);
  EXPECT_EQ(recs[0]["offset"], wal_format::kSegmentHeaderSize);
  EXPECT_TRUE(j["segments"][0]["torn_tail"].is_null());
}

TEST_F(InspectWalTest, CorruptionNamesFileAndOffsetAndFails) {
  auto offsets = RecordOffsets(segment_);
  std::string bytes = ReadAll(segment_);
  bytes[offsets[2] + wal_format::kFrameHeaderSize + 5] ^= 0x20;
  WriteAll(segment_, bytes);
  RunResult r = RunArk("inspect wal " + dir_.Sub("wal"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("Corruption"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(segment_ + " offset " + std::to_string(offsets[2])), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1/2"), std::string::npos) << r.out;  // records before it still shown

  RunResult j = RunArk("inspect wal --json " + dir_.Sub("wal"));
  EXPECT_EQ(j.exit_code, 1);
  auto json_start = j.out.find('{');
  ASSERT_NE(json_start, std::string::npos) << j.out;
  auto end = j.out.rfind('}');
  auto parsed = nlohmann::json::parse(j.out.substr(json_start, end - json_start + 1));
  EXPECT_EQ(parsed["error"]["code"], "Corruption");
}

TEST_F(InspectWalTest, TornTailIsReportedNotAnError) {
  std::string bytes = ReadAll(segment_);
  WriteAll(segment_, bytes.substr(0, bytes.size() - 3));
  RunResult r = RunArk("inspect wal " + segment_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("torn tail at offset"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ark
