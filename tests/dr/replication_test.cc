// Replication without a network: the stream's message format, and a
// ReplicationSource feeding a follower Database through its real stream
// bytes (bootstrap by copying files by hash, stream, feedback, sync gate,
// forked-history refusal). The HTTP path is tested by
// tests/node/replication.test.js against two `ark serve` processes.
#include "dr/replication/replication_source.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "dr/archive/archiver.h"
#include "dr/replication/archive_catchup.h"
#include "dr/replication/stream_format.h"
#include "dr/repository/repository_open.h"
#include "engine/database.h"
#include "engine/dr_seam.h"
#include "engine/engine_test_util.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

using ark::testing::TempDir;
using ark::testing::TestRows;
using ark::testing::TestSchema;

TEST(ReplicationStreamFormat, MessagesSurviveAnySplitOfTheBytes) {
  std::string bytes;
  AppendStreamMessage(StreamMessageType::kHello, R"({"version":1})", &bytes);
  AppendStreamMessage(StreamMessageType::kRecords, std::string(100000, 'r'), &bytes);
  AppendStreamMessage(StreamMessageType::kStatus, "", &bytes);
  AppendStreamMessage(StreamMessageType::kEnd, R"({"code":0})", &bytes);
  for (size_t step : {size_t{1}, size_t{7}, size_t{16}, bytes.size()}) {
    StreamParser p;
    std::vector<StreamMessage> got;
    for (size_t off = 0; off < bytes.size(); off += step) {
      p.Feed(std::string_view(bytes).substr(off, step));
      StreamMessage m;
      while (true) {
        auto r = p.Next(&m);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        if (!*r) break;
        got.push_back(m);
      }
    }
    ASSERT_EQ(got.size(), 4u) << "step " << step;
    EXPECT_EQ(got[0].type, StreamMessageType::kHello);
    EXPECT_EQ(got[1].payload.size(), 100000u);
    EXPECT_EQ(got[2].payload, "");
    EXPECT_EQ(got[3].type, StreamMessageType::kEnd);
    EXPECT_EQ(p.Pending(), 0u);
  }
}

