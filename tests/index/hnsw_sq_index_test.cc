// HNSW_SQ: recall against exact search with and without refine, exact
// distances after refine, filtering, memory against float HNSW, and the
// index file (version 2, checks on a lying payload).
#include <cmath>
#include <memory>

#include <faiss/IndexHNSW.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <gtest/gtest.h>

#include "core/coding.h"
#include "core/hash.h"
#include "index/index_format.h"
#include "index/test_data.h"
#include "index/vector_index.h"
#include "support/test_util.h"

namespace ark {
namespace {

using testing::ClusteredData;
using testing::ExactTopK;
using testing::Recall;

constexpr uint64_t kRows = 3000;
constexpr uint32_t kDim = 64;
constexpr size_t kQueries = 40;
constexpr size_t kK = 10;

IndexSpec SqSpec(Metric metric, SqType sq, bool refine) {
  IndexSpec s;
  s.type = IndexType::kHnswSq;
  s.metric = metric;
  s.dim = kDim;
  s.hnsw_m = 12;
  s.hnsw_ef_construction = 100;
  s.sq_type = sq;
  s.refine = refine;
  return s;
}

class HnswSqTest : public ::testing::TestWithParam<Metric> {
 protected:
  std::vector<float> data_ = ClusteredData(kRows, kDim, 30, 21);
  std::vector<float> queries_ = ClusteredData(kQueries, kDim, 30, 22);
};

TEST_P(HnswSqTest, RecallAndExactDistancesWithRefine) {
  const Metric metric = GetParam();
  testing::Truth truth = ExactTopK(metric, data_, kDim, queries_, kK);
  SearchParams params;
  params.ef = 64;

  // The float HNSW graph on the same data: HNSW_SQ is the same graph with codes.
  IndexSpec float_spec = SqSpec(metric, SqType::kSq8, false);
  float_spec.type = IndexType::kHnsw;
  ASSERT_OK_AND_ASSIGN(auto flt, VectorIndex::Build(float_spec, data_.data(), kRows));
  ASSERT_OK_AND_ASSIGN(SearchResult float_result, flt->Search(queries_.data(), kQueries, kK, params));
  const double float_recall = Recall(float_result, truth);

  ASSERT_OK_AND_ASSIGN(auto plain, VectorIndex::Build(SqSpec(metric, SqType::kSq8, false), data_.data(), kRows));
  ASSERT_OK_AND_ASSIGN(SearchResult approx, plain->Search(queries_.data(), kQueries, kK, params));
  const double approx_recall = Recall(approx, truth);
  // Measured (ASan build): L2 float 0.955 / SQ8 0.930, IP 0.752 / 0.733,
  // COSINE 0.882 / 0.855; this data is hard for any graph.
  EXPECT_GE(approx_recall, float_recall - 0.06) << MetricName(metric);

  // Single-threaded builds: all three indexes walk the same graph.
  ASSERT_OK_AND_ASSIGN(auto refined, VectorIndex::Build(SqSpec(metric, SqType::kSq8, true), data_.data(), kRows));
  params.raw_vectors = data_.data();
  params.refine_k = 3;
  ASSERT_OK_AND_ASSIGN(SearchResult exact, refined->Search(queries_.data(), kQueries, kK, params));
  const double refined_recall = Recall(exact, truth);
  EXPECT_GE(refined_recall, float_recall - 0.03) << MetricName(metric);
  EXPECT_GE(refined_recall, approx_recall - 0.005) << MetricName(metric);
  EXPECT_GE(refined_recall, 0.7) << MetricName(metric);
  // Refined distances are computed from the raw vectors: exact scores, in order.
  for (size_t q = 0; q < kQueries; ++q) {
    for (size_t i = 0; i < kK; ++i) {
      const int64_t id = exact.id(q, i);
      ASSERT_GE(id, 0);
      const double want = testing::Score(metric, &queries_[q * kDim], &data_[id * kDim], kDim);
      EXPECT_NEAR(exact.distance(q, i), want, 1e-3 * std::max(1.0, std::abs(want))) << q << " " << i;
      if (i > 0) {
        if (metric == Metric::kL2) {
          EXPECT_LE(exact.distance(q, i - 1), exact.distance(q, i));
        } else {
          EXPECT_GE(exact.distance(q, i - 1), exact.distance(q, i));
        }
      }
    }
  }
}

TEST_P(HnswSqTest, FilteredSearchReturnsOnlyAllowedRows) {
  const Metric metric = GetParam();
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(SqSpec(metric, SqType::kSq8, true), data_.data(), kRows));
  SearchParams params;
  params.raw_vectors = data_.data();
  params.refine_k = 2;
  for (uint64_t every : {2, 50}) {  // 50% (graph walk) and 2% (scan of the allowed codes)
    RowBitmap allowed(kRows);
    for (uint64_t i = 0; i < kRows; i += every) allowed.Set(i);
    FilterBitmap view = allowed.view();
    ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(queries_.data(), kQueries, kK, params, &view));
    for (size_t q = 0; q < kQueries; ++q) {
      ASSERT_EQ(r.Count(q), kK);
      for (size_t i = 0; i < kK; ++i) EXPECT_TRUE(allowed.Test(static_cast<uint64_t>(r.id(q, i))));
    }
    EXPECT_GE(Recall(r, ExactTopK(metric, data_, kDim, queries_, kK, &allowed)), 0.95) << "every " << every;
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, HnswSqTest, ::testing::Values(Metric::kL2, Metric::kIp, Metric::kCosine),
                         [](const auto& info) { return std::string(MetricName(info.param)); });

TEST(HnswSqIndexTest, Fp16AndSq6KeepRecall) {
  auto data = ClusteredData(kRows, kDim, 30, 31);
  auto queries = ClusteredData(kQueries, kDim, 30, 32);
  testing::Truth truth = ExactTopK(Metric::kL2, data, kDim, queries, kK);
  SearchParams params;
  params.ef = 64;
  IndexSpec float_spec = SqSpec(Metric::kL2, SqType::kSq8, false);
  float_spec.type = IndexType::kHnsw;
  ASSERT_OK_AND_ASSIGN(auto flt, VectorIndex::Build(float_spec, data.data(), kRows));
  ASSERT_OK_AND_ASSIGN(SearchResult float_result, flt->Search(queries.data(), kQueries, kK, params));
  const double float_recall = Recall(float_result, truth);
  // FP16 is nearly lossless on the same graph; SQ6 loses more.
  for (auto [sq, slack] : {std::pair{SqType::kFp16, 0.01}, std::pair{SqType::kSq6, 0.12}}) {
    ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(SqSpec(Metric::kL2, sq, false), data.data(), kRows));
    ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(queries.data(), kQueries, kK, params));
    EXPECT_GE(Recall(r, truth), float_recall - slack) << SqTypeName(sq);
  }
}

