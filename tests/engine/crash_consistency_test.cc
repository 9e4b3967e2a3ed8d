// Crash consistency: at hundreds of random crash points during a mixed
// insert/upsert/delete/seal/index-build/compaction workload (so the crash
// points fall on file-change WAL records too), simulate power loss with
// FaultInjectionEnv (every unsynced byte and undurable rename is lost), reopen
// and check: the database opens, every acknowledged write is there, and the
// one write in flight at the crash is either wholly applied or wholly absent.
#include <cerrno>
#include <map>
#include <optional>
#include <random>

#include <gtest/gtest.h>

#include "engine/database.h"
#include "engine_test_util.h"
#include "storage/fault_injection_env.h"
#include "support/test_util.h"

namespace ark {
namespace {

constexpr int64_t kKeySpace = 400;
constexpr uint32_t kDim = 8;

// key -> version of its live row; absent = no live row.
using Model = std::map<int64_t, int>;

struct Op {
  enum Kind { kInsert, kUpsert, kDelete, kFlush, kBuild, kCompact } kind;
  std::vector<int64_t> keys;
  int version = 0;
};

void ApplyToModel(const Op& op, Model* m) {
  for (int64_t k : op.keys) {
    if (op.kind == Op::kDelete) {
      m->erase(k);
    } else if (op.kind == Op::kInsert || op.kind == Op::kUpsert) {
      (*m)[k] = op.version;
    }
  }
}

RowBatch RowsFor(const CollectionSchema& s, const std::vector<int64_t>& keys, int version) {
  RowBatch b = RowBatch::Empty(s);
  for (int64_t k : keys) b.AppendRow(testing::TestRows(s, k, 1, version), 0);
  return b;
}

// Reads every key of the key space back into a model; fails the test on a
// row whose content does not match any version of its key.
Model ReadBack(Database* db, const CollectionSchema& s) {
  std::vector<PrimaryKey> keys;
  for (int64_t k = 0; k < kKeySpace; ++k) keys.emplace_back(k);
  auto got = db->Get("", "docs", keys);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  Model m;
  if (!got.ok()) return m;
  for (size_t r = 0; r < got->num_rows; ++r) {
    int64_t k = got->columns[0].ints[r];
    // The title column carries the version: "t<key>v<version>".
    const std::string& title = got->columns[1].strings[r];
    int version = std::stoi(title.substr(title.find('v') + 1));
    RowBatch one = RowBatch::Empty(s);
    one.AppendRow(*got, r);
    EXPECT_EQ(one, testing::TestRows(s, k, 1, version)) << "row for key " << k << " is damaged";
    m[k] = version;
  }
  EXPECT_EQ((*db->GetSnapshot("", "docs"))->CountRows(), m.size());
  return m;
}

TEST(CrashConsistency, AcknowledgedWritesSurviveRandomPowerLoss) {
  testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetForwardSyncs(false);
  DatabaseOptions options;
  options.seal_rows = 100;  // seals happen inside the workload, from the write path
  options.wal.segment_size_bytes = 64 << 10;
  options.index_build_threads = 0;  // builds run as workload steps
  options.compaction_target_rows = 150;
  const CollectionSchema schema = testing::TestSchema(kDim);
  std::mt19937_64 rng(20261125);
  Model model;
  int version = 1;
  int rounds = 0, inflight_applied = 0, inflight_lost = 0, faults_fired = 0, builds = 0;
  {
    auto db = Database::Open(&env, dir.path(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->CreateCollection("", "docs", schema).ok());
    ASSERT_TRUE((*db)->CreateIndex("", "docs", "", "embedding", "HNSW", "L2", {{"M", 8}, {"efConstruction", 16}}).ok());
  }
  for (rounds = 0; rounds < 220; ++rounds) {
    auto opened = Database::Open(&env, dir.path(), options);
    ASSERT_TRUE(opened.ok()) << "round " << rounds << ": " << opened.status().ToString();
    std::unique_ptr<Database> db = std::move(opened).value();
    // The crash: the Nth write or sync from now fails (and the machine stops).
    uint64_t nth = 1 + rng() % 40;
    switch (rng() % 3) {
      case 0: env.FailWrite(nth, EIO); break;
      case 1: env.FailSync(nth, EIO); break;
      default: env.FailWrite(nth, EIO, FaultInjectionEnv::WriteFault::kShortWrite); break;
    }
    std::optional<Op> inflight;
    for (int step = 0; step < 25; ++step) {
      Op op;
      int dice = static_cast<int>(rng() % 20);
      op.kind = dice < 8 ? Op::kInsert : dice < 13 ? Op::kUpsert : dice < 17 ? Op::kDelete : dice < 18 ? Op::kFlush
                : dice < 19 ? Op::kBuild : Op::kCompact;
      const bool has_keys = op.kind == Op::kInsert || op.kind == Op::kUpsert || op.kind == Op::kDelete;
      op.version = version++;
      size_t n = 1 + rng() % 12;
      for (size_t i = 0; i < n && has_keys; ++i) {
        int64_t k = static_cast<int64_t>(rng() % kKeySpace);
        if (std::find(op.keys.begin(), op.keys.end(), k) != op.keys.end()) continue;
        if (op.kind == Op::kInsert && model.count(k)) continue;
        op.keys.push_back(k);
      }
      if (has_keys && op.keys.empty()) continue;
      Status s;
      switch (op.kind) {
        case Op::kInsert: s = db->Insert("", "docs", RowsFor(schema, op.keys, op.version)).status(); break;
        case Op::kUpsert: s = db->Upsert("", "docs", RowsFor(schema, op.keys, op.version)).status(); break;
        case Op::kDelete: {
          std::vector<PrimaryKey> keys(op.keys.begin(), op.keys.end());
          s = db->Delete("", "docs", keys).status();
          break;
        }
        case Op::kFlush: s = db->Flush("", "docs"); break;
        case Op::kBuild:
          // A build that fails at the fault logs it and is retried later;
          // the crash still comes at the end of the round.
          while (db->RunIndexBuild()) ++builds;
          break;
        case Op::kCompact: s = db->Compact("", "docs").status(); break;
      }
      if (s.ok()) {
        ApplyToModel(op, &model);
        continue;
      }
      ++faults_fired;
      if (has_keys) inflight = op;
      break;
    }
    // Power loss.
    env.SetFilesystemActive(false);
    db.reset();
    ASSERT_OK(env.DropUnsyncedData());
    env.SetFilesystemActive(true);
    env.ClearFaults();

    opened = Database::Open(&env, dir.path(), options);
    ASSERT_TRUE(opened.ok()) << "round " << rounds << ": reopen after crash: " << opened.status().ToString();
    db = std::move(opened).value();
    Model got = ReadBack(db.get(), schema);
    // Every file the recovered manifest names is on disk and whole.
    for (const auto& f : db->CurrentManifest().LiveFiles()) {
      auto opened_file = db->OpenFileByHash(f);
      ASSERT_TRUE(opened_file.ok()) << "round " << rounds << ": " << opened_file.status().ToString();
    }
    if (got != model) {
      ASSERT_TRUE(inflight.has_value()) << "round " << rounds << ": state differs with no write in flight";
      Model with = model;
      ApplyToModel(*inflight, &with);
      ASSERT_EQ(got, with) << "round " << rounds << ": the write in flight is half applied";
      model = with;
      ++inflight_applied;
    } else if (inflight) {
      ++inflight_lost;
    }
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GE(rounds, 200);
  EXPECT_GT(faults_fired, 100);
  // The workload logged every kind of file change, so crashes fell among them.
  auto db = Database::Open(&env, dir.path(), options);
  ASSERT_TRUE(db.ok());
  const Manifest m = (*db)->CurrentManifest();
  size_t index_files = 0;
  for (const auto& s : m.collections[0].segments) index_files += s.index_files.size();
  EXPECT_GT(builds, 0);
  std::printf("crash rounds %d, faults fired %d, in-flight write kept %d / lost %d, live rows %zu, "
              "index builds %d, segments %zu with %zu index files\n",
              rounds, faults_fired, inflight_applied, inflight_lost, model.size(), builds,
              m.collections[0].segments.size(), index_files);
}

}  // namespace
}  // namespace ark
