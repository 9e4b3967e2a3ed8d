#include "dr/failover/rejoin.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>

#include "engine/database.h"
#include "engine/dr_seam.h"
#include "engine/file_change.h"
#include "engine/wal_codec.h"

namespace ark::dr {

namespace {

std::string Stamp(uint64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1'000'000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Result<std::vector<EpochStart>> RemoteEpochs(const nlohmann::json& status, const std::string& url) {
  if (!status.contains("epochs") || !status["epochs"].is_array()) {
    return Status::Unavailable(url + " did not report its epoch history");
  }
  std::vector<EpochStart> out;
  for (const auto& e : status["epochs"]) {
    if (!e.is_object() || !e.contains("epoch") || !e["epoch"].is_number_unsigned() || !e.contains("start") ||
        !e["start"].is_string()) {
      return Status::Unavailable(url + " reported a malformed epoch history");
    }
    ARK_ASSIGN_OR_RETURN(Position start, Position::Parse(e["start"].get<std::string>()));
    out.push_back(EpochStart{e["epoch"].get<uint64_t>(), start});
  }
  return out;
}

// The first position the two histories do not share (lsn), or 0 if the local
// one is a prefix of the remote one.
uint64_t ForkLsn(const std::vector<EpochStart>& local, const std::vector<EpochStart>& remote) {
  size_t i = 0;
  while (i < local.size() && i < remote.size() && local[i] == remote[i]) ++i;
  uint64_t fork = 0;
  if (i < remote.size()) fork = remote[i].first.lsn;
  if (i < local.size()) fork = fork == 0 ? local[i].first.lsn : std::min(fork, local[i].first.lsn);
  return fork;
}

nlohmann::json DescribeRecord(const WalRecord& r, const std::map<uint64_t, CollectionInfo>& collections) {
  nlohmann::json j = {{"position", r.position.ToString()},
                      {"timestampMicros", r.timestamp_micros},
                      {"op", std::string(EngineOpName(r.op))}};
  if (r.collection_id == 0) return j;
  j["collectionId"] = r.collection_id;
  auto it = collections.find(r.collection_id);
  if (it != collections.end()) {
    j["database"] = it->second.database;
    j["collection"] = it->second.name;
  }
  nlohmann::json keys = nlohmann::json::array();
  if (r.op == static_cast<uint16_t>(WalOp::kDelete)) {
    auto k = DecodeKeys(r.body, r.position);
    if (k.ok()) {
      for (const auto& key : *k) keys.push_back(PrimaryKeyToString(key));
    }
  } else if ((r.op == static_cast<uint16_t>(WalOp::kInsert) || r.op == static_cast<uint16_t>(WalOp::kUpsert)) &&
             it != collections.end()) {
    auto rows = DecodeRows(r.body, r.position);
    size_t pk = it->second.schema.PrimaryKeyIndex();
    if (rows.ok() && pk < rows->columns.size()) {
      for (size_t i = 0; i < rows->num_rows; ++i) keys.push_back(PrimaryKeyToString(PrimaryKeyAt(rows->columns[pk], i)));
    }
  }
  if (!keys.empty()) {
    j["rows"] = keys.size();
    j["keys"] = keys;
  }
  return j;
}

}  // namespace

Result<nlohmann::json> RejoinAsStandby(Env* env, const RejoinOptions& o) {
  ARK_RETURN_IF_ERROR(ValidateBaseUrl(o.primary_url, "new primary"));
  ARK_ASSIGN_OR_RETURN(nlohmann::json remote_status,
                       PostJson(o.primary_url, "/ark/v1/replication/status", nlohmann::json::object(), o.http));
  if (remote_status.value("role", "") != "primary") {
    return Status::FailedPrecondition(fmt::format("{} is not a primary (role {}): rejoin only a primary's history",
                                                  o.primary_url, remote_status.value("role", "?")));
  }
  ARK_ASSIGN_OR_RETURN(std::vector<EpochStart> remote, RemoteEpochs(remote_status, o.primary_url));

  nlohmann::json report;
  std::vector<std::string> files;
  {
    DatabaseOptions options;
    options.follower = true;  // read only: no seals, no index builds, no writes of its own
    auto opened = Database::Open(env, o.data_dir, options);
    if (!opened.ok()) return opened.status().WithContext("opening the former primary's directory " + o.data_dir);
    std::unique_ptr<Database> db = std::move(*opened);
    const std::vector<EpochStart> local = db->EpochHistory();
    const Position last = db->wal()->DurablePosition();
    uint64_t fork = ForkLsn(local, remote);
    std::map<uint64_t, CollectionInfo> collections;
    for (const auto& d : db->ListDatabases()) {
      for (auto& c : db->ListCollections(d)) collections[c.id] = c;
    }
    nlohmann::json discarded = nlohmann::json::array();
    uint64_t discarded_rows = 0;
    std::string unreadable;
    if (fork != 0 && last.lsn >= fork) {
      uint64_t epoch_before = local.front().epoch;
      for (const auto& e : local) {
        if (e.first.lsn <= fork - 1) epoch_before = e.epoch;
      }
      DrSeam seam(db.get());
      Status read = seam.ReadRecords(Position{epoch_before, fork - 1}, last, [&](const WalRecord& r, std::string_view) {
        nlohmann::json d = DescribeRecord(r, collections);
        discarded_rows += d.value("rows", uint64_t{0});
        discarded.push_back(std::move(d));
        return Status::OK();
      });
      if (!read.ok()) unreadable = read.ToString();
    }
    auto epochs_json = [](const std::vector<EpochStart>& h) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& e : h) a.push_back({{"epoch", e.epoch}, {"start", e.first.ToString()}});
      return a;
    };
    report = {{"version", 1},
              {"dataDir", o.data_dir},
              {"newPrimary", o.primary_url},
              {"localEpochs", epochs_json(local)},
              {"newPrimaryEpochs", epochs_json(remote)},
              {"localLast", last.ToString()},
              {"forkLsn", fork},
              {"discardedRecords", discarded.size()},
              {"discardedRows", discarded_rows},
              {"discarded", discarded},
              {"atMicros", env->WallMicros()},
              {"dryRun", o.dry_run}};
    if (!unreadable.empty()) {
      report["unreadable"] = "some records past the fork are no longer in the WAL (their effect is in the files of "
                             "the directory set aside): " + unreadable;
    }
    for (const auto& f : db->CurrentManifest().LiveFiles()) files.push_back(f);
  }
  spdlog::warn("rejoin: {} forks from {} at lsn {}: {} record(s), {} row(s) of this history are discarded",
               o.data_dir, o.primary_url, report["forkLsn"].get<uint64_t>(), report["discardedRecords"].get<size_t>(),
               report["discardedRows"].get<uint64_t>());
  if (o.dry_run) return report;

