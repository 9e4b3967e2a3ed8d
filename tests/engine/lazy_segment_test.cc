// Fast open (issue 20): sealed segment files are mapped and their columns
// decoded on first use, replay (a standby, recovery) opens segments and
// graphs the same lazy way, and a graph found damaged at its first use is
// rebuilt from its segment without a restart while its segment is searched
// exactly.
#include <algorithm>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/content_checksum.h"
#include "engine/content_file.h"
#include "engine/database.h"
#include "engine/file_change.h"
#include "engine/lazy_segment.h"
#include "engine/manifest.h"
#include "engine/segment_file.h"
#include "engine_test_util.h"
#include "index/lazy_vector_index.h"
#include "support/test_util.h"

namespace ark {
namespace {

using ::testing::HasSubstr;

constexpr uint32_t kDim = 8;

// TestSchema rows with random (seeded) embeddings.
RowBatch Rows(const CollectionSchema& schema, int64_t first, size_t n) {
  RowBatch b = testing::TestRows(schema, first, n);
  for (size_t i = 0; i < n; ++i) {
    std::mt19937 rng(static_cast<uint32_t>(first + i) * 7919u + 13u);
    std::normal_distribution<float> g;
    for (uint32_t d = 0; d < kDim; ++d) b.columns[4].floats[i * kDim + d] = g(rng);
  }
  return b;
}

std::vector<float> Query(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> q(kDim);
  for (auto& v : q) v = g(rng);
  return q;
}

SearchRequest Req(uint32_t seed) {
  SearchRequest r;
  r.vectors = Query(seed);
  r.num_queries = 1;
  r.limit = 10;
  r.metric = Metric::kL2;
  return r;
}

std::vector<int64_t> Keys(const SearchResponse& res) { return res.queries[0].rows.columns[0].ints; }

// The 10 nearest visible keys by L2, computed here from every row.
std::vector<int64_t> Oracle(const CollectionSnapshot& snap, uint32_t seed) {
  auto rows = snap.Query(QueryRequest{});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok()) return {};
  const std::vector<float> q = Query(seed);
  std::vector<std::pair<double, int64_t>> scored;
  for (size_t r = 0; r < rows->num_rows; ++r) {
    double l2 = 0;
    for (uint32_t d = 0; d < kDim; ++d) {
      const double x = double(q[d]) - rows->columns[4].floats[r * kDim + d];
      l2 += x * x;
    }
    scored.push_back({l2, rows->columns[0].ints[r]});
  }
  std::sort(scored.begin(), scored.end());
  std::vector<int64_t> out;
  for (size_t i = 0; i < std::min<size_t>(10, scored.size()); ++i) out.push_back(scored[i].second);
  return out;
}

class LazySegmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.auto_seal = false;
    options_.index_build_threads = 0;  // builds run when the test says
    schema_ = testing::TestSchema(kDim, false, /*dynamic=*/true);
    Reopen();
    ASSERT_OK(db_->CreateCollection("", "docs", schema_).status());
  }
  void Reopen() {
    db_.reset();
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(Env::Default(), dir_.path(), options_));
  }
  std::shared_ptr<const CollectionSnapshot> Snap() { return *db_->GetSnapshot("", "docs"); }
  // Two sealed segments of 300 rows and 10 growing rows, keys from `first`.
  void LoadTwoSegments(int64_t first = 0) {
    ASSERT_OK(db_->Insert("", "docs", Rows(schema_, first, 300)).status());
    ASSERT_OK(db_->Flush("", "docs"));
    ASSERT_OK(db_->Insert("", "docs", Rows(schema_, first + 300, 300)).status());
    ASSERT_OK(db_->Flush("", "docs"));
    ASSERT_OK(db_->Insert("", "docs", Rows(schema_, first + 600, 10)).status());
  }
  std::string FilePath(const std::string& hex) { return JoinPath(JoinPath(dir_.path(), "files"), hex); }
  // Flips one byte in the middle of column `column`'s block of segment `i`.
  std::string DamageColumn(size_t i, const std::string& column) {
    const std::string path = FilePath(db_->CurrentManifest().collections[0].segments[i].file);
    std::string data;
    EXPECT_OK(Env::Default()->ReadFileToString(path, &data));
    auto layout = DecodeSegmentLayout(data, path);
    EXPECT_TRUE(layout.ok());
    for (const auto& c : layout->columns) {
      if (c.name == column) data[c.offset + c.length / 2] ^= 0x20;
    }
    EXPECT_OK(Env::Default()->WriteFileAtomic(path, data));
    return path;
  }

  testing::TempDir dir_;
  DatabaseOptions options_;
  std::unique_ptr<Database> db_;
  CollectionSchema schema_;
};

