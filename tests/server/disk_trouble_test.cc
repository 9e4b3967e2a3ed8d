// Disk trouble (issue 7): ENOSPC and EIO on write and on sync, injected with
// FaultInjectionEnv under a real Database behind the real HTTP server. For
// each fault: writes acknowledged before it stay readable, the write that
// hits it and every later write are refused with a Milvus error naming the
// problem, reads keep answering, and after the fault is cleared and the
// server restarted every acknowledged row is there, no refused row is, and
// writes work again (and survive one more restart).
//
// Faults are aimed by count (FaultInjectionEnv fails the Nth Append or Sync
// from the moment it is armed). With auto-seal and background index builds
// off, the I/O each trigger does is fixed, and each case also checks that the
// error message names the file it meant to hit, so a change in the engine's
// I/O order fails the case instead of silently testing another file:
//   insert: the WAL's group-commit write, then its fdatasync;
//   flush:  segment temp file write + fsync, then the seal's FileChange record
//           (op 107, naming the new file by hash) through the WAL's group
//           commit write + fdatasync, then MANIFEST-<n>.tmp write + fsync,
//           then CURRENT.tmp write + fsync.
//
// Results and the rules they pin are in docs/reliability.md ("Disk
// trouble"); the tests at the end pin the four findings of the first run,
// fixed since: a refused insert neither comes back after a restart nor is
// visible before it, /readyz reports the sticky error, and a full disk is not
// answered as a (retryable) rate limit.
#include <cerrno>
#include <cstring>
#include <set>
#include <tuple>

#include "milvus_fixture.h"
#include "storage/fault_injection_env.h"

namespace ark::server {
namespace {

using nlohmann::json;

enum class FaultOp { kWrite, kSync };
enum class Trigger { kInsert, kFlush };

struct DiskFault {
  const char* name;
  FaultOp op;
  uint64_t nth;  // the Nth Append()/Sync() after arming
  int error_number;
  FaultInjectionEnv::WriteFault write_kind;
  Trigger trigger;       // the request that runs into the fault
  const char* file;      // a piece of the failing path the error must name
  int milvus_code;       // what the server answers
};

std::string ErrnoText(int error_number) { return std::strerror(error_number); }

// What the server answers (see milvus_error.cc): IOError -> 1200 Unexpected,
// ResourceExhausted (ENOSPC) -> 9 "quota exceeded[reason=...]", Milvus's
// non-retriable code for an exhausted disk quota (never 1807, the rate limit
// clients retry).
constexpr int kUnexpected = 1200;
constexpr int kQuotaExceeded = 9;
constexpr int kRateLimited = 1807;

const DiskFault kFaults[] = {
    {"WalWriteEnospc", FaultOp::kWrite, 1, ENOSPC, FaultInjectionEnv::WriteFault::kError,
     Trigger::kInsert, "/wal/", kQuotaExceeded},
    // ENOSPC as a real disk gives it: half the batch reached the file, so the
    // WAL ends in a torn record that reopening must cut off.
    {"WalShortWriteEnospc", FaultOp::kWrite, 1, ENOSPC, FaultInjectionEnv::WriteFault::kShortWrite,
     Trigger::kInsert, "/wal/", kQuotaExceeded},
    {"WalWriteEio", FaultOp::kWrite, 1, EIO, FaultInjectionEnv::WriteFault::kError,
     Trigger::kInsert, "/wal/", kUnexpected},
    {"WalFsyncEio", FaultOp::kSync, 1, EIO, FaultInjectionEnv::WriteFault::kError,
     Trigger::kInsert, "/wal/", kUnexpected},
    {"SegmentWriteEnospc", FaultOp::kWrite, 1, ENOSPC, FaultInjectionEnv::WriteFault::kError,
     Trigger::kFlush, "/files/", kQuotaExceeded},
    {"SegmentFsyncEio", FaultOp::kSync, 1, EIO, FaultInjectionEnv::WriteFault::kError,
     Trigger::kFlush, "/files/", kUnexpected},
    // The seal's FileChange record: the segment file is on disk but the WAL
    // never says so; after a restart the file is an orphan and the rows are
    // still the growing segment's (replayed from their insert records).
    {"FileChangeWalWriteEnospc", FaultOp::kWrite, 2, ENOSPC, FaultInjectionEnv::WriteFault::kError,
     Trigger::kFlush, "/wal/", kQuotaExceeded},
    {"FileChangeWalFsyncEio", FaultOp::kSync, 2, EIO, FaultInjectionEnv::WriteFault::kError,
     Trigger::kFlush, "/wal/", kUnexpected},
    // The manifest commit after the FileChange record is durable: a restart
    // replays the record and applies the seal from the WAL.
    {"ManifestWriteEnospc", FaultOp::kWrite, 3, ENOSPC, FaultInjectionEnv::WriteFault::kError,
     Trigger::kFlush, "/MANIFEST-", kQuotaExceeded},
    {"ManifestFsyncEio", FaultOp::kSync, 3, EIO, FaultInjectionEnv::WriteFault::kError,
     Trigger::kFlush, "/MANIFEST-", kUnexpected},
    {"CurrentFsyncEio", FaultOp::kSync, 4, EIO, FaultInjectionEnv::WriteFault::kError,
     Trigger::kFlush, "/CURRENT", kUnexpected},
};

// A MilvusFixture whose Database runs on a FaultInjectionEnv, with /readyz
// switched to ready and tied to Database::Health() as `ark serve` does once
// it has bound its port.
class DiskTroubleFixture : public MilvusFixture {
 protected:
  void SetUp() override {
    // Durability is tracked by the wrapper's bookkeeping; the real fsyncs
    // would only slow the suite down.
    env_.SetForwardSyncs(false);
    StartOnFaultEnv();
  }