TEST(HnswSqIndexTest, UsesAFractionOfFloatHnswMemory) {
  constexpr uint32_t dim = 256;
  auto data = ClusteredData(1000, dim, 10, 41);
  IndexSpec spec = SqSpec(Metric::kL2, SqType::kSq8, true);
  spec.dim = dim;
  ASSERT_OK_AND_ASSIGN(auto sq, VectorIndex::Build(spec, data.data(), 1000));
  spec.type = IndexType::kHnsw;
  ASSERT_OK_AND_ASSIGN(auto flt, VectorIndex::Build(spec, data.data(), 1000));
  // Codes are dim bytes instead of 4*dim; the links are the same size.
  EXPECT_LT(sq->MemoryBytes(), flt->MemoryBytes() / 2);
  EXPECT_GE(sq->MemoryBytes(), 1000 * dim);
}

TEST(HnswSqIndexTest, IsAVersion2FileAndOlderTypesStayVersion1) {
  auto data = ClusteredData(200, 8, 4, 51);
  IndexSpec spec = SqSpec(Metric::kCosine, SqType::kFp16, true);
  spec.dim = 8;
  ASSERT_OK_AND_ASSIGN(auto sq, VectorIndex::Build(spec, data.data(), 200));
  ASSERT_OK_AND_ASSIGN(std::string bytes, sq->Serialize());
  EXPECT_EQ(DecodeFixed32(bytes.data() + kIndexOffsetVersion), 2u);
  ASSERT_OK_AND_ASSIGN(auto loaded, VectorIndex::Load(bytes, "sq.idx"));
  EXPECT_EQ(loaded->spec(), spec);

  // The same header claiming version 1 (which had no HNSW_SQ) is refused.
  std::string v1 = bytes;
  EncodeFixed32(v1.data() + kIndexOffsetVersion, 1);
  EncodeFixed64(v1.data() + kIndexOffsetHeaderChecksum, Xxh3_64(v1.data(), kIndexOffsetHeaderChecksum));
  auto r = VectorIndex::Load(v1, "v1.idx");
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();

  spec.type = IndexType::kHnsw;
  ASSERT_OK_AND_ASSIGN(auto hnsw, VectorIndex::Build(spec, data.data(), 200));
  ASSERT_OK_AND_ASSIGN(std::string old_bytes, hnsw->Serialize());
  EXPECT_EQ(DecodeFixed32(old_bytes.data() + kIndexOffsetVersion), 1u);
  EXPECT_EQ(DecodeFixed32(old_bytes.data() + kIndexOffsetSqParams), 0u);
}

