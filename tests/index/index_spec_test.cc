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
  // HNSW_SQ (Milvus's names and values).
  ExpectInvalid(ParseIndexSpec("HNSW_SQ", "L2", 8, json{{"sq_type", "SQ4"}}).status(), "sq_type");
  ExpectInvalid(ParseIndexSpec("HNSW_SQ", "L2", 8, json{{"sq_type", 8}}).status(), "sq_type");
  ExpectInvalid(ParseIndexSpec("HNSW_SQ", "L2", 8, json{{"sq_type", "BF16"}}).status(), "BF16");
  ExpectInvalid(ParseIndexSpec("HNSW_SQ", "L2", 8, json{{"refine", "maybe"}}).status(), "refine");
  ExpectInvalid(ParseIndexSpec("HNSW_SQ", "L2", 8, json{{"refine", true}, {"refine_type", "SQ8"}}).status(),
                "refine_type");
  ExpectInvalid(ParseIndexSpec("HNSW_SQ", "L2", 8, json{{"refine_type", "FP32"}}).status(), "refine_type");
  ExpectInvalid(ParseIndexSpec("HNSW_SQ", "L2", 8, json{{"M", 1}}).status(), "M");
  ExpectInvalid(ParseIndexSpec("HNSW_SQ", "L2", 8, json{{"nlist", 5}}).status(), "nlist");
  ExpectInvalid(ParseIndexSpec("HNSW", "L2", 8, json{{"sq_type", "SQ8"}}).status(), "sq_type");  // HNSW_SQ only
}

TEST(IndexSpecTest, ParsesHnswSqParams) {
  ASSERT_OK_AND_ASSIGN(IndexSpec d, ParseIndexSpec("hnsw_sq", "COSINE", 8, nullptr));
  EXPECT_EQ(d.type, IndexType::kHnswSq);
  EXPECT_EQ(d.sq_type, SqType::kSq8);
  EXPECT_FALSE(d.refine);
  ASSERT_OK_AND_ASSIGN(IndexSpec s, ParseIndexSpec("HNSW_SQ", "L2", 8,
                                                   json{{"M", "24"}, {"efConstruction", 100}, {"sq_type", "fp16"},
                                                        {"refine", "true"}, {"refine_type", "FP32"}}));
  EXPECT_EQ(s.hnsw_m, 24u);
  EXPECT_EQ(s.hnsw_ef_construction, 100u);
  EXPECT_EQ(s.sq_type, SqType::kFp16);
  EXPECT_TRUE(s.refine);
  EXPECT_EQ(s.refine_type, RefineType::kFp32);
  ASSERT_OK_AND_ASSIGN(IndexSpec sq6, ParseIndexSpec("HNSW_SQ", "IP", 8, json{{"sq_type", "SQ6"}, {"refine", false}}));
  EXPECT_EQ(sq6.sq_type, SqType::kSq6);
  EXPECT_FALSE(sq6.refine);
}

TEST(IndexSpecTest, RowDependentChecksHappenAtBuild) {
  std::vector<float> data(10 * 4, 1.0f);
  ASSERT_OK_AND_ASSIGN(IndexSpec ivf, ParseIndexSpec("IVF_FLAT", "L2", 4, json{{"nlist", 16}}));
  ExpectInvalid(VectorIndex::Build(ivf, data.data(), 10).status(), "nlist");
  ASSERT_OK_AND_ASSIGN(IndexSpec pq, ParseIndexSpec("IVF_PQ", "L2", 4, json{{"nlist", 2}, {"m", 2}, {"nbits", 8}}));
  ExpectInvalid(VectorIndex::Build(pq, data.data(), 10).status(), "nbits");
}

TEST(IndexSpecTest, SearchParams) {
  ASSERT_OK_AND_ASSIGN(SearchParams p, ParseSearchParams(json{{"ef", 128}, {"nprobe", "4"}, {"level", 1}}));
  EXPECT_EQ(p.ef, 128u);
  EXPECT_EQ(p.nprobe, 4u);
  ExpectInvalid(ParseSearchParams(json{{"ef", 0}}).status(), "ef");
  // Range search is refused by name, not answered as a plain top-k.
  ExpectInvalid(ParseSearchParams(json{{"ef", 64}, {"radius", 1.5}}).status(), "radius");
  ExpectInvalid(ParseSearchParams(json{{"range_filter", 0.2}}).status(), "range_filter");
  ExpectInvalid(ParseSearchParams(json{{"nprobe", "x"}}).status(), "nprobe");
  ASSERT_OK_AND_ASSIGN(SearchParams r, ParseSearchParams(json{{"ef", 64}, {"refine_k", 2.5}}));
  EXPECT_EQ(r.refine_k, 2.5);
  ASSERT_OK_AND_ASSIGN(SearchParams rs, ParseSearchParams(json{{"refine_k", "3"}}));
  EXPECT_EQ(rs.refine_k, 3.0);
  ExpectInvalid(ParseSearchParams(json{{"refine_k", 0.5}}).status(), "refine_k");
  ExpectInvalid(ParseSearchParams(json{{"refine_k", "lots"}}).status(), "refine_k");
}

TEST(IndexSpecTest, JsonRoundTrip) {
  ASSERT_OK_AND_ASSIGN(IndexSpec s, ParseIndexSpec("IVF_PQ", "IP", 64, json{{"nlist", 32}, {"m", 8}}));
  json j = s.ToJson();
  ASSERT_OK_AND_ASSIGN(IndexSpec back, ParseIndexSpec(j["index_type"].get<std::string>(),
                                                      j["metric_type"].get<std::string>(), 64, j["params"]));
  EXPECT_EQ(back, s);
  for (bool refine : {false, true}) {
    ASSERT_OK_AND_ASSIGN(IndexSpec sq, ParseIndexSpec("HNSW_SQ", "COSINE", 64,
                                                      json{{"M", 8}, {"sq_type", "FP16"}, {"refine", refine}}));
    json js = sq.ToJson();
    EXPECT_EQ(js["index_type"], "HNSW_SQ");
    EXPECT_EQ(js["params"]["sq_type"], "FP16");
    EXPECT_EQ(js["params"]["refine"], refine);
    ASSERT_OK_AND_ASSIGN(IndexSpec sq_back, ParseIndexSpec(js["index_type"].get<std::string>(),
                                                           js["metric_type"].get<std::string>(), 64, js["params"]));
    EXPECT_EQ(sq_back, sq);
  }
}

}  // namespace
}  // namespace ark
