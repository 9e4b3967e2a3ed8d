// Backup and restore end to end: a real Database, a real repository on the
// local backend and on S3 (s3rver), and FaultInjectingStore for failures.
#include "dr/backup/backup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "engine/database.h"
#include "engine/segment_file.h"
#include "dr/lease/lease.h"
#include "dr/repository/repository_lease_table.h"
#include "engine/engine_test_util.h"
#include "storage/fake_clock_env.h"
#include "storage/fault_injecting_store.h"
#include "storage/object_store_test_util.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

using ark::testing::TempDir;
using ark::testing::TestRows;
using ark::testing::TestSchema;

constexpr uint32_t kDim = 8;

DatabaseOptions TestOptions() {
  DatabaseOptions o;
  o.auto_seal = false;
  o.index_build_threads = 0;  // builds run when the test says so
  return o;
}

std::unique_ptr<Database> OpenDb(const std::string& dir) {
  auto db = Database::Open(Env::Default(), dir, TestOptions());
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

void BuildAllIndexes(Database* db) {
  while (db->RunIndexBuild()) {
  }
}

// Every row of a collection, by primary key.
std::map<int64_t, std::string> Dump(Database* db, const std::string& database, const std::string& name) {
  auto snap = db->GetSnapshot(database, name);
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  std::map<int64_t, std::string> out;
  if (!snap.ok()) return out;
  auto rows = (*snap)->Query(QueryRequest{});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok()) return out;
  for (size_t i = 0; i < rows->num_rows; ++i) {
    std::string repr = rows->columns[1].strings[i] + "|" + std::to_string(rows->columns[2].doubles[i]) + "|" +
                       rows->columns[3].strings[i];
    for (uint32_t d = 0; d < kDim; ++d) repr += "|" + std::to_string(rows->columns[4].floats[i * kDim + d]);
    out[rows->columns[0].ints[i]] = repr;
  }
  return out;
}

// Top-10 ids and scores for a few fixed queries.
std::vector<std::pair<int64_t, float>> Searches(Database* db, const std::string& database, const std::string& name) {
  auto snap = db->GetSnapshot(database, name);
  EXPECT_TRUE(snap.ok());
  std::vector<std::pair<int64_t, float>> out;
  if (!snap.ok()) return out;
  for (int q = 0; q < 5; ++q) {
    SearchRequest req;
    req.num_queries = 1;
    for (uint32_t d = 0; d < kDim; ++d) req.vectors.push_back(static_cast<float>(q * 97 % 1000) + d * 0.3f);
    req.limit = 10;
    req.filter = q % 2 ? "id > 100" : "";
    auto res = (*snap)->Search(req);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    if (!res.ok()) continue;
    for (size_t i = 0; i < res->queries[0].scores.size(); ++i) {
      out.push_back({res->queries[0].rows.columns[0].ints[i], res->queries[0].scores[i]});
    }
  }
  return out;
}

// A database with two collections in two databases: sealed segments with a
// built HNSW index, tombstones, a growing tail with upserts and deletes, an alias.
void Populate(Database* db) {
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db->CreateCollection("", "docs", s).status());
  ASSERT_OK(db->CreateIndex("", "docs", "embedding", "embedding", "HNSW", "L2",
                            {{"M", 8}, {"efConstruction", 64}}).status());
  ASSERT_OK(db->Insert("", "docs", TestRows(s, 0, 1500)).status());
  ASSERT_OK(db->Flush("", "docs"));
  ASSERT_OK(db->Insert("", "docs", TestRows(s, 1500, 1500)).status());
  ASSERT_OK(db->Flush("", "docs"));
  BuildAllIndexes(db);
  ASSERT_OK(db->Delete("", "docs", {PrimaryKey(int64_t{3}), PrimaryKey(int64_t{1600})}).status());
  ASSERT_OK(db->Insert("", "docs", TestRows(s, 3000, 200)).status());
  ASSERT_OK(db->Upsert("", "docs", TestRows(s, 10, 20, /*version=*/1)).status());
  ASSERT_OK(db->CreateAlias("", "docs_live", "docs", false).status());
  ASSERT_OK(db->CreateDatabase("sales").status());
  ASSERT_OK(db->CreateCollection("sales", "orders", s).status());
  ASSERT_OK(db->Insert("sales", "orders", TestRows(s, 0, 300)).status());
}

class BackupTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "s3" && ark::testing::S3TestsSkipped()) GTEST_SKIP() << "ARK_SKIP_S3 set";
    store_name_ = "repo-" + std::to_string(counter_++);
    auto store = ark::testing::OpenTestStore(GetParam(), store_name_, &dir_);
    ASSERT_OK(store.status());
    store_ = std::move(store).value();
    faulty_ = std::make_unique<FaultInjectingStore>(store_.get());
    ASSERT_OK(Repository::Init(Env::Default(), faulty_.get(), {}, {}));
    ASSERT_OK_AND_ASSIGN(repo_, Repository::Open(Env::Default(), faulty_.get(), {}));
    db_ = OpenDb(dir_.Sub("data"));
    ASSERT_NE(db_, nullptr);
  }

  BackupManifest Backup(const std::string& name, std::vector<CollectionName> collections = {}) {
    BackupOptions o;
    o.name = name;
    o.collections = std::move(collections);
    auto m = CreateBackup(db_.get(), repo_.get(), o);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : BackupManifest{};
  }

  Result<RestoreReport> Restore(const std::string& name, const std::string& target, StateFilter filter = {}) {
    RestoreOptions o;
    o.name = name;
    o.target_dir = target;
    o.filter = std::move(filter);
    return RestoreBackup(Env::Default(), repo_.get(), o);
  }

  static inline int counter_ = 0;
  std::string store_name_;
  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<FaultInjectingStore> faulty_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<Database> db_;
};

TEST_P(BackupTest, RestoreEqualsSourceRowForRowAndSearchesWithItsIndexes) {
  Populate(db_.get());
  auto docs = Dump(db_.get(), "", "docs");
  auto orders = Dump(db_.get(), "sales", "orders");
  auto hits = Searches(db_.get(), "", "docs");
  ASSERT_EQ(docs.size(), 3198u);
  BackupManifest m = Backup("full");
  EXPECT_EQ(m.collections.size(), 2u);
  EXPECT_GT(m.wal_records, 0u);
  ASSERT_NE(m.Find("index"), nullptr) << "the built index is in the backup";

  ASSERT_OK_AND_ASSIGN(RestoreReport r, Restore("full", dir_.Sub("restored")));
  EXPECT_EQ(r.collections.size(), 2u);
  auto restored = OpenDb(dir_.Sub("restored"));
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(Dump(restored.get(), "", "docs"), docs);
  EXPECT_EQ(Dump(restored.get(), "sales", "orders"), orders);
  EXPECT_EQ(Searches(restored.get(), "", "docs"), hits);
  // Indexes came from the backup: nothing is queued to build.
  EXPECT_FALSE(restored->RunIndexBuild());
  ASSERT_OK_AND_ASSIGN(auto indexes, restored->ListIndexes("", "docs"));
  ASSERT_EQ(indexes.size(), 1u);
  ASSERT_OK_AND_ASSIGN(std::string alias, restored->DescribeAlias("", "docs_live"));
  EXPECT_EQ(alias, "docs");
  // The restored database takes writes after the backup's position.
  ASSERT_OK_AND_ASSIGN(WriteResult w, restored->Insert("", "docs", TestRows(TestSchema(kDim), 5000, 1)));
  EXPECT_GT(w.position, m.position);
}