TEST_F(LazySegmentTest, OpenDecodesOnlyKeyColumnsAndEachOtherColumnOnFirstUse) {
  LoadTwoSegments();
  const SearchResponse before = *Snap()->Search(Req(3));
  const RowBatch all_before = *Snap()->Query(QueryRequest{});
  const uint64_t d0 = LazySegment::ColumnDecodes();
  Reopen();
  // Per segment: the primary key and "$lsn" (no "$partition" in this schema).
  EXPECT_EQ(LazySegment::ColumnDecodes() - d0, 4u);
  ASSERT_OK_AND_ASSIGN(uint64_t n, Snap()->Count("", nullptr));
  EXPECT_EQ(n, 610u);
  EXPECT_EQ(LazySegment::ColumnDecodes() - d0, 4u);  // counting needs no column
  ASSERT_OK_AND_ASSIGN(n, Snap()->Count("score < 10", nullptr));
  EXPECT_EQ(n, 20u);  // score = id / 2
  EXPECT_EQ(LazySegment::ColumnDecodes() - d0, 6u);  // "score" of each segment, once
  ASSERT_OK_AND_ASSIGN(n, Snap()->Count("score < 20", nullptr));
  EXPECT_EQ(LazySegment::ColumnDecodes() - d0, 6u);  // and never again
  // An exact search decodes the vectors; its hits' segments every column.
  ASSERT_OK_AND_ASSIGN(SearchResponse after, Snap()->Search(Req(3)));
  EXPECT_EQ(after.queries[0].rows, before.queries[0].rows);
  EXPECT_EQ(after.queries[0].scores, before.queries[0].scores);
  ASSERT_OK_AND_ASSIGN(RowBatch all_after, Snap()->Query(QueryRequest{}));
  EXPECT_EQ(all_after, all_before);
  // 5 columns besides "$lsn" per segment (id, title, score, tags, embedding, $meta = 6) all decoded.
  EXPECT_EQ(LazySegment::ColumnDecodes() - d0, 2u * (1 + 6));
  EXPECT_EQ(ComputeContentChecksum(*Snap()).checksum, ComputeContentChecksum(*Snap()).checksum);
}

TEST_F(LazySegmentTest, DamagedColumnOpensAndFailsEveryUseOfItNamingTheFile) {
  // Keys no other test uses: the checksum cache is per segment file, and a
  // file of these rows must not have its sums cached before it is damaged.
  LoadTwoSegments(1000);
  const std::string path = DamageColumn(0, "embedding");
  Reopen();  // open does not read the vectors, so it does not notice
  ASSERT_OK_AND_ASSIGN(uint64_t n, Snap()->Count("score >= 0", nullptr));
  EXPECT_EQ(n, 610u);  // reads that need other columns go on
  for (int attempt = 0; attempt < 2; ++attempt) {  // remembered, never a wrong answer
    auto res = Snap()->Search(Req(4));
    ASSERT_FALSE(res.ok());
    EXPECT_TRUE(res.status().IsCorruption()) << res.status().ToString();
    EXPECT_THAT(res.status().message(), HasSubstr(path));
    EXPECT_THAT(res.status().message(), HasSubstr("'embedding' checksum mismatch"));
  }
  auto rows = Snap()->Query(QueryRequest{});
  ASSERT_FALSE(rows.ok());
  EXPECT_THAT(rows.status().message(), HasSubstr(path));
  auto got = Snap()->Get({PrimaryKey(int64_t{1005})});  // a row of the damaged file
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsCorruption());
  ASSERT_OK_AND_ASSIGN(RowBatch other, Snap()->Get({PrimaryKey(int64_t{1305}), PrimaryKey(int64_t{1605})}));
  EXPECT_EQ(other.num_rows, 2u);  // rows of the sound segment and the growing one
  const ContentChecksum sum = ComputeContentChecksum(*Snap());
  EXPECT_TRUE(sum.status.IsCorruption()) << sum.status.ToString();
  EXPECT_THAT(sum.status.message(), HasSubstr(path));
  EXPECT_EQ(sum.checksum, "unreadable");
}

