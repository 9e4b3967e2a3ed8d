// A FAISS payload whose checksums match but whose contents lie must be
// rejected at load, not searched: ids outside the segment would reach the
// engine as row numbers. Found by fuzz/index_fuzz.cc
// (fuzz/corpus/index_fuzz/regress-ivf-id-outside-rows).
#include <gtest/gtest.h>

#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include <functional>
#include <memory>

#include "core/coding.h"
#include "core/hash.h"
#include "index/index_format.h"
#include "index/test_data.h"
#include "index/vector_index.h"
#include "support/test_util.h"

namespace ark {
namespace {

constexpr uint64_t kRows = 64;
constexpr uint32_t kDim = 8;

IndexSpec IvfSpec(IndexType type) {
  IndexSpec s;
  s.type = type;
  s.dim = kDim;
  s.nlist = 4;
  s.pq_m = 2;
  s.pq_nbits = 4;
  return s;
}

// Serializes an index, lets `edit` change the FAISS index read back from its
// payload, and returns a file with the edited payload and valid checksums.
std::string Tampered(IndexType type, const std::function<void(faiss::IndexIVF*)>& edit) {
  auto data = testing::ClusteredData(kRows, kDim, 4, 3);
  auto built = VectorIndex::Build(IvfSpec(type), data.data(), kRows);
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  auto bytes = (*built)->Serialize();
  EXPECT_TRUE(bytes.ok());
  std::string file = *bytes;
  faiss::VectorIOReader reader;
  reader.data.assign(file.begin() + kIndexHeaderSize, file.end());
  std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
  edit(dynamic_cast<faiss::IndexIVF*>(index.get()));
  faiss::VectorIOWriter writer;
  faiss::write_index(index.get(), &writer);
  std::string out = file.substr(0, kIndexHeaderSize);
  out.append(reinterpret_cast<const char*>(writer.data.data()), writer.data.size());
  EncodeFixed64(out.data() + kIndexOffsetPayloadSize, out.size() - kIndexHeaderSize);
  EncodeFixed64(out.data() + kIndexOffsetPayloadChecksum,
                Xxh3_64(out.data() + kIndexHeaderSize, out.size() - kIndexHeaderSize));
  EncodeFixed64(out.data() + kIndexOffsetHeaderChecksum, Xxh3_64(out.data(), kIndexOffsetHeaderChecksum));
  return out;
}

faiss::ArrayInvertedLists* Lists(faiss::IndexIVF* ivf) {
  return dynamic_cast<faiss::ArrayInvertedLists*>(ivf->invlists);
}

// The first non-empty list.
size_t FullList(faiss::IndexIVF* ivf) {
  for (size_t l = 0; l < ivf->nlist; ++l) {
    if (!Lists(ivf)->ids[l].empty()) return l;
  }
  return 0;
}

class FaissPayloadCheckTest : public ::testing::TestWithParam<IndexType> {};

TEST_P(FaissPayloadCheckTest, UntamperedPayloadLoads) {
  std::string file = Tampered(GetParam(), [](faiss::IndexIVF*) {});
  ASSERT_OK(VectorIndex::Load(file, "good.idx").status());
}

TEST_P(FaissPayloadCheckTest, RowIdOutsideTheSegmentIsCorruption) {
  std::string file = Tampered(GetParam(), [](faiss::IndexIVF* ivf) {
    Lists(ivf)->ids[FullList(ivf)][0] = static_cast<faiss::Index::idx_t>(kRows + 1000);
  });
  auto loaded = VectorIndex::Load(file, "bad.idx");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(loaded.status().IsCorruption()) << loaded.status().ToString();
  EXPECT_NE(loaded.status().message().find("bad.idx"), std::string::npos);
}

TEST_P(FaissPayloadCheckTest, RepeatedRowIdIsCorruption) {
  std::string file = Tampered(GetParam(), [](faiss::IndexIVF* ivf) {
    auto& ids = Lists(ivf)->ids[FullList(ivf)];
    ASSERT_GE(ids.size(), 2u);
    ids[1] = ids[0];
  });
  auto loaded = VectorIndex::Load(file, "dup.idx");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(loaded.status().IsCorruption()) << loaded.status().ToString();
}

TEST_P(FaissPayloadCheckTest, NegativeRowIdIsCorruption) {
  std::string file = Tampered(GetParam(), [](faiss::IndexIVF* ivf) {
    Lists(ivf)->ids[FullList(ivf)][0] = -7;
  });
  auto loaded = VectorIndex::Load(file, "neg.idx");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(loaded.status().IsCorruption()) << loaded.status().ToString();
}

// FAISS 1.7.3's read_index trusts the sizes of an IVF_PQ payload and
// overruns a heap buffer while rebuilding the precomputed table when the
// quantizer claims more centroids than there are lists (found by index_fuzz:
// fuzz/corpus/index_fuzz/regress-faiss-ivfpq-precomputed-table-overflow).
// Ark checks those sizes against its header before FAISS reads them.
TEST(FaissIvfPqPayload, QuantizerWithMoreCentroidsThanListsIsCorruptionNotAnOverflow) {
  std::string file = Tampered(IndexType::kIvfPq, [](faiss::IndexIVF* ivf) { ivf->quantizer->ntotal = 1000; });
  auto loaded = VectorIndex::Load(file, "pq.idx");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(loaded.status().IsCorruption()) << loaded.status().ToString();
  EXPECT_NE(loaded.status().message().find("quantizer header has dim 8 rows 1000"), std::string::npos)
      << loaded.status().ToString();
}

TEST(FaissIvfPqPayload, ProductQuantizerThatDisagreesWithTheHeaderIsCorruption) {
  std::string file = Tampered(IndexType::kIvfPq, [](faiss::IndexIVF* ivf) {
    auto* pq = dynamic_cast<faiss::IndexIVFPQ*>(ivf);
    ASSERT_NE(pq, nullptr);
    pq->pq.M = 4;
  });
  auto loaded = VectorIndex::Load(file, "pq.idx");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(loaded.status().IsCorruption()) << loaded.status().ToString();
  EXPECT_NE(loaded.status().message().find("product quantizer d 8 M 4"), std::string::npos)
      << loaded.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Ivf, FaissPayloadCheckTest,
                         ::testing::Values(IndexType::kIvfFlat, IndexType::kIvfSq8, IndexType::kIvfPq),
                         [](const auto& info) { return std::string(IndexTypeName(info.param)).substr(4); });

}  // namespace
}  // namespace ark