// An HNSW_SQ index (index file format version 2) is backed up and restored
// like any other content-addressed index file: the restore searches with it
// (refined from the restored segment's vectors) and rebuilds nothing.
// A segment column that cannot be read (segments are decoded lazily, so the
// damage is met when the backup checksums the collection) fails the backup
// naming the file, instead of recording "unreadable" as its content.
TEST_P(BackupTest, BackupOfADamagedSegmentFailsNamingTheFile) {
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->CreateCollection("", "fragile", s).status());
  ASSERT_OK(db_->Insert("", "fragile", TestRows(s, 910000, 40)).status());  // keys no other test seals
  ASSERT_OK(db_->Flush("", "fragile"));
  std::string file;
  for (const auto& c : db_->CurrentManifest().collections) {
    if (!c.segments.empty()) file = c.segments[0].file;
  }
  ASSERT_FALSE(file.empty());
  db_.reset();
  const std::string path = JoinPath(JoinPath(dir_.Sub("data"), "files"), file);
  std::string data;
  ASSERT_OK(Env::Default()->ReadFileToString(path, &data));
  ASSERT_OK_AND_ASSIGN(auto layout, DecodeSegmentLayout(data, path));
  bool damaged = false;
  for (const auto& c : layout.columns) {
    if (c.name == "embedding") {
      data[c.offset + c.length / 2] ^= 0x20;
      damaged = true;
    }
  }
  ASSERT_TRUE(damaged);
  ASSERT_OK(Env::Default()->WriteFileAtomic(path, data));
  db_ = OpenDb(dir_.Sub("data"));  // opens: only key columns are read at open
  ASSERT_NE(db_, nullptr);
  BackupOptions o;
  o.name = "over-damage";
  auto m = CreateBackup(db_.get(), repo_.get(), o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find(file), std::string::npos) << m.status().ToString();
  ASSERT_OK_AND_ASSIGN(auto backups, ListBackups(repo_.get()));
  for (const auto& b : backups) EXPECT_NE(b.name, "over-damage");
}

TEST_P(BackupTest, RestoreCarriesAQuantizedHnswSqIndex) {
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->CreateCollection("", "sq", s).status());
  ASSERT_OK(db_->CreateIndex("", "sq", "embedding", "embedding", "HNSW_SQ", "L2",
                             {{"M", 8}, {"efConstruction", 64}, {"sq_type", "SQ8"}, {"refine", true}})
                .status());
  ASSERT_OK(db_->Insert("", "sq", TestRows(s, 0, 1500)).status());
  ASSERT_OK(db_->Flush("", "sq"));
  BuildAllIndexes(db_.get());
  ASSERT_OK_AND_ASSIGN(auto before, db_->ListIndexes("", "sq"));
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(before[0].indexed_rows, 1500u);
  auto hits = Searches(db_.get(), "", "sq");
  ASSERT_FALSE(hits.empty());
  BackupManifest m = Backup("sq");
  ASSERT_NE(m.Find("index"), nullptr) << "the HNSW_SQ index file is in the backup";

  ASSERT_OK(Restore("sq", dir_.Sub("restored")).status());
  auto restored = OpenDb(dir_.Sub("restored"));
  ASSERT_NE(restored, nullptr);
  EXPECT_FALSE(restored->RunIndexBuild());
  ASSERT_OK_AND_ASSIGN(auto indexes, restored->ListIndexes("", "sq"));
  ASSERT_EQ(indexes.size(), 1u);
  EXPECT_EQ(indexes[0].definition.spec.type, IndexType::kHnswSq);
  EXPECT_TRUE(indexes[0].definition.spec.refine);
  EXPECT_EQ(indexes[0].indexed_rows, 1500u);
  EXPECT_EQ(Searches(restored.get(), "", "sq"), hits);
}