TEST_F(LazySegmentTest, DamagedKeyColumnIsStillFoundAtOpen) {
  LoadTwoSegments();
  const std::string path = DamageColumn(1, "id");
  db_.reset();
  auto opened = Database::Open(Env::Default(), dir_.path(), options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
  EXPECT_THAT(opened.status().message(), HasSubstr(path));
}

TEST_F(LazySegmentTest, DamagedGraphIsSearchedExactlyAndRebuiltWithoutRestart) {
  LoadTwoSegments();
  ASSERT_OK(db_->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 64}})
                .status());
  while (db_->RunIndexBuild()) {
  }
  const std::string damaged = db_->CurrentManifest().collections[0].segments[0].index_files.at("embedding").front();
  std::string data;
  ASSERT_OK(Env::Default()->ReadFileToString(FilePath(damaged), &data));
  data[data.size() / 2] ^= 0x40;  // the graph payload: its checksum no longer holds
  ASSERT_OK(Env::Default()->WriteFileAtomic(FilePath(damaged), data));
  Reopen();
  ASSERT_OK_AND_ASSIGN(auto infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 2u);  // the header is sound: not noticed at open

  // The first search finds the damage, answers from the segment's vectors,
  // and has a rebuild scheduled; the index is not served meanwhile.
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    auto res = Snap()->Search(Req(seed));
    ASSERT_OK(res.status());
    EXPECT_EQ(Keys(*res), Oracle(*Snap(), seed)) << seed;
  }
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 1u);
  EXPECT_EQ(infos[0].state, "InProgress");

  const Position before_rebuild = db_->wal()->LastPosition();
  ASSERT_TRUE(db_->RunIndexBuild());  // the scheduled rebuild
  while (db_->RunIndexBuild()) {
  }
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 2u);
  EXPECT_EQ(infos[0].state, "Finished");
  // The manifest names a sound file for the segment, and the rebuilt graph
  // came in through a logged index change replacing the damaged file.
  const std::string rebuilt = db_->CurrentManifest().collections[0].segments[0].index_files.at("embedding").front();
  ASSERT_OK(VerifyContentAddressedFile(Env::Default(), FilePath(rebuilt)));
  std::vector<FileChange> changes;
  ASSERT_OK(db_->wal()->Replay(before_rebuild, [&](const WalRecord& r) {
    if (r.op != kOpFileChange || r.position <= before_rebuild) return Status::OK();
    ARK_ASSIGN_OR_RETURN(FileChange c, DecodeFileChange(r.body, r.position));
    changes.push_back(std::move(c));
    return Status::OK();
  }));
  if (rebuilt != damaged) {
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].kind, FileChangeKind::kIndex);
    EXPECT_EQ(changes[0].replaced_index_file, damaged);
    EXPECT_EQ(changes[0].index_file, rebuilt);
  } else {
    EXPECT_TRUE(changes.empty());  // the same bytes: the file under its name was rewritten
  }
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    ASSERT_OK_AND_ASSIGN(SearchResponse res, Snap()->Search(Req(seed)));
    EXPECT_EQ(Keys(res), Oracle(*Snap(), seed)) << seed;
  }
  for (const auto& [segment, fields] : Snap()->indexes().built) EXPECT_TRUE(fields.at("embedding")->resident());
  // A restart serves the rebuilt graph.
  Reopen();
  const uint64_t loads = LazyVectorIndex::PayloadLoads();
  ASSERT_OK_AND_ASSIGN(SearchResponse res, Snap()->Search(Req(2)));
  EXPECT_EQ(Keys(res), Oracle(*Snap(), 2));
  EXPECT_EQ(LazyVectorIndex::PayloadLoads(), loads + 2);
  ASSERT_OK_AND_ASSIGN(infos, db_->ListIndexes("", "docs"));
  EXPECT_EQ(infos[0].indexed_segments, 2u);
}

TEST_F(LazySegmentTest, ReplayOnAStandbyOpensSegmentsAndGraphsLazily) {
  testing::TempDir follower_dir;
  DatabaseOptions fo = options_;
  fo.follower = true;
  fo.fetch_file = [this](const std::string& hex) -> Result<std::string> {
    std::string content;
    ARK_RETURN_IF_ERROR(Env::Default()->ReadFileToString(FilePath(hex), &content));
    return content;
  };
  ASSERT_OK_AND_ASSIGN(auto follower, Database::Open(Env::Default(), follower_dir.path(), fo));
  ASSERT_OK(db_->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 64}})
                .status());
  LoadTwoSegments();
  while (db_->RunIndexBuild()) {
  }
  const uint64_t loads = LazyVectorIndex::PayloadLoads();
  const uint64_t decodes = LazySegment::ColumnDecodes();
  ASSERT_OK(db_->wal()->Replay({0, 0}, [&](const WalRecord& r) { return follower->AppendReplicated(r).status(); }));
  // Two seals, two index builds replayed: keys and lsns decoded, no graph loaded.
  EXPECT_EQ(LazySegment::ColumnDecodes() - decodes, 4u);
  EXPECT_EQ(LazyVectorIndex::PayloadLoads(), loads);
  auto fsnap = *follower->GetSnapshot("", "docs");
  ASSERT_EQ(fsnap->indexes().built.size(), 2u);
  for (const auto& [segment, fields] : fsnap->indexes().built) EXPECT_FALSE(fields.at("embedding")->resident());
  // The standby answers as the primary does, loading each graph at first
  // use; a search for ids only (output_columns) decodes no column.
  ASSERT_OK_AND_ASSIGN(SearchResponse a, Snap()->Search(Req(7)));
  SearchRequest ids_only = Req(7);
  ids_only.output_columns.assign(schema_.NumColumns(), false);
  ids_only.output_columns[0] = true;
  ASSERT_OK_AND_ASSIGN(SearchResponse ids, fsnap->Search(ids_only));
  EXPECT_EQ(Keys(ids), Keys(a));
  EXPECT_EQ(ids.queries[0].rows.columns[4].floats.size(), 0u);  // left out
  EXPECT_EQ(LazySegment::ColumnDecodes() - decodes, 4u);
  EXPECT_EQ(LazyVectorIndex::PayloadLoads(), loads + 2);
  ASSERT_OK_AND_ASSIGN(SearchResponse b, fsnap->Search(Req(7)));
  EXPECT_EQ(a.queries[0].rows, b.queries[0].rows);
  EXPECT_EQ(LazyVectorIndex::PayloadLoads(), loads + 2);
}

}  // namespace
}  // namespace ark