  // Set the whole directory aside, then a fresh standby directory holding
  // links to its content-addressed files (every file, not only the live
  // ones: the new primary's history may name any of them).
  const std::string stamp = Stamp(env->WallMicros());
  std::string dir = o.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const std::string aside = dir + ".before-rejoin-" + stamp;
  if (env->FileExists(aside)) return Status::AlreadyExists(aside + " exists: rejoined twice in one second?");
  ARK_RETURN_IF_ERROR(env->RenameFile(dir, aside));
  ARK_RETURN_IF_ERROR(DrSeam::PrepareDirectory(env, dir));
  uint64_t linked = 0;
  auto old_files = env->ListDir(JoinPath(aside, "files"));
  if (old_files.ok()) {
    for (const auto& name : *old_files) {
      if (name.size() != 64) continue;  // only complete files are named by their hash
      Status l = env->LinkFile(JoinPath(JoinPath(aside, "files"), name), DrSeam::FileDestination(dir, name));
      if (l.ok()) ++linked;
    }
  }
  ARK_RETURN_IF_ERROR(env->SyncDir(JoinPath(dir, "files")));
  report["setAside"] = aside;
  report["filesLinked"] = linked;
  report["liveFilesBefore"] = files.size();
  const std::string name = "FAILBACK-" + stamp + ".json";
  ARK_RETURN_IF_ERROR(env->WriteFileAtomic(JoinPath(aside, name), report.dump(2) + "\n"));
  ARK_RETURN_IF_ERROR(env->WriteFileAtomic(JoinPath(dir, name), report.dump(2) + "\n"));
  report["reportFile"] = JoinPath(dir, name);
  return report;
}

}  // namespace ark::dr