// Collection properties and load state ride in the manifest and the WAL tail
// (ops 108-109), so a restore has them, also of the collections it keeps
// when it keeps only some and renames them.
TEST_P(BackupTest, RestoreKeepsCollectionPropertiesAndLoadState) {
  CollectionSchema s = TestSchema(kDim);
  s.partition_column = true;
  ASSERT_OK(db_->CreateCollection("", "docs", s).status());
  ASSERT_OK(db_->CreatePartition("", "docs", "jan").status());
  ASSERT_OK(db_->AlterCollectionProperties("", "docs", {{"ark.dr.rpo_tier", "low"}}, {}).status());
  ASSERT_OK(db_->Insert("", "docs", TestRows(s, 0, 10)).status());
  ASSERT_OK(db_->Flush("", "docs"));  // the manifest has the properties
  CollectionLoadState partly;
  partly.partitions = {"jan"};
  ASSERT_OK(db_->SetLoadState("", "docs", partly).status());  // in the WAL tail
  ASSERT_OK(db_->CreateCollection("", "other", s).status());
  CollectionLoadState released;
  released.released = true;
  ASSERT_OK(db_->SetLoadState("", "other", released).status());
  ASSERT_OK(db_->AlterCollectionProperties("", "other", {{"k", "v"}}, {}).status());
  Backup("state");

  ASSERT_OK(Restore("state", dir_.Sub("all")).status());
  auto all = OpenDb(dir_.Sub("all"));
  ASSERT_NE(all, nullptr);
  ASSERT_OK_AND_ASSIGN(CollectionInfo docs, all->DescribeCollection("", "docs"));
  EXPECT_EQ(docs.properties, (std::map<std::string, std::string>{{"ark.dr.rpo_tier", "low"}}));
  EXPECT_EQ(docs.load, partly);
  ASSERT_OK_AND_ASSIGN(CollectionInfo other, all->DescribeCollection("", "other"));
  EXPECT_EQ(other.properties, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(other.load, released);

  StateFilter f;
  f.select = {{"default", "other"}};
  f.rename[{"default", "other"}] = {"default", "other_copy"};
  ASSERT_OK(Restore("state", dir_.Sub("one"), f).status());
  auto one = OpenDb(dir_.Sub("one"));
  ASSERT_NE(one, nullptr);
  ASSERT_OK_AND_ASSIGN(CollectionInfo copy, one->DescribeCollection("", "other_copy"));
  EXPECT_EQ(copy.properties, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(copy.load, released);
  EXPECT_FALSE(one->DescribeCollection("", "docs").ok());
}

TEST_P(BackupTest, RestoreChosenCollectionsUnderNewNames) {
  Populate(db_.get());
  auto orders = Dump(db_.get(), "sales", "orders");
  Backup("full");
  StateFilter f;
  f.select = {{"sales", "orders"}};
  f.rename[{"sales", "orders"}] = {"default", "orders_copy"};
  ASSERT_OK_AND_ASSIGN(RestoreReport r, Restore("full", dir_.Sub("one"), f));
  ASSERT_EQ(r.collections.size(), 1u);
  auto restored = OpenDb(dir_.Sub("one"));
  EXPECT_EQ(Dump(restored.get(), "", "orders_copy"), orders);
  EXPECT_FALSE(restored->DescribeCollection("", "docs").ok());
  EXPECT_FALSE(restored->DescribeAlias("", "docs_live").ok()) << "the alias of a collection not restored goes";

  StateFilter missing;
  missing.select = {{"default", "nope"}};
  auto bad = Restore("full", dir_.Sub("two"), missing);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("default.nope"), std::string::npos) << bad.status().ToString();
  EXPECT_FALSE(Env::Default()->FileExists(dir_.Sub("two")));
}

TEST_P(BackupTest, BackupOfChosenCollectionsHoldsOnlyThem) {
  Populate(db_.get());
  BackupManifest m = Backup("orders-only", {{"sales", "orders"}});
  ASSERT_EQ(m.collections.size(), 1u);
  EXPECT_EQ(m.collections[0].name, "orders");
  EXPECT_EQ(m.collections[0].rows, 300u);
  EXPECT_EQ(m.Find("index"), nullptr) << "docs' index is not part of it";
  ASSERT_OK(Restore("orders-only", dir_.Sub("r")).status());
  auto restored = OpenDb(dir_.Sub("r"));
  EXPECT_EQ(restored->ListCollections("").size(), 0u);
  EXPECT_EQ(restored->ListCollections("sales").size(), 1u);
}

TEST_P(BackupTest, SecondBackupUploadsOnlyNewBlobs) {
  Populate(db_.get());
  ASSERT_OK(db_->Flush("", "docs"));
  BuildAllIndexes(db_.get());
  BackupManifest first = Backup("first");
  EXPECT_EQ(first.stats.reused_blobs, 0u);
  EXPECT_EQ(first.stats.new_bytes, first.stats.total_bytes);
  // Change 1% of the rows.
  ASSERT_OK(db_->Upsert("", "docs", TestRows(TestSchema(kDim), 100, 32, /*version=*/2)).status());
  BackupManifest second = Backup("second");
  std::set<std::string> old_hashes;
  for (const auto& b : first.blobs) old_hashes.insert(b.hash);
  uint64_t expect_new = 0;
  uint64_t expect_new_blobs = 0;
  for (const auto& b : second.blobs) {
    if (!old_hashes.count(b.hash)) {
      expect_new += b.size;
      ++expect_new_blobs;
    }
  }
  EXPECT_EQ(second.stats.new_bytes, expect_new);
  EXPECT_EQ(second.stats.new_blobs, expect_new_blobs);
  EXPECT_EQ(second.stats.reused_bytes + second.stats.new_bytes, second.stats.total_bytes);
  EXPECT_LT(second.stats.new_bytes * 10, second.stats.total_bytes) << "only the WAL tail and manifest are new";
  EXPECT_EQ(second.parent, "first");
  auto docs = Dump(db_.get(), "", "docs");
  ASSERT_OK(Restore("second", dir_.Sub("r")).status());
  auto restored = OpenDb(dir_.Sub("r"));
  EXPECT_EQ(Dump(restored.get(), "", "docs"), docs);
}

TEST_P(BackupTest, CancelledOrFailedBackupCommitsNothingAndTheNextRunSucceeds) {
  Populate(db_.get());
  std::atomic<bool> cancelled{true};
  BackupOptions o;
  o.name = "cancelled";
  auto c = CreateBackup(db_.get(), repo_.get(), o, nullptr, &cancelled);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kCancelled);
  EXPECT_TRUE(db_->ListPins().empty()) << "the pin is released";

  int failures = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    faulty_->FailRandomly(FaultInjectingStore::kPut, 0.3, seed);
    o.name = "try-" + std::to_string(seed);
    auto m = CreateBackup(db_.get(), repo_.get(), o);
    faulty_->Clear();
    ASSERT_OK_AND_ASSIGN(auto listed, ListBackups(repo_.get()));
    bool present = false;
    for (const auto& b : listed) present |= b.name == o.name;
    EXPECT_EQ(present, m.ok()) << "a backup is listed exactly when it committed";
    if (!m.ok()) {
      ++failures;
      EXPECT_NE(m.status().message().find("nothing committed"), std::string::npos) << m.status().ToString();
    }
  }
  EXPECT_GT(failures, 0) << "the injected faults must have failed some runs";
  BackupManifest ok = Backup("after-faults");
  ASSERT_OK(VerifyBackup(repo_.get(), "after-faults", /*quick=*/false).status());
  ASSERT_OK(Restore("after-faults", dir_.Sub("r")).status());
}