  void StartOnFaultEnv() {
    DatabaseOptions options;
    options.auto_seal = false;        // the test decides when segments are written
    options.index_build_threads = 0;  // no background I/O between arming and trigger
    auto db = Database::Open(&env_, dir_.Sub("data"), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ServerConfig config;
    config.port = 0;
    config.access_log = false;
    http_ = std::make_unique<HttpServer>(config, &metrics_);
    service_ = std::make_unique<MilvusService>(db_.get(), config.limits);
    service_->Register(*http_);
    ASSERT_OK(http_->Bind());
    http_->SetReadinessCheck([db = db_.get()] { return db->Health(); });
    http_->SetReady(true);
    thread_ = std::thread([this] { EXPECT_OK(http_->Serve()); });
  }

  // The fault is cleared and the server restarts: the Database is closed and
  // opened again on the same files. Without power loss the OS kept every
  // byte written (synced or not); with it, only what was synced survives
  // (FaultInjectionEnv::DropUnsyncedData).
  void Restart(bool power_loss = false) {
    Stop();
    env_.ClearFaults();
    if (power_loss) ASSERT_OK(env_.DropUnsyncedData());
    StartOnFaultEnv();
  }

  void Arm(const DiskFault& f) {
    if (f.op == FaultOp::kWrite) {
      env_.FailWrite(f.nth, f.error_number, f.write_kind);
    } else {
      env_.FailSync(f.nth, f.error_number);
    }
  }

  static json Row(int id, float x = 0) {
    return {{"id", id}, {"vec", {x == 0 ? static_cast<float>(id) : x, 1.0f}}};
  }
  json Insert(std::initializer_list<int> ids) {
    json rows = json::array();
    for (int id : ids) rows.push_back(Row(id));
    return Call("entities/insert", {{"collectionName", "docs"}, {"data", rows}});
  }
  json Flush() { return Call("collections/flush", {{"collectionName", "docs"}}); }

  // docs: id Int64 pk, vec FloatVector(2), FLAT/L2. Rows 1..5 are sealed in a
  // segment file, rows 6..10 sit in the growing segment (WAL only); row i has
  // vec (i, 1). All ten are acknowledged.
  void MakeDocs() {
    json body = json::parse(R"({"collectionName":"docs","schema":{
      "fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
                {"fieldName":"vec","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
      "indexParams":[{"fieldName":"vec","indexName":"vec_idx","metricType":"L2",
                      "params":{"index_type":"FLAT"}}]})");
    ASSERT_EQ(Call("collections/create", body)["code"], 0);
    ASSERT_EQ(Insert({1, 2, 3, 4, 5})["code"], 0);
    ASSERT_EQ(Flush()["code"], 0);
    ASSERT_EQ(Insert({6, 7, 8, 9, 10})["code"], 0);
  }

  // collections/get_stats' rowCount.
  int64_t RowCountStat() {
    json r = Call("collections/get_stats", {{"collectionName", "docs"}});
    EXPECT_EQ(r["code"], 0) << r.dump();
    if (r["code"] != 0) return -1;
    return r["data"]["rowCount"].get<int64_t>();
  }
  int64_t Count(const std::string& filter = "") {
    json r = Call("entities/query",
                  {{"collectionName", "docs"}, {"filter", filter}, {"outputFields", {"count(*)"}}});
    EXPECT_EQ(r["code"], 0) << r.dump();
    if (r["code"] != 0) return -1;
    return r["data"][0]["count(*)"].get<int64_t>();
  }
  // The ids entities/get finds among `ids`, checking each row's vector.
  std::set<int> Get(const std::vector<int>& ids) {
    json r = Call("entities/get", {{"collectionName", "docs"}, {"id", ids}});
    EXPECT_EQ(r["code"], 0) << r.dump();
    std::set<int> found;
    if (r["code"] != 0) return found;
    for (const auto& row : r["data"]) {
      int id = row["id"].get<int>();
      EXPECT_EQ(row["vec"], json({static_cast<float>(id), 1.0f})) << "row " << id;
      found.insert(id);
    }
    return found;
  }
  std::vector<int> SearchNear(float x, int limit) {
    json r = Call("entities/search", {{"collectionName", "docs"},
                                      {"data", {{x, 1.0f}}},
                                      {"annsField", "vec"},
                                      {"limit", limit}});
    EXPECT_EQ(r["code"], 0) << r.dump();
    std::vector<int> ids;
    if (r["code"] != 0) return ids;
    for (const auto& hit : r["data"]) ids.push_back(hit["id"].get<int>());
    return ids;
  }
  // /readyz: the HTTP status and the body.
  std::pair<int, std::string> Readyz() {
    httplib::Client c("127.0.0.1", http_->port());
    auto r = c.Get("/readyz");
    EXPECT_TRUE(r);
    if (!r) return {0, ""};
    return {r->status, r->body};
  }

  // Reads that must answer with exactly the ten acknowledged rows.
  void ExpectAcknowledgedRowsReadable() {
    std::vector<int> acked = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    EXPECT_EQ(Get(acked), std::set<int>(acked.begin(), acked.end()));
    EXPECT_EQ(Count("id <= 10"), 10);
    // Nearest to (3, 1): row 3 (sealed), then rows 2 and 4 at the same distance.
    std::vector<int> near3 = SearchNear(3, 3);
    ASSERT_EQ(near3.size(), 3u);
    EXPECT_EQ(near3[0], 3);
    EXPECT_EQ(std::set<int>(near3.begin() + 1, near3.end()), (std::set<int>{2, 4}));
    std::vector<int> near8 = SearchNear(8, 1);  // a growing row
    EXPECT_EQ(near8, std::vector<int>({8}));
  }

  FaultInjectionEnv env_{Env::Default()};
};

// (fault, restart with power loss?)
class DiskTroubleTest : public DiskTroubleFixture,
                        public ::testing::WithParamInterface<std::tuple<DiskFault, bool>> {};

// A refusal: not a success, the code the server gives for this errno, and a
// message naming the OS error (and, when given, the file).
void ExpectRefused(const json& reply, const DiskFault& f, const std::string& file,
                   const std::string& what) {
  SCOPED_TRACE(what + ": " + reply.dump());
  ASSERT_TRUE(reply.is_object());
  EXPECT_NE(reply["code"], 0);
  EXPECT_NE(reply["code"], kRateLimited);
  EXPECT_EQ(reply["code"], f.milvus_code);
  ASSERT_TRUE(reply["message"].is_string());
  std::string message = reply["message"];
  EXPECT_NE(message.find(ErrnoText(f.error_number)), std::string::npos);
  if (!file.empty()) {
    EXPECT_NE(message.find(file), std::string::npos);
  }
  if (f.milvus_code == kQuotaExceeded) {
    EXPECT_EQ(message.rfind("quota exceeded[reason=", 0), 0u);
  }
  EXPECT_FALSE(reply.contains("data"));
}

TEST_P(DiskTroubleTest, RefusesWritesKeepsReadsAndRecoversAfterRestart) {
  const DiskFault& f = std::get<0>(GetParam());
  const bool power_loss = std::get<1>(GetParam());
  MakeDocs();
  ExpectAcknowledgedRowsReadable();

  Arm(f);
  json first = f.trigger == Trigger::kInsert ? Insert({11}) : Flush();
  ExpectRefused(first, f, f.file, "the request that hit the fault");
  if (f.trigger == Trigger::kInsert) {
    EXPECT_NE(first["message"].get<std::string>().find("WAL write failed"), std::string::npos)
        << first.dump();
  }

  // The fault fired once; the refusal is sticky: every later write is refused
  // with the same error until the database is reopened.
  ExpectRefused(Insert({12}), f, f.file, "a later insert");
  ExpectRefused(Call("entities/upsert", {{"collectionName", "docs"}, {"data", {Row(1, 100)}}}), f,
                f.file, "an upsert");
  ExpectRefused(Call("entities/delete", {{"collectionName", "docs"}, {"filter", "id in [2]"}}), f,
                f.file, "a delete");
  ExpectRefused(Flush(), f, f.file, "a flush");

  // Reads keep answering with the acknowledged data, and only with it.
  ExpectAcknowledgedRowsReadable();
  EXPECT_EQ(Count(), 10);
  EXPECT_TRUE(Get({11, 12}).empty());
  // Not ready, and the reason names the OS error.
  auto [status, body] = Readyz();
  EXPECT_EQ(status, 503) << body;
  EXPECT_NE(body.find(ErrnoText(f.error_number)), std::string::npos) << body;

  Restart(power_loss);
  // Every acknowledged row, unchanged; no refused write applied.
  EXPECT_EQ(Count(), 10);
  ExpectAcknowledgedRowsReadable();
  EXPECT_TRUE(Get({11, 12}).empty());
  EXPECT_EQ(Readyz().first, 200);

  // Writes work again (inserting 11 would be refused as a duplicate had the
  // refused insert come back), and what they write survives a restart.
  EXPECT_EQ(Insert({11, 12})["code"], 0);
  EXPECT_EQ(Flush()["code"], 0);
  EXPECT_EQ(Insert({13})["code"], 0);
  Restart(power_loss);
  EXPECT_EQ(Count(), 13);
  EXPECT_EQ(Get({11, 12, 13}), (std::set<int>{11, 12, 13}));
}

INSTANTIATE_TEST_SUITE_P(DiskTrouble, DiskTroubleTest,
                         ::testing::Combine(::testing::ValuesIn(kFaults), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) +
                                  (std::get<1>(info.param) ? "_PowerLoss" : "_Restart");
                         });

// ---- the findings of the first run, fixed ---------------------------------

// Readiness: /readyz was a flag `ark serve` set once at start; while every
// write was refused it still answered 200. Now it asks Database::Health().
TEST_F(DiskTroubleFixture, ReadyzAnswers503WithAReasonWhileWritesAreRefused) {
  MakeDocs();
  ASSERT_EQ(Readyz().first, 200);
  env_.FailSync(1, EIO);
  ASSERT_NE(Insert({11})["code"], 0);
  auto [status, body] = Readyz();
  EXPECT_EQ(status, 503) << body;
  EXPECT_NE(body.find("Input/output error"), std::string::npos) << body;
}

// Refused row visible: Database::Write applies the rows to memory before the
// group commit writes the WAL, and they stayed visible when that failed.
// Snapshots now stop at the WAL's durable lsn. Both the write and the sync.
TEST_F(DiskTroubleFixture, RowOfARefusedInsertIsNotVisibleToReads) {
  MakeDocs();
  env_.FailWrite(1, EIO);
  ASSERT_NE(Insert({11})["code"], 0);
  EXPECT_EQ(Count(), 10);
  EXPECT_EQ(RowCountStat(), 10);
  EXPECT_TRUE(Get({11}).empty());
  EXPECT_EQ(SearchNear(11, 1), std::vector<int>({10}));
}

// The same when the write reached the file and its fdatasync failed, for
// each kind of write: a refused upsert does not hide the row it would have
// replaced, a refused delete does not hide the row it would have removed.
TEST_F(DiskTroubleFixture, WritesWhoseWalSyncFailedAreNotVisibleToReads) {
  MakeDocs();
  env_.FailSync(1, EIO);
  ASSERT_EQ(Insert({11})["code"], kUnexpected);
  EXPECT_EQ(Count(), 10);
  EXPECT_EQ(RowCountStat(), 10) << "collections/get_stats counts a row whose WAL sync failed";
  EXPECT_TRUE(Get({11}).empty());
  EXPECT_EQ(SearchNear(11, 1), std::vector<int>({10}));

  Restart();
  env_.FailSync(1, EIO);
  json upsert = Call("entities/upsert", {{"collectionName", "docs"}, {"data", {Row(8, 100)}}});
  ASSERT_EQ(upsert["code"], kUnexpected) << upsert.dump();
  ExpectAcknowledgedRowsReadable();  // row 8 still (8, 1)
  EXPECT_EQ(SearchNear(100, 1), std::vector<int>({10}));

  Restart();
  env_.FailSync(1, EIO);
  json del = Call("entities/delete", {{"collectionName", "docs"}, {"filter", "id in [9]"}});
  ASSERT_EQ(del["code"], kUnexpected) << del.dump();
  ExpectAcknowledgedRowsReadable();
  EXPECT_EQ(Get({9}), std::set<int>({9}));

  // None of the three came back with the restart either.
  Restart();
  EXPECT_EQ(Count(), 10);
  ExpectAcknowledgedRowsReadable();
  EXPECT_EQ(SearchNear(100, 1), std::vector<int>({10}));
}

// Refused insert comes back: when the WAL's fdatasync fails, the batch's
// bytes are already in the segment file; the file was not cut back, so a
// restart without power loss replayed the refused row (and the client's retry
// was refused as a duplicate key, 1806). The WAL now cuts a failed batch off.
TEST_F(DiskTroubleFixture, InsertRefusedForAFailedWalFsyncStaysAbsentAfterRestart) {
  MakeDocs();
  env_.FailSync(1, EIO);
  ASSERT_EQ(Insert({11})["code"], kUnexpected);
  Restart();
  EXPECT_EQ(Count(), 10);
  EXPECT_TRUE(Get({11}).empty());
  EXPECT_EQ(Insert({11})["code"], 0);
}

}  // namespace
}  // namespace ark::server
