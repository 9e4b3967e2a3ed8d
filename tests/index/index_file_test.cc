#include "index/index_file.h"

#include <gtest/gtest.h>

#include "core/coding.h"
#include "core/hash.h"
#include "index/index_format.h"
#include "index/test_data.h"
#include "support/test_util.h"

namespace ark {
namespace {

using testing::ClusteredData;

constexpr uint64_t kRows = 400;
constexpr uint32_t kDim = 16;

IndexSpec Spec(IndexType type, Metric metric) {
  IndexSpec s;
  s.type = type;
  s.metric = metric;
  s.dim = kDim;
  s.nlist = 8;
  s.pq_m = 4;
  s.pq_nbits = 4;
  return s;
}

class IndexFileTest : public ::testing::TestWithParam<IndexType> {};

TEST_P(IndexFileTest, SaveLoadGivesIdenticalResults) {
  auto data = ClusteredData(kRows, kDim, 8, 11);
  auto queries = ClusteredData(16, kDim, 8, 12);
  RowBitmap allowed(kRows);
  for (uint64_t i = 0; i < kRows; i += 4) allowed.Set(i);
  FilterBitmap view = allowed.view();
  SearchParams params;
  params.ef = 20;
  params.nprobe = 2;
  for (Metric metric : {Metric::kL2, Metric::kCosine}) {
    ASSERT_OK_AND_ASSIGN(auto built, VectorIndex::Build(Spec(GetParam(), metric), data.data(), kRows,
                                                        BuildOptions{.threads = 2}));
    ASSERT_OK_AND_ASSIGN(std::string bytes, built->Serialize());
    testing::TempDir dir;
    std::string path = dir.Sub(IndexFileName(bytes));
    ASSERT_OK(WriteIndexFile(Env::Default(), path, bytes));
    EXPECT_FALSE(Env::Default()->FileExists(path + ".tmp"));
    ASSERT_OK_AND_ASSIGN(auto loaded, ReadIndexFile(Env::Default(), path));
    EXPECT_EQ(loaded->spec(), built->spec());
    EXPECT_EQ(loaded->num_rows(), kRows);
    for (const FilterBitmap* filter : {static_cast<const FilterBitmap*>(nullptr), static_cast<const FilterBitmap*>(&view)}) {
      ASSERT_OK_AND_ASSIGN(SearchResult a, built->Search(queries.data(), 16, 10, params, filter));
      ASSERT_OK_AND_ASSIGN(SearchResult b, loaded->Search(queries.data(), 16, 10, params, filter));
      EXPECT_EQ(a.ids, b.ids);
      EXPECT_EQ(a.distances, b.distances);
    }
    // Serialization is deterministic, so the content address is stable.
    ASSERT_OK_AND_ASSIGN(std::string again, loaded->Serialize());
    EXPECT_EQ(again, bytes);
  }
}

TEST_P(IndexFileTest, AnyCorruptByteIsDetectedAndNamesTheFile) {
  auto data = ClusteredData(kRows, kDim, 8, 13);
  ASSERT_OK_AND_ASSIGN(auto built, VectorIndex::Build(Spec(GetParam(), Metric::kIp), data.data(), kRows));
  ASSERT_OK_AND_ASSIGN(std::string bytes, built->Serialize());
  testing::TempDir dir;
  std::string path = dir.Sub("index.idx");
  // Header fields, the checksums, and bytes spread over the payload.
  std::vector<size_t> offsets = {0, 8, 16, 20, 24, 40, 56, 64, 72, 80, 81, bytes.size() / 2, bytes.size() - 1};
  for (size_t offset : offsets) {
    std::string bad = bytes;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x5a);
    ASSERT_OK(WriteIndexFile(Env::Default(), path, bad));
    auto r = ReadIndexFile(Env::Default(), path);
    ASSERT_FALSE(r.ok()) << "corrupt byte at " << offset << " not detected";
    EXPECT_TRUE(r.status().IsCorruption()) << offset << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().ToString();
  }
  for (size_t size : {size_t{0}, size_t{50}, bytes.size() - 1}) {
    ASSERT_OK(WriteIndexFile(Env::Default(), path, std::string_view(bytes).substr(0, size)));
    auto r = ReadIndexFile(Env::Default(), path);
    EXPECT_TRUE(r.status().IsCorruption()) << "truncated to " << size << ": " << r.status().ToString();
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, IndexFileTest,
                         ::testing::Values(IndexType::kFlat, IndexType::kHnsw, IndexType::kIvfFlat,
                                           IndexType::kIvfSq8, IndexType::kIvfPq, IndexType::kHnswSq),
                         [](const auto& info) { return std::string(IndexTypeName(info.param)); });

TEST(IndexFileFormatTest, NewerVersionIsNotSupported) {
  std::vector<float> data = {1, 2, 3, 4};
  IndexSpec spec = Spec(IndexType::kFlat, Metric::kL2);
  spec.dim = 2;
  ASSERT_OK_AND_ASSIGN(auto built, VectorIndex::Build(spec, data.data(), 2));
  ASSERT_OK_AND_ASSIGN(std::string bytes, built->Serialize());
  ASSERT_EQ(bytes.substr(0, 8), "ARKINDEX");
  EncodeFixed32(bytes.data() + kIndexOffsetVersion, kIndexFormatVersion + 1);
  EncodeFixed64(bytes.data() + kIndexOffsetHeaderChecksum, Xxh3_64(bytes.data(), kIndexOffsetHeaderChecksum));
  auto r = VectorIndex::Load(bytes, "v2.idx");
  EXPECT_TRUE(r.status().Is(StatusCode::kNotSupported)) << r.status().ToString();
}

TEST(IndexFileFormatTest, MissingFileIsNotFound) {
  testing::TempDir dir;
  auto r = ReadIndexFile(Env::Default(), dir.Sub("nope.idx"));
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
}

}  // namespace
}  // namespace ark