TEST_P(BackupTest, CorruptBlobIsNamedByVerifyAndRefusedByRestore) {
  if (GetParam() != "local") GTEST_SKIP() << "flips a byte in the local store's file";
  Populate(db_.get());
  BackupManifest m = Backup("b");
  ASSERT_OK(VerifyBackup(repo_.get(), "b", false).status());
  const BackupBlobRef* seg = m.Find("segment");
  ASSERT_NE(seg, nullptr);
  std::string key = Repository::BlobKey(repo_->BlobId(seg->hash));
  std::string path = dir_.Sub(store_name_) + "/" + key;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << path;
    f.seekg(100);
    char c;
    f.get(c);
    f.seekp(100);
    f.put(static_cast<char>(c ^ 0x20));
  }
  auto quick = VerifyBackup(repo_.get(), "b", /*quick=*/true);
  EXPECT_TRUE(quick.ok()) << "quick verification checks sizes only";
  auto v = VerifyBackup(repo_.get(), "b", false);
  ASSERT_FALSE(v.ok());
  EXPECT_TRUE(v.status().IsCorruption());
  EXPECT_NE(v.status().message().find("backup 'b'"), std::string::npos) << v.status().ToString();
  EXPECT_NE(v.status().message().find(seg->hash), std::string::npos) << v.status().ToString();
  auto r = Restore("b", dir_.Sub("restored"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_FALSE(Env::Default()->FileExists(dir_.Sub("restored")));
  ASSERT_OK_AND_ASSIGN(auto left, Env::Default()->ListDir(dir_.path()));
  for (const auto& e : left) EXPECT_EQ(e.find(".ark-restore-"), std::string::npos) << e;
}

TEST_P(BackupTest, RestoreFailingPartWayLeavesNothingAndARetrySucceeds) {
  Populate(db_.get());
  Backup("b");
  faulty_->FailNext(FaultInjectingStore::kGet, 1, Status::IOError("injected read failure"));
  faulty_->FailRandomly(FaultInjectingStore::kGet, 0.5, 7, Status::IOError("injected read failure"));
  auto r = Restore("b", dir_.Sub("restored"));
  faulty_->Clear();
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(Env::Default()->FileExists(dir_.Sub("restored")));
  ASSERT_OK(Restore("b", dir_.Sub("restored")).status());
  EXPECT_FALSE(Restore("b", dir_.Sub("restored")).ok()) << "never restores over a non-empty directory";
}

TEST_P(BackupTest, PruneKeepsEveryBlobAKeptBackupNeeds) {
  Populate(db_.get());
  Backup("b1");
  ASSERT_OK(db_->Upsert("", "docs", TestRows(TestSchema(kDim), 0, 500, 3)).status());
  ASSERT_OK(db_->Flush("", "docs"));
  Backup("b2");
  ASSERT_OK(db_->Compact("", "docs").status());
  BackupManifest b3 = Backup("b3");
  ASSERT_OK_AND_ASSIGN(auto before, repo_->ListBlobs());

  PruneOptions keep_last;
  keep_last.policy.keep_last = 1;
  keep_last.grace_micros = 0;
  // A backup in progress holds a lease: prune refuses.
  ASSERT_OK(repo_->PutLease({"other", "backup", "backup x", UINT64_MAX / 2}));
  auto refused = PruneBackups(repo_.get(), keep_last);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  ASSERT_OK(repo_->DeleteLease("other"));

  ASSERT_OK_AND_ASSIGN(PruneReport report, PruneBackups(repo_.get(), keep_last));
  EXPECT_EQ(report.kept, std::vector<std::string>{"b3"});
  EXPECT_EQ(report.removed.size(), 2u);
  EXPECT_GT(report.blobs_deleted, 0u);
  ASSERT_OK_AND_ASSIGN(auto after, repo_->ListBlobs());
  EXPECT_EQ(after.size() + report.blobs_deleted, before.size());
  for (const auto& b : b3.blobs) EXPECT_TRUE(after.count(repo_->BlobId(b.hash))) << b.kind << " " << b.hash;
  ASSERT_OK(VerifyBackup(repo_.get(), "b3", false).status());
  ASSERT_OK(Restore("b3", dir_.Sub("r")).status());
}

TEST_P(BackupTest, BackupUnderConcurrentInsertsHoldsExactlyTheRowsUpToItsPosition) {
  CollectionSchema s = TestSchema(kDim);
  ASSERT_OK(db_->CreateCollection("", "a", s).status());
  ASSERT_OK(db_->CreateCollection("", "b", s).status());
  std::mutex mu;
  std::vector<std::pair<Position, int64_t>> acked;  // position, first key of a 10-row batch (in both a and b)
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::thread writer([&] {
    for (int64_t k = 0; !stop.load(); k += 10) {
      for (const char* c : {"a", "b"}) {
        auto w = db_->Insert("", c, TestRows(s, k, 10));
        ASSERT_TRUE(w.ok()) << w.status().ToString();
        std::lock_guard<std::mutex> lock(mu);
        acked.push_back({w->position, k});
      }
      if (k == 500) ASSERT_OK(db_->Flush("", "a"));
      batches++;
    }
  });
  while (batches.load() < 100) std::this_thread::yield();
  BackupManifest m = Backup("during");
  // The cut was taken before Backup returned: batches from here on are after
  // it, however long the backup took to start (a loaded machine).
  const int after_backup = batches.load();
  while (batches.load() < after_backup + 50) std::this_thread::yield();
  stop = true;
  writer.join();
  ASSERT_OK(Restore("during", dir_.Sub("r")).status());
  auto restored = OpenDb(dir_.Sub("r"));
  std::set<int64_t> want_a, want_b;
  for (size_t i = 0; i < acked.size(); ++i) {
    if (acked[i].first > m.position) continue;
    for (int64_t k = acked[i].second; k < acked[i].second + 10; ++k) (i % 2 == 0 ? want_a : want_b).insert(k);
  }
  std::set<int64_t> got_a, got_b;
  for (const auto& [k, v] : Dump(restored.get(), "", "a")) got_a.insert(k);
  for (const auto& [k, v] : Dump(restored.get(), "", "b")) got_b.insert(k);
  EXPECT_EQ(got_a, want_a);
  EXPECT_EQ(got_b, want_b);
  EXPECT_GT(want_a.size(), 0u);
  size_t acked_a = 0;
  for (size_t i = 0; i < acked.size(); i += 2) acked_a += 10;
  EXPECT_LT(want_a.size(), acked_a) << "the writer went on after the cut";
}

INSTANTIATE_TEST_SUITE_P(Backends, BackupTest, ::testing::Values("local", "s3"),
                         [](const auto& info) { return info.param; });

TEST(BackupEncryptionTest, EncryptedRepositoryRoundTripsAndRefusesTheWrongKey) {
  TempDir dir;
  auto store = OpenObjectStore("file://" + dir.Sub("repo"));
  ASSERT_OK(store.status());
  {
    std::ofstream k(dir.Sub("key"));
    k << std::string(64, 'a') << "\n";
    std::ofstream w(dir.Sub("wrong"));
    w << std::string(64, 'b') << "\n";
  }
  RepositoryInitOptions init;
  init.encrypt = true;
  ASSERT_OK(Repository::Init(Env::Default(), store->get(), init, {dir.Sub("key"), ""}));
  ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(Env::Default(), store->get(), {dir.Sub("key"), ""}));
  auto db = OpenDb(dir.Sub("data"));
  Populate(db.get());
  auto docs = Dump(db.get(), "", "docs");
  BackupOptions o;
  o.name = "secret";
  ASSERT_OK(CreateBackup(db.get(), repo.get(), o).status());
  RestoreOptions ro;
  ro.name = "secret";
  ro.target_dir = dir.Sub("restored");
  ASSERT_OK(RestoreBackup(Env::Default(), repo.get(), ro).status());
  auto restored = OpenDb(dir.Sub("restored"));
  EXPECT_EQ(Dump(restored.get(), "", "docs"), docs);

  auto wrong = Repository::Open(Env::Default(), store->get(), {dir.Sub("wrong"), ""});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied) << wrong.status().ToString();
  auto none = Repository::Open(Env::Default(), store->get(), {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("encrypted"), std::string::npos) << none.status().ToString();
}