TEST(ReplicationStreamFormat, DamageIsCorruptionNamingTheOffsetAndSticks) {
  std::string good;
  AppendStreamMessage(StreamMessageType::kStatus, "{}", &good);
  const size_t second = good.size();
  AppendStreamMessage(StreamMessageType::kRecords, "abcdef", &good);
  struct Case {
    const char* what;
    size_t at;
    char value;
    const char* expect;
  } cases[] = {
      {"magic", second + 1, 'X', "bad message magic"},
      {"type", second + 4, 9, "unknown message type 9"},
      {"reserved", second + 6, 1, "reserved"},
      {"length", second + 11, 0x7f, "over the bound"},
      {"payload", second + 17, 'Z', "checksum mismatch"},
  };
  for (const auto& c : cases) {
    std::string bad = good;
    bad[c.at] = c.value;
    StreamParser p;
    p.Feed(bad);
    StreamMessage m;
    auto first = p.Next(&m);
    ASSERT_TRUE(first.ok() && *first) << c.what;
    auto r = p.Next(&m);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << c.what;
    EXPECT_NE(r.status().message().find("offset " + std::to_string(second)), std::string::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().ToString();
    EXPECT_FALSE(p.Next(&m).ok()) << "a failed parser stays failed";
  }
}

TEST(ReplicationStreamFormat, Base64RoundTripsAndRefusesGarbage) {
  for (std::string s : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                        std::string("\0\xff\x10" "binary", 9)}) {
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(Base64Decode("abc").ok());
  EXPECT_FALSE(Base64Decode("a!c=").ok());
}

DatabaseOptions Opts(bool follower = false) {
  DatabaseOptions o;
  o.auto_seal = false;
  o.index_build_threads = 0;
  o.follower = follower;
  return o;
}

std::set<int64_t> Ids(Database* db, const std::string& name) {
  std::set<int64_t> out;
  auto snap = db->GetSnapshot("", name);
  if (!snap.ok()) return out;
  auto rows = (*snap)->Query(QueryRequest{});
  if (!rows.ok()) return out;
  for (size_t i = 0; i < rows->num_rows; ++i) out.insert(rows->columns[0].ints[i]);
  return out;
}

// A primary, a source on it, and a follower seeded from a bootstrap by
// copying the files the manifest names (what the standby does over HTTP).
class ReplicationSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = Database::Open(Env::Default(), dir_.Sub("primary"), Opts());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    primary_ = std::move(*p);
  }
  // WAL segments of 256 KiB, so a few MiB of writes make whole segments the
  // WAL may remove.
  void ReopenPrimaryWithSmallSegments() {
    primary_.reset();
    DatabaseOptions o = Opts();
    o.wal.segment_size_bytes = 256 << 10;
    auto p = Database::Open(Env::Default(), dir_.Sub("primary"), o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    primary_ = std::move(*p);
  }
  // The primary's WAL archive in a local repository, shipping every 50 ms.
  void StartArchiver() {
    auto opened = OpenRepositoryUrl(Env::Default(), dir_.Sub("repo"), EncryptionKey{}, /*create=*/true);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    repo_ = std::move(*opened);
    ArchiveConfig ac;
    ac.repo = dir_.Sub("repo");
    ac.interval_seconds = 0.05;
    archiver_ = std::make_unique<Archiver>(Env::Default(), primary_.get(), ac, repo_.repo.get());
    ASSERT_TRUE(archiver_->Start().ok());
  }
  void StartSource(ReplicationConfig config = {}) {
    source_ = std::make_unique<ReplicationSource>(Env::Default(), primary_.get(), config);
    source_->Start();
  }
  // Bootstraps "s1" into a new directory and opens it as a follower.
  void Bootstrap() {
    auto boot = source_->Bootstrap("s1");
    ASSERT_TRUE(boot.ok()) << boot.status().ToString();
    auto bytes = Base64Decode((*boot)["manifest"].get<std::string>());
    ASSERT_TRUE(bytes.ok());
    auto manifest = DecodeManifest(*bytes, "boot");
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    const std::string dir = dir_.Sub("standby");
    ASSERT_TRUE(DrSeam::PrepareDirectory(Env::Default(), dir).ok());
    DrSeam seam(primary_.get());
    for (const auto& f : (*boot)["files"]) {
      const std::string hex = f["sha256"].get<std::string>();
      auto file = seam.OpenFile(hex);
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      auto size = (*file)->Size();
      std::string content(*size, '\0');
      std::string_view got;
      ASSERT_TRUE((*file)->Read(0, *size, &got, content.data()).ok());
      auto out = Env::Default()->NewWritableFile(DrSeam::FileDestination(dir, hex));
      ASSERT_TRUE((*out)->Append(got).ok());
      ASSERT_TRUE((*out)->Close().ok());
    }
    ASSERT_TRUE(DrSeam::SeedDirectory(Env::Default(), dir, *manifest, {}).ok());
    ASSERT_TRUE(source_->FinishBootstrap("s1").ok());
    DatabaseOptions o = Opts(/*follower=*/true);
    Database* primary = primary_.get();
    o.fetch_file = [primary](const std::string& hex) -> Result<std::string> {
      DrSeam seam(primary);
      ARK_ASSIGN_OR_RETURN(auto f, seam.OpenFile(hex));
      ARK_ASSIGN_OR_RETURN(uint64_t size, f->Size());
      std::string content(size, '\0');
      std::string_view got;
      ARK_RETURN_IF_ERROR(f->Read(0, size, &got, content.data()));
      return std::string(got);
    };
    auto f = Database::Open(Env::Default(), dir, o);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    follower_ = std::move(*f);
  }
  // Streams until the follower has `upto`, applying what arrives; then
  // sends feedback. Returns the message types seen.
  std::vector<StreamMessageType> StreamUntil(Position upto) {
    StreamRefusal refusal;
    auto session = source_->OpenStream("s1", follower_->wal()->DurablePosition(), follower_->EpochHistory(), &refusal);
    EXPECT_TRUE(session) << refusal.status.ToString();
    if (!session) return {};
    std::vector<StreamMessageType> types;
    StreamParser parser;
    Status failure;
    session->Run([&](std::string_view bytes) {
      parser.Feed(bytes);
      StreamMessage m;
      while (true) {
        auto got = parser.Next(&m);
        if (!got.ok()) {
          failure = got.status();
          return false;
        }
        if (!*got) break;
        types.push_back(m.type);
        if (m.type != StreamMessageType::kRecords) continue;
        std::string_view rest = m.payload;
        while (!rest.empty()) {
          uint32_t len = 0;
          for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(static_cast<unsigned char>(rest[i])) << (8 * i);
          auto rec = DecodeFramedRecord(rest.substr(0, 32 + len), "test stream");
          if (!rec.ok()) {
            failure = rec.status();
            return false;
          }
          auto applied = follower_->AppendReplicated(*rec);
          if (!applied.ok()) {
            failure = applied.status();
            return false;
          }
          rest.remove_prefix(32 + len);
        }
      }
      return follower_->wal()->DurablePosition().lsn < upto.lsn;  // false ends the session
    });
    EXPECT_TRUE(failure.ok()) << failure.ToString();
    Position p = follower_->wal()->DurablePosition();
    auto fb = source_->Feedback("s1", p, p, p);
    EXPECT_TRUE(fb.ok()) << fb.status().ToString();
    return types;
  }

  TempDir dir_;
  std::unique_ptr<Database> primary_;
  std::unique_ptr<ReplicationSource> source_;
  OpenedRepository repo_;
  std::unique_ptr<Archiver> archiver_;  // stopped (destroyed) before the source and the primary
  std::unique_ptr<Database> follower_;
};

