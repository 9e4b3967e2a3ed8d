#include "index/index_spec.h"

#include <gtest/gtest.h>

#include "index/vector_index.h"
#include "support/test_util.h"

namespace ark {
namespace {

using nlohmann::json;

// InvalidArgument whose message names `param`.
void ExpectInvalid(const Status& s, const std::string& param) {
  EXPECT_TRUE(s.Is(StatusCode::kInvalidArgument)) << s.ToString();
  EXPECT_NE(s.message().find(param), std::string::npos) << "message should name " << param << ": " << s.ToString();
}

TEST(IndexSpecTest, ParsesMilvusParams) {
  ASSERT_OK_AND_ASSIGN(IndexSpec hnsw, ParseIndexSpec("HNSW", "COSINE", 128, json{{"M", 32}, {"efConstruction", "300"}}));
  EXPECT_EQ(hnsw.type, IndexType::kHnsw);
  EXPECT_EQ(hnsw.metric, Metric::kCosine);
  EXPECT_EQ(hnsw.hnsw_m, 32u);
  EXPECT_EQ(hnsw.hnsw_ef_construction, 300u);  // numeric strings accepted, as in Milvus

  ASSERT_OK_AND_ASSIGN(IndexSpec pq, ParseIndexSpec("ivf_pq", "l2", 128, json{{"nlist", 64}, {"m", 16}, {"nbits", 8}}));
  EXPECT_EQ(pq.type, IndexType::kIvfPq);
  EXPECT_EQ(pq.nlist, 64u);
  EXPECT_EQ(pq.pq_m, 16u);

  ASSERT_OK_AND_ASSIGN(IndexSpec flat, ParseIndexSpec("FLAT", "IP", 8, json::object()));
  EXPECT_EQ(flat.type, IndexType::kFlat);
  EXPECT_EQ(flat.metric, Metric::kIp);
}

TEST(IndexSpecTest, AutoindexMapsToHnswDefaults) {
  ASSERT_OK_AND_ASSIGN(IndexSpec s, ParseIndexSpec("AUTOINDEX", "L2", 768, json::object()));
  EXPECT_EQ(s.type, IndexType::kHnsw);
  EXPECT_EQ(s.hnsw_m, kDefaultHnswM);
  EXPECT_EQ(s.hnsw_ef_construction, kDefaultHnswEfConstruction);
  ASSERT_OK_AND_ASSIGN(IndexSpec empty_type, ParseIndexSpec("", "", 4, nullptr));
  EXPECT_EQ(empty_type.type, IndexType::kHnsw);
  EXPECT_EQ(empty_type.metric, Metric::kCosine);
}

TEST(IndexSpecTest, BadParamsAreRejectedNamingTheParam) {
  ExpectInvalid(ParseIndexSpec("DISKANN", "L2", 8, {}).status(), "DISKANN");
  ExpectInvalid(ParseIndexSpec("HNSW", "HAMMING", 8, {}).status(), "HAMMING");
  ExpectInvalid(ParseIndexSpec("HNSW", "L2", 0, {}).status(), "dim");
  ExpectInvalid(ParseIndexSpec("HNSW", "L2", 8, json{{"M", 1}}).status(), "M");
  ExpectInvalid(ParseIndexSpec("HNSW", "L2", 8, json{{"M", "many"}}).status(), "M");
  ExpectInvalid(ParseIndexSpec("HNSW", "L2", 8, json{{"efConstruction", -5}}).status(), "efConstruction");
  ExpectInvalid(ParseIndexSpec("HNSW", "L2", 8, json{{"nlist", 5}}).status(), "nlist");  // not an HNSW param
  ExpectInvalid(ParseIndexSpec("IVF_FLAT", "L2", 8, json{{"nlist", 0}}).status(), "nlist");
  ExpectInvalid(ParseIndexSpec("IVF_PQ", "L2", 10, json{{"nlist", 4}}).status(), "m");
  ExpectInvalid(ParseIndexSpec("IVF_PQ", "L2", 10, json{{"nlist", 4}, {"m", 3}}).status(), "m");
  ExpectInvalid(ParseIndexSpec("IVF_PQ", "L2", 12, json{{"m", 3}, {"nbits", 20}}).status(), "nbits");
  ExpectInvalid(ParseIndexSpec("FLAT", "L2", 8, json::array()).status(), "params");
}

TEST(IndexSpecTest, RowDependentChecksHappenAtBuild) {
  std::vector<float> data(10 * 4, 1.0f);
  ASSERT_OK_AND_ASSIGN(IndexSpec ivf, ParseIndexSpec("IVF_FLAT", "L2", 4, json{{"nlist", 16}}));
  ExpectInvalid(VectorIndex::Build(ivf, data.data(), 10).status(), "nlist");
  ASSERT_OK_AND_ASSIGN(IndexSpec pq, ParseIndexSpec("IVF_PQ", "L2", 4, json{{"nlist", 2}, {"m", 2}, {"nbits", 8}}));
  ExpectInvalid(VectorIndex::Build(pq, data.data(), 10).status(), "nbits");
}

TEST(IndexSpecTest, SearchParams) {
  ASSERT_OK_AND_ASSIGN(SearchParams p, ParseSearchParams(json{{"ef", 128}, {"nprobe", "4"}, {"radius", 1.5}}));
  EXPECT_EQ(p.ef, 128u);
  EXPECT_EQ(p.nprobe, 4u);
  ExpectInvalid(ParseSearchParams(json{{"ef", 0}}).status(), "ef");
  ExpectInvalid(ParseSearchParams(json{{"nprobe", "x"}}).status(), "nprobe");
}

TEST(IndexSpecTest, JsonRoundTrip) {
  ASSERT_OK_AND_ASSIGN(IndexSpec s, ParseIndexSpec("IVF_PQ", "IP", 64, json{{"nlist", 32}, {"m", 8}}));
  json j = s.ToJson();
  ASSERT_OK_AND_ASSIGN(IndexSpec back, ParseIndexSpec(j["index_type"].get<std::string>(),
                                                      j["metric_type"].get<std::string>(), 64, j["params"]));
  EXPECT_EQ(back, s);
}

}  // namespace
}  // namespace ark
