// A backup records each collection's content checksum at its cut
// (docs/formats/content-checksum.md): the checksum of the source exactly at
// the cut even while writers go on, equal to the restored copy's; the
// manifest codec keeps it, reads manifests without it, and refuses one that
// is not a checksum.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dr/backup/backup.h"
#include "dr/backup/backup_manifest.h"
#include "engine/content_checksum.h"
#include "engine/database.h"
#include "engine/engine_test_util.h"
#include "storage/object_store_url.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

using ark::testing::TempDir;
using ark::testing::TestRows;
using ark::testing::TestSchema;

DatabaseOptions Options() {
  DatabaseOptions o;
  o.auto_seal = false;
  o.index_build_threads = 0;
  return o;
}

std::string ChecksumOf(Database* db, const std::string& name) {
  auto snap = db->GetSnapshot("", name);
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  return snap.ok() ? ComputeContentChecksum(**snap).checksum : "";
}

TEST(BackupChecksumTest, TheRecordedChecksumIsTheCutsAndTheRestoredCopysWhileWritersGoOn) {
  TempDir dir;
  auto store = OpenObjectStore("file://" + dir.Sub("repo"));
  ASSERT_OK(store.status());
  ASSERT_OK(Repository::Init(Env::Default(), store->get(), {}, {}));
  ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(Env::Default(), store->get(), {}));
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(Env::Default(), dir.Sub("data"), Options()));
  const CollectionSchema schema = TestSchema(8);
  ASSERT_OK(db->CreateCollection("", "docs", schema).status());
  ASSERT_OK(db->CreateCollection("", "faq", schema).status());
  ASSERT_OK(db->Insert("", "docs", TestRows(schema, 0, 500)).status());
  ASSERT_OK(db->Flush("", "docs"));
  ASSERT_OK(db->Insert("", "docs", TestRows(schema, 500, 100)).status());
  ASSERT_OK(db->Insert("", "faq", TestRows(schema, 0, 50)).status());

  // A writer upserts and deletes in docs throughout the backup: the cut
  // falls somewhere among its writes, and the recorded checksum must be the
  // restored copy's all the same.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int v = 1; !stop.load(); ++v) {
      (void)db->Upsert("", "docs", TestRows(schema, v % 600, 1, v));
      (void)db->Delete("", "docs", {PrimaryKey{int64_t{(v * 7) % 600}}});
    }
  });
  BackupOptions o;
  o.name = "b";
  auto m = CreateBackup(db.get(), repo.get(), o);
  stop = true;
  writer.join();
  ASSERT_OK(m.status());
  ASSERT_EQ(m->collections.size(), 2u);

  RestoreOptions ro;
  ro.name = "b";
  ro.target_dir = dir.Sub("restored");
  ASSERT_OK(RestoreBackup(Env::Default(), repo.get(), ro).status());
  ASSERT_OK_AND_ASSIGN(auto restored, Database::Open(Env::Default(), dir.Sub("restored"), Options()));
  for (const auto& c : m->collections) {
    EXPECT_EQ(c.checksum.rfind("v1:", 0), 0u) << c.name;
    EXPECT_EQ(c.checksum, ChecksumOf(restored.get(), c.name)) << c.name;
  }
  // faq was not written: its checksum is also the source's now.
  for (const auto& c : m->collections) {
    if (c.name == "faq") {
      EXPECT_EQ(c.checksum, ChecksumOf(db.get(), "faq"));
    }
  }
}

TEST(BackupChecksumTest, TheManifestKeepsItReadsOlderOnesAndRefusesAnUnreadableOne) {
  BackupManifest m;
  m.name = "b";
  m.ark_version = "test";
  m.source = "test";
  m.position = {1, 10};
  m.checkpoint = {1, 5};
  m.wal_records = 5;
  m.blobs.push_back({"manifest", std::string(64, 'a'), 10, 10});
  BackupCollection c;
  c.id = 2;
  c.database = "default";
  c.name = "docs";
  c.rows = 3;
  c.checksum = "v1:0123456789abcdef0123456789abcdef";
  m.collections.push_back(c);
  nlohmann::json j = BackupManifestToJson(m);
  ASSERT_OK_AND_ASSIGN(BackupManifest back, BackupManifestFromJson(j, "b.json"));
  EXPECT_EQ(back.collections.at(0).checksum, c.checksum);

  j["collections"][0].erase("checksum");  // a backup made before checksums were recorded
  ASSERT_OK_AND_ASSIGN(BackupManifest old, BackupManifestFromJson(j, "b.json"));
  EXPECT_EQ(old.collections.at(0).checksum, "");
  EXPECT_FALSE(BackupManifestToJson(old)["collections"][0].contains("checksum"));

  for (const nlohmann::json& bad : {nlohmann::json("sha1:abc"), nlohmann::json(7)}) {
    j["collections"][0]["checksum"] = bad;
    auto r = BackupManifestFromJson(j, "b.json");
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_NE(r.status().message().find("checksum"), std::string::npos) << r.status().ToString();
  }
}

}  // namespace
}  // namespace ark::dr