TEST_F(ReplicationSourceTest, AFollowerConvergesWithTheSameFilesAndRows) {
  StartSource();
  auto s = TestSchema(8);
  ASSERT_TRUE(primary_->CreateCollection("", "a", s).ok());
  ASSERT_TRUE(primary_->Insert("", "a", TestRows(s, 0, 50)).ok());
  ASSERT_TRUE(primary_->Flush("", "a").ok());  // a file before the bootstrap
  ASSERT_TRUE(primary_->Insert("", "a", TestRows(s, 50, 10)).ok());
  Bootstrap();
  // After the bootstrap: more rows, a delete, a seal (a file change the
  // follower fetches by hash) and a second collection.
  ASSERT_TRUE(primary_->Insert("", "a", TestRows(s, 60, 30)).ok());
  ASSERT_TRUE(primary_->Delete("", "a", {PrimaryKey{int64_t{3}}, PrimaryKey{int64_t{55}}}).ok());
  ASSERT_TRUE(primary_->Flush("", "a").ok());
  ASSERT_TRUE(primary_->CreateCollection("", "b", s).ok());
  ASSERT_TRUE(primary_->Insert("", "b", TestRows(s, 0, 5)).ok());
  auto types = StreamUntil(primary_->wal()->DurablePosition());
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types.front(), StreamMessageType::kHello);
  EXPECT_EQ(Ids(follower_.get(), "a"), Ids(primary_.get(), "a"));
  EXPECT_EQ(Ids(follower_.get(), "a").size(), 88u);
  EXPECT_EQ(Ids(follower_.get(), "b"), Ids(primary_.get(), "b"));
  EXPECT_EQ(follower_->CurrentManifest().LiveFiles(), primary_->CurrentManifest().LiveFiles());
  // Feedback moved the slot: the primary keeps nothing the follower has.
  auto slot = DrSeam(primary_.get()).GetSlot("repl.s1");
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(slot->restart, follower_->wal()->DurablePosition());
  auto status = source_->GetStatus();
  ASSERT_EQ(status["standbys"].size(), 1u);
  EXPECT_EQ(status["standbys"][0]["lagRecords"], 0);
  // The follower refuses writes.
  EXPECT_EQ(follower_->Insert("", "a", TestRows(s, 1000, 1)).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ReplicationSourceTest, RefusesUnknownStandbysForkedHistoriesAndFeedbackFromTheFuture) {
  StartSource();
  StreamRefusal refusal;
  EXPECT_FALSE(source_->OpenStream("nobody", {1, 0}, {}, &refusal));
  EXPECT_EQ(refusal.http_status, 404);
  EXPECT_EQ(refusal.action, "bootstrap");
  Bootstrap();
  EXPECT_FALSE(source_->OpenStream("s1", {1, 0}, {{1, {1, 1}}, {7, {7, 3}}}, &refusal));
  EXPECT_EQ(refusal.http_status, 409);
  EXPECT_EQ(refusal.action, "rebootstrap");
  EXPECT_NE(refusal.status.message().find("forked"), std::string::npos) << refusal.status.ToString();
  EXPECT_FALSE(source_->OpenStream("bad name!", {1, 0}, {}, &refusal));
  EXPECT_EQ(refusal.http_status, 400);
  auto fb = source_->Feedback("s1", {1, 999}, {1, 999}, {1, 999});
  EXPECT_EQ(fb.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ReplicationSourceTest, SyncModeWaitsForAStandbyThenDegradesAfterTheTimeout) {
  ReplicationConfig c;
  c.mode = "sync";
  c.sync_timeout_ms = 200;
  StartSource(c);
  auto s = TestSchema(8);
  ASSERT_TRUE(primary_->CreateCollection("", "a", s).ok());  // no standby yet: waits 200 ms, degrades
  EXPECT_TRUE(source_->GetStatus()["sync"]["degraded"].get<bool>());
  Bootstrap();
  StreamUntil(primary_->wal()->DurablePosition());  // caught up: sync again
  EXPECT_FALSE(source_->GetStatus()["sync"]["degraded"].get<bool>());
  // A write now returns only once the standby acknowledged it: run it on a
  // thread and stream + feed back on this one.
  std::atomic<bool> done{false};
  std::thread writer([&] {
    EXPECT_TRUE(primary_->Insert("", "a", TestRows(s, 0, 3)).ok());
    done.store(true);
  });
  while (primary_->wal()->DurablePosition().lsn <= follower_->wal()->DurablePosition().lsn) {
    std::this_thread::yield();
  }
  EXPECT_FALSE(done.load()) << "acknowledged before the standby had it";
  StreamUntil(primary_->wal()->DurablePosition());
  writer.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(Ids(follower_.get(), "a").size(), 3u);
  EXPECT_FALSE(source_->GetStatus()["sync"]["degraded"].get<bool>());
  EXPECT_EQ(source_->GetStatus()["sync"]["timeouts"], 1);
}


TEST_F(ReplicationSourceTest, PeriodicModeShipsInBurstsAndOnlyKeepsAliveBetween) {
  ReplicationConfig c;
  c.mode = "periodic";
  c.period_seconds = 3600;  // the next burst is an hour away
  StartSource(c);
  auto s = TestSchema(8);
  ASSERT_TRUE(primary_->CreateCollection("", "a", s).ok());
  Bootstrap();
  ASSERT_TRUE(primary_->Insert("", "a", TestRows(s, 0, 5)).ok());
  const Position first_burst = primary_->wal()->DurablePosition();
  StreamRefusal refusal;
  auto session = source_->OpenStream("s1", follower_->wal()->DurablePosition(), follower_->EpochHistory(), &refusal);
  ASSERT_TRUE(session) << refusal.status.ToString();
  // The first burst ships what is durable at once. A record written after
  // it (at the first keepalive) must wait for the next burst: only
  // keepalives (STATUS) until then.
  std::vector<StreamMessageType> types;
  StreamParser parser;
  int phase = 0;  // 0: before the burst, 1: after it, 2: written
  int statuses_after_write = 0;
  session->Run([&](std::string_view bytes) {
    parser.Feed(bytes);
    StreamMessage m;
    while (true) {
      auto got = parser.Next(&m);
      if (!got.ok() || !*got) break;
      types.push_back(m.type);
      if (phase == 0 && m.type == StreamMessageType::kRecords) {
        phase = 1;
      } else if (phase == 1 && m.type == StreamMessageType::kStatus) {
        EXPECT_TRUE(primary_->Insert("", "a", TestRows(s, 100, 1)).ok());
        phase = 2;
      } else if (phase == 2 && m.type == StreamMessageType::kStatus) {
        ++statuses_after_write;
      }
    }
    return statuses_after_write < 2;  // two keepalives (about 2 s) after the write
  });
  int records = 0;
  for (auto t : types) records += t == StreamMessageType::kRecords;
  EXPECT_EQ(records, 1) << "the record written after the burst was shipped before the period";
  EXPECT_EQ(statuses_after_write, 2);
  EXPECT_GT(primary_->wal()->DurablePosition().lsn, first_burst.lsn);
  EXPECT_EQ(source_->GetStatus()["mode"], "periodic");
}

// A standby whose slot the primary gave up (past max_slot_bytes, the WAL it
// needed removed) is refused with a message naming the archive option;
// CatchUpFromArchive brings it to the archive's end through the replicated
// append; the primary then arms its slot again and the stream converges.
TEST_F(ReplicationSourceTest, AStandbyBehindTheRetainedWalCatchesUpFromTheArchiveThenStreams) {
  ReopenPrimaryWithSmallSegments();
  StartArchiver();
  ReplicationConfig rc;
  rc.max_slot_bytes = 1 << 20;
  StartSource(rc);
  auto s = TestSchema(256);
  ASSERT_TRUE(primary_->CreateCollection("", "a", s).ok());
  ASSERT_TRUE(primary_->Insert("", "a", TestRows(s, 0, 10)).ok());
  Bootstrap();
  StreamUntil(primary_->wal()->DurablePosition());
  const Position left_at = follower_->wal()->DurablePosition();
  // The standby is away: ~3 MiB of WAL, a delete and a seal (a file change
  // the standby must fetch by hash). The seal's checkpoint invalidates the
  // standby's slot and removes the segments only it held.
  for (int k = 1; k <= 30; ++k) ASSERT_TRUE(primary_->Insert("", "a", TestRows(s, 1000 * k, 100)).ok());
  ASSERT_TRUE(primary_->Delete("", "a", {PrimaryKey{int64_t{1005}}}).ok());
  ASSERT_TRUE(archiver_->Flush(30'000'000).ok());
  ASSERT_TRUE(primary_->Flush("", "a").ok());
  ASSERT_TRUE(primary_->Insert("", "a", TestRows(s, 900000, 2)).ok());
  ASSERT_TRUE(archiver_->Flush(30'000'000).ok());
  ASSERT_GT(primary_->wal()->OldestRetainedLsn(), left_at.lsn + 1) << "the WAL the standby needs was not removed";
  auto slot = DrSeam(primary_.get()).GetSlot("repl.s1");
  ASSERT_TRUE(slot.ok());
  EXPECT_TRUE(slot->invalidated);

  StreamRefusal refusal;
  EXPECT_FALSE(source_->OpenStream("s1", left_at, follower_->EpochHistory(), &refusal));
  EXPECT_EQ(refusal.http_status, 409);
  EXPECT_EQ(refusal.action, "rebootstrap");
  EXPECT_NE(refusal.status.message().find("replication.archive_repo"), std::string::npos) << refusal.status.ToString();

  auto report = CatchUpFromArchive(repo_.repo.get(), follower_.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->from, left_at);
  EXPECT_GT(report->records, 0u);
  EXPECT_EQ(report->reached, follower_->wal()->DurablePosition());
  EXPECT_EQ(report->reached, report->archive_end);
  EXPECT_TRUE(report->gap.empty()) << report->gap;
  // Again: nothing more to apply, nothing applied twice.
  auto again = CatchUpFromArchive(repo_.repo.get(), follower_.get());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->records, 0u);

  // Back within the retained WAL: the slot is armed again and it streams.
  ASSERT_TRUE(primary_->Insert("", "a", TestRows(s, 950000, 3)).ok());
  StreamUntil(primary_->wal()->DurablePosition());
  slot = DrSeam(primary_.get()).GetSlot("repl.s1");
  ASSERT_TRUE(slot.ok());
  EXPECT_FALSE(slot->invalidated);
  EXPECT_EQ(slot->restart, follower_->wal()->DurablePosition());
  EXPECT_EQ(Ids(follower_.get(), "a"), Ids(primary_.get(), "a"));
  EXPECT_EQ(Ids(follower_.get(), "a").size(), 10u + 3000u - 1u + 2u + 3u);
  EXPECT_EQ(follower_->CurrentManifest().LiveFiles(), primary_->CurrentManifest().LiveFiles());
}

// A follower on another history is refused by the archive as by the stream.
TEST_F(ReplicationSourceTest, ArchiveCatchUpRefusesAForkedStandby) {
  StartArchiver();
  StartSource();
  auto s = TestSchema(8);
  ASSERT_TRUE(primary_->CreateCollection("", "a", s).ok());
  Bootstrap();
  ASSERT_TRUE(primary_->Insert("", "a", TestRows(s, 0, 5)).ok());
  ASSERT_TRUE(archiver_->Flush(30'000'000).ok());
  // The follower was promoted on its own: a new epoch the archive never saw.
  follower_.reset();
  DatabaseOptions o = Opts();
  auto promoted = Database::Open(Env::Default(), dir_.Sub("standby"), o);
  ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
  ASSERT_TRUE((*promoted)->StartEpoch(9).ok());
  auto report = CatchUpFromArchive(repo_.repo.get(), promoted->get());
  EXPECT_EQ(report.status().code(), StatusCode::kFailedPrecondition) << report.status().ToString();
  EXPECT_NE(report.status().message().find("forked"), std::string::npos) << report.status().ToString();
}

}  // namespace
}  // namespace ark::dr