// HNSW_SQ's own SQ8 kernel must give FAISS's SQ8 distances: the approximate
// (unrefined) distances it returns are compared with FAISS's distance
// computer over the same codes.
TEST(HnswSqIndexTest, Sq8DistancesEqualFaissDistances) {
  auto data = ClusteredData(kRows, kDim, 30, 71);
  auto queries = ClusteredData(5, kDim, 30, 72);
  for (Metric metric : {Metric::kL2, Metric::kIp}) {
    ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Build(SqSpec(metric, SqType::kSq8, false), data.data(), kRows));
    ASSERT_OK_AND_ASSIGN(SearchResult r, index->Search(queries.data(), 5, kK, SearchParams{}));
    ASSERT_OK_AND_ASSIGN(std::string bytes, index->Serialize());
    faiss::VectorIOReader reader;
    reader.data.assign(bytes.begin() + kIndexHeaderSize, bytes.end());
    std::unique_ptr<faiss::Index> raw(faiss::read_index(&reader));
    std::unique_ptr<faiss::DistanceComputer> dc(dynamic_cast<faiss::IndexHNSW&>(*raw).storage->get_distance_computer());
    for (size_t q = 0; q < 5; ++q) {
      dc->set_query(&queries[q * kDim]);
      for (size_t i = 0; i < kK; ++i) {
        ASSERT_GE(r.id(q, i), 0);
        const float want = (*dc)(r.id(q, i));
        EXPECT_NEAR(r.distance(q, i), want, 1e-4 * std::max(1.0f, std::abs(want))) << MetricName(metric);
      }
    }
  }
}

// A payload with valid checksums whose graph names a row outside the index
// must not load (a search would read past the codes).
TEST(HnswSqIndexTest, LyingPayloadIsCorruption) {
  auto data = ClusteredData(300, 8, 4, 61);
  IndexSpec spec = SqSpec(Metric::kL2, SqType::kSq8, false);
  spec.dim = 8;
  ASSERT_OK_AND_ASSIGN(auto sq, VectorIndex::Build(spec, data.data(), 300));
  ASSERT_OK_AND_ASSIGN(std::string bytes, sq->Serialize());
  auto rewrap = [&](int bad_link, int bad_entry) {
    faiss::VectorIOReader reader;
    reader.data.assign(bytes.begin() + kIndexHeaderSize, bytes.end());
    std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
    auto& h = dynamic_cast<faiss::IndexHNSW&>(*index).hnsw;
    if (bad_link != 0) h.neighbors[0] = bad_link;
    if (bad_entry != 0) h.entry_point = bad_entry;
    faiss::VectorIOWriter writer;
    faiss::write_index(index.get(), &writer);
    std::string out = bytes.substr(0, kIndexHeaderSize);
    out.append(reinterpret_cast<const char*>(writer.data.data()), writer.data.size());
    EncodeFixed64(out.data() + kIndexOffsetPayloadSize, writer.data.size());
    EncodeFixed64(out.data() + kIndexOffsetPayloadChecksum, Xxh3_64(out.data() + kIndexHeaderSize, writer.data.size()));
    EncodeFixed64(out.data() + kIndexOffsetHeaderChecksum, Xxh3_64(out.data(), kIndexOffsetHeaderChecksum));
    return out;
  };
  ASSERT_OK(VectorIndex::Load(rewrap(0, 0), "same.idx").status());
  for (auto [link, entry] : {std::pair{300, 0}, std::pair{-7, 0}, std::pair{0, 299 + 1000}}) {
    auto r = VectorIndex::Load(rewrap(link, entry), "lying.idx");
    EXPECT_TRUE(r.status().IsCorruption()) << link << " " << entry << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find("lying.idx"), std::string::npos);
  }
}

}  // namespace
}  // namespace ark