// The repository's clock is the Env it was opened with: a backup is named and
// stamped by it, and a prune judges a backup's lease by it, so a lease left
// by a stalled (or crashed) backup expires when the fake clock says so.
TEST(BackupClockTest, PruneIsRefusedWhileABackupLeaseIsLiveAndAllowedOnceTheFakeClockPassesIt) {
  constexpr uint64_t kSecond = 1000000;
  constexpr uint64_t kStart = 1'790'000'000ull * kSecond;
  TempDir dir;
  FakeClockEnv clock(Env::Default(), kStart);
  auto store = OpenObjectStore("file://" + dir.Sub("repo"));
  ASSERT_OK(store.status());
  ASSERT_OK(Repository::Init(&clock, store->get(), {}, {}));
  ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(&clock, store->get(), {}));
  EXPECT_EQ(repo->descriptor().created_micros, kStart);
  auto db = OpenDb(dir.Sub("data"));
  Populate(db.get());

  ASSERT_OK_AND_ASSIGN(BackupManifest m, CreateBackup(db.get(), repo.get(), BackupOptions{}));
  EXPECT_EQ(m.name, DefaultBackupName(kStart));
  EXPECT_EQ(m.started_micros, kStart);
  EXPECT_EQ(m.completed_micros, kStart) << "the fake clock did not move during the backup";

  // A backup that holds its lease and makes no progress (the lease a crashed
  // backup leaves behind behaves the same).
  RepositoryLeaseTable table(repo.get());
  LeaseOptions backup;
  backup.kind = "backup";
  backup.conflicts = {"prune"};
  backup.description = "backup stalled";
  backup.ttl_micros = 3600 * kSecond;
  ASSERT_OK_AND_ASSIGN(auto lease, Lease::Acquire(&table, &clock, backup));

  PruneOptions prune;
  prune.policy.keep_last = 1;
  auto refused = PruneBackups(repo.get(), prune);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  clock.AdvanceSeconds(3599);
  refused = PruneBackups(repo.get(), prune);
  ASSERT_FALSE(refused.ok()) << "one second of the lease is left";
  EXPECT_NE(refused.status().message().find("holds a lease for 1 more seconds"), std::string::npos)
      << refused.status().ToString();
  clock.AdvanceSeconds(1);
  ASSERT_OK_AND_ASSIGN(PruneReport report, PruneBackups(repo.get(), prune));
  EXPECT_EQ(report.kept, std::vector<std::string>{m.name});
  ASSERT_OK_AND_ASSIGN(auto leases, repo->ListLeases());
  EXPECT_EQ(leases.size(), 1u) << "prune released its own lease; the stalled one stays until released";
}

}  // namespace
}  // namespace ark::dr
