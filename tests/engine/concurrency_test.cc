// Concurrent writers, readers and seals on one collection: readers' snapshots
// only ever show intact rows, writes are never lost, and the final state
// survives a reopen.
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/database.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

int VersionOf(const RowBatch& b, size_t r) {
  const std::string& title = b.columns[1].strings[r];
  return std::stoi(title.substr(title.find('v') + 1));
}

TEST(Concurrency, WritersReadersAndSealsInterleave) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.seal_rows = 150;
  options.wal.sync_mode = WalSyncMode::kNone;  // this test is about memory state, not the disk
  auto opened = Database::Open(Env::Default(), dir.path(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Database> db = std::move(opened).value();
  const CollectionSchema schema = testing::TestSchema(8);
  ASSERT_TRUE(db->CreateCollection("", "docs", schema).ok());

  constexpr int kWriters = 4, kKeysPerWriter = 50, kRounds = 20;
  std::atomic<bool> stop{false};
  std::atomic<int> reader_checks{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < kRounds; ++round) {
        for (int k = 0; k < kKeysPerWriter; k += 10) {
          auto rows = testing::TestRows(schema, w * 1000 + k, 10, round);
          auto r = db->Upsert("", "docs", rows);
          ASSERT_TRUE(r.ok()) << r.status().ToString();
        }
        if (round % 3 == 2) {
          std::vector<PrimaryKey> keys = {int64_t{w * 1000 + round}};
          ASSERT_TRUE(db->Delete("", "docs", keys).ok());
          ASSERT_TRUE(db->Upsert("", "docs", testing::TestRows(schema, w * 1000 + round, 1, round)).ok());
        }
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        auto snap = db->GetSnapshot("", "docs");
        ASSERT_TRUE(snap.ok());
        std::vector<PrimaryKey> keys;
        for (int w = 0; w < kWriters; ++w) {
          for (int k = 0; k < kKeysPerWriter; ++k) keys.emplace_back(int64_t{w * 1000 + k});
        }
        RowBatch got = *(*snap)->Get(keys);
        ASSERT_LE(got.num_rows, keys.size());
        ASSERT_EQ((*snap)->CountRows(), got.num_rows);
        for (size_t i = 0; i < got.num_rows; ++i) {
          RowBatch one = RowBatch::Empty(schema);
          one.AppendRow(got, i);
          ASSERT_EQ(one, testing::TestRows(schema, got.columns[0].ints[i], 1, VersionOf(got, i)));
        }
        reader_checks.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) ASSERT_OK(db->Flush("", "docs"));
  });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  stop.store(true);
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_GT(reader_checks.load(), 0);

  auto check = [&](Database* d) {
    auto snap = *d->GetSnapshot("", "docs");
    EXPECT_EQ(snap->CountRows(), static_cast<uint64_t>(kWriters * kKeysPerWriter));
    for (int w = 0; w < kWriters; ++w) {
      RowBatch got = *snap->Get({int64_t{w * 1000 + 5}});
      ASSERT_EQ(got.num_rows, 1u);
      EXPECT_EQ(VersionOf(got, 0), kRounds - 1);
    }
  };
  check(db.get());
  db.reset();
  opened = Database::Open(Env::Default(), dir.path(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  check(opened->get());
}

}  // namespace
}  // namespace ark
