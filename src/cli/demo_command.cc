// `ark demo --data-dir DIR`: runs the storage engine end to end and says what
// it did: open (recovering whatever DIR holds), create a collection of 768-d
// vectors, insert a few thousand rows, upsert, delete, seal, close, reopen and
// verify the counts and one row. Idempotent: a second run on the same
// directory adds a new range of keys and verifies everything again.
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "cli/command_registry.h"
#include "cli/demo_dr.h"
#include "engine/database.h"
#include "storage/env.h"

namespace ark::cli {
namespace {

constexpr uint32_t kDim = 768;
constexpr const char* kCollection = "demo";

CollectionSchema DemoSchema() {
  CollectionSchema s;
  s.enable_dynamic_field = true;
  s.fields.push_back({"id", DataType::kInt64, true, 0, 0, ""});
  s.fields.push_back({"title", DataType::kVarChar, false, 64, 0, ""});
  s.fields.push_back({"year", DataType::kInt32, false, 0, 0, ""});
  s.fields.push_back({"embedding", DataType::kFloatVector, false, 0, kDim, ""});
  return s;
}

RowBatch DemoRows(const CollectionSchema& s, int64_t first, size_t n, int version) {
  RowBatch b = RowBatch::Empty(s);
  for (auto& c : b.columns) c.Reserve(n);
  std::uniform_real_distribution<float> u(-1, 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t id = first + static_cast<int64_t>(i);
    std::mt19937 rng(static_cast<uint32_t>(id * 31 + version));  // a row's values depend on it alone
    b.columns[0].ints.push_back(id);
    b.columns[1].strings.push_back("document " + std::to_string(id) + (version ? " (revised)" : ""));
    b.columns[2].ints.push_back(1990 + id % 35);
    for (uint32_t d = 0; d < kDim; ++d) b.columns[3].floats.push_back(u(rng));
    b.columns[4].strings.push_back(version ? R"({"revision":)" + std::to_string(version) + "}" : "{}");
    ++b.num_rows;
  }
  return b;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

Result<std::unique_ptr<Database>> OpenAndReport(const std::string& dir) {
  auto t = std::chrono::steady_clock::now();
  ARK_ASSIGN_OR_RETURN(auto db, Database::Open(Env::Default(), dir, DatabaseOptions{}));
  Manifest m = db->CurrentManifest();
  std::printf("opened %s in %.3f s: manifest v%llu, epoch %llu, WAL at %s (replayed after checkpoint %s)\n",
              dir.c_str(), Seconds(t), static_cast<unsigned long long>(m.version),
              static_cast<unsigned long long>(db->CurrentEpoch()),
              db->wal()->LastPosition().ToString().c_str(), m.checkpoint.ToString().c_str());
  for (const auto& c : db->ListCollections("default")) {
    std::printf("  collection %s.%s: %llu live rows (%llu sealed segments, %llu rows growing)\n",
                c.database.c_str(), c.name.c_str(), static_cast<unsigned long long>(c.live_rows),
                static_cast<unsigned long long>(c.sealed_segments),
                static_cast<unsigned long long>(c.growing_rows));
  }
  return db;
}

Status RunDemo(const std::string& dir) {
  const CollectionSchema schema = DemoSchema();
  ARK_ASSIGN_OR_RETURN(auto db, OpenAndReport(dir));
  if (db->DescribeCollection("", kCollection).status().IsNotFound()) {
    ARK_ASSIGN_OR_RETURN(Position p, db->CreateCollection("", kCollection, schema));
    std::printf("created collection default.%s (id Int64 pk, title VarChar(64), year Int32, embedding FloatVector(%u), dynamic field) at %s\n",
                kCollection, kDim, p.ToString().c_str());
  }
  ARK_ASSIGN_OR_RETURN(auto before_snap, db->GetSnapshot("", kCollection));
  const uint64_t before = before_snap->CountRows();
  int64_t first = 0;
  before_snap->ForEachVisibleRow([&](const RowBlock& b, size_t r) {
    first = std::max(first, b.rows().columns[0].ints[r] + 1);
  });
  std::printf("this run writes keys from %lld\n", static_cast<long long>(first));

  const size_t kRows = 3000, kBatch = 500;
  auto t = std::chrono::steady_clock::now();
  Position last;
  for (size_t off = 0; off < kRows; off += kBatch) {
    ARK_ASSIGN_OR_RETURN(auto w, db->Insert("", kCollection, DemoRows(schema, first + off, kBatch, 0)));
    last = w.position;
  }
  double secs = Seconds(t);
  std::printf("inserted %zu rows of %u-d vectors in %zu durable batches: %.3f s, %.0f rows/s, %.1f MB/s (last at %s)\n",
              kRows, kDim, kRows / kBatch, secs, kRows / secs, kRows * kDim * 4 / secs / 1e6,
              last.ToString().c_str());
  ARK_ASSIGN_OR_RETURN(auto up, db->Upsert("", kCollection, DemoRows(schema, first, 100, 1)));
  std::printf("upserted 100 rows (keys %lld..%lld get revision 1) at %s\n", static_cast<long long>(first),
              static_cast<long long>(first + 99), up.position.ToString().c_str());
  std::vector<PrimaryKey> doomed;
  for (int64_t k = first + 100; k < first + 150; ++k) doomed.emplace_back(k);
  ARK_ASSIGN_OR_RETURN(auto del, db->Delete("", kCollection, doomed));
  std::printf("deleted %llu rows at %s\n", static_cast<unsigned long long>(del.count), del.position.ToString().c_str());
  t = std::chrono::steady_clock::now();
  ARK_RETURN_IF_ERROR(db->Flush("", kCollection));
  Manifest m = db->CurrentManifest();
  for (const auto& c : m.collections) {
    if (c.name != kCollection || c.segments.empty()) continue;
    const auto& s = c.segments.back();
    std::printf("sealed in %.3f s: segment files/%s (%llu rows, %.1f MB), manifest v%llu, checkpoint %s\n",
                Seconds(t), s.file.c_str(), static_cast<unsigned long long>(s.rows), s.bytes / 1e6,
                static_cast<unsigned long long>(m.version), m.checkpoint.ToString().c_str());
  }
  ARK_RETURN_IF_ERROR(db->Insert("", kCollection, DemoRows(schema, first + kRows, 200, 0)).status());
  std::printf("inserted 200 more rows that stay in the WAL and the growing segment\n");
  const uint64_t expected = before + kRows - 50 + 200;
  db.reset();
  std::printf("closed; reopening\n");

  ARK_ASSIGN_OR_RETURN(db, OpenAndReport(dir));
  ARK_ASSIGN_OR_RETURN(auto snap, db->GetSnapshot("", kCollection));
  uint64_t count = snap->CountRows();
  if (count != expected) {
    return Status::Internal("demo: expected " + std::to_string(expected) + " rows after reopen, found " +
                            std::to_string(count));
  }
  RowBatch want = DemoRows(schema, first + 7, 1, 1);
  ARK_ASSIGN_OR_RETURN(RowBatch got, snap->Get({PrimaryKey(first + 7)}));
  if (!(got == want)) return Status::Internal("demo: upserted row " + std::to_string(first + 7) + " differs after reopen");
  ARK_ASSIGN_OR_RETURN(RowBatch gone, snap->Get({PrimaryKey(first + 120)}));
  if (gone.num_rows != 0) {
    return Status::Internal("demo: deleted row came back after reopen");
  }
  std::printf("verified after reopen: %llu rows (expected %llu), row %lld carries its upserted value \"%s\", deleted row %lld is gone\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(expected),
              static_cast<long long>(first + 7), got.columns[1].strings[0].c_str(),
              static_cast<long long>(first + 120));
  std::printf("inspect with: ark inspect manifest %s   |   ark inspect wal %s/wal\n", dir.c_str(), dir.c_str());
  return Status::OK();
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_COMMAND(demo) {
  auto* cmd = app.add_subcommand("demo", "Run the storage engine end to end on a data directory");
  auto dir = std::make_shared<std::string>("./ark-data");
  cmd->add_option("--data-dir", *dir, "data directory (created if missing)");
  ark::cli::AddDemoDrCommand(cmd);
  cmd->callback([cmd, dir] {
    if (cmd->got_subcommand("dr")) return;  // `ark demo dr` ran instead
    ark::Status s = ark::cli::RunDemo(*dir);
    if (!s.ok()) ark::cli::Fail(s);
  });
}
