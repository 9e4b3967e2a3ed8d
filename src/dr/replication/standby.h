// Standby: the standby's side of replication (docs/replication.md,
// docs/formats/replication-stream.md).
//
//   1. Bootstrap (before the Database opens): if the data directory holds
//      no database yet, fetch the primary's manifest (a pinned cut) and every
//      file it lacks by SHA-256 (files already in place are kept: a bootstrap
//      cut short resumes), then seed the directory (DrSeam::SeedDirectory).
//   2. Stream (once the Database is open as a follower): one connection at a
//      time, from the database's last durable record; every record is
//      verified and written with AppendReplicated (durable and applied when
//      it returns; a file-change record's files are fetched by hash through
//      FetchFile). A lost connection is retried with backoff (0.2 s doubling
//      to 10 s); a gap, a repeat or a damaged message ends the connection.
//   Behind the retained WAL (the primary invalidated its slot): with
//      replication.archive_repo, the records it lacks come from the WAL
//      archive (CatchUpFromArchive), then it streams again from where the
//      archive ends; without one, or when the archive does not reach far
//      enough, it waits in state needs-rebootstrap.
//   3. Feedback: a thread posts the newest positions after every applied
//      batch (at most one request in flight) and at least every 5 s.
//
// The data directory keeps a marker (STANDBY: primary URL and name) so a
// standby is never opened as a primary by mistake (CheckMarker).
//
// Thread-safety: Start/Stop from one thread; GetStatus and FetchFile from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "core/position.h"
#include "core/status.h"
#include "dr/replication/replication_config.h"
#include "dr/repository/repository_open.h"
#include "engine/database.h"
#include "storage/env.h"

namespace ark::dr {

inline constexpr char kStandbyMarkerFile[] = "STANDBY";

// What the marker says; NotFound when the directory is not a standby's.
struct StandbyMarker {
  std::string primary;
  std::string name;
};
Result<StandbyMarker> ReadStandbyMarker(Env* env, const std::string& data_dir);

class Standby {
 public:
  Standby(Env* env, std::string data_dir, ReplicationConfig config);
  ~Standby();
  Standby(const Standby&) = delete;
  Standby& operator=(const Standby&) = delete;

  // Reads the credential file; refuses a directory that is another
  // primary's standby, or a database that is not a standby at all; writes
  // the marker for a new one.
  Status Prepare();
  // Bootstraps the directory unless it holds a database; retries a failed
  // attempt with backoff until it succeeds, `stop` is set (Cancelled), or
  // the primary refuses for a reason retrying cannot fix.
  Status EnsureBootstrapped(const std::atomic<bool>* stop);
  // DatabaseOptions::fetch_file: the file with this SHA-256 from the primary.
  Result<std::string> FetchFile(const std::string& sha256_hex);

  void Start(Database* db);
  void Stop();

  // Manual failover (docs/failover.md): stops following and promotes the
  // database (Database::Promote, a new epoch), removes the STANDBY marker
  // (a PROMOTED file records when, from which primary and where the
  // histories fork) and reports what the old primary may hold that this
  // server lacks. Refused (FailedPrecondition) while the primary is alive
  // and streaming here — two primaries — unless `force`. `epoch` 0 = the
  // current one + 1. Start() must have run.
  //
  // With a witness (failover.witness), `claim_lease` is called first with
  // the new epoch: it claims the leader lease there, which the witness grants
  // only once the old primary's lease has expired — the old primary has
  // stopped acknowledging writes by then — so the lease, not the stream,
  // decides and `force` is not needed. A refused claim changes nothing.
  Result<nlohmann::json> Promote(bool force, uint64_t epoch,
                                 const std::function<Status(uint64_t epoch)>& claim_lease = nullptr);
  bool promoted() const;

  nlohmann::json GetStatus() const;
  void AddMetrics(MetricsRegistry* metrics);

 private:
  struct Client;
  Status BootstrapOnce(const std::atomic<bool>* stop);
  Status DownloadFile(Client& client, const std::string& hex, uint64_t bytes);
  void StreamLoop();
  // One connection: returns why it ended. *fatal when retrying cannot help.
  Status StreamOnce(bool* fatal);
  // Opens the primary's stream after `after` (sent with `epochs`) and calls
  // on_record for each record, in order, verified and checked to be the
  // next lsn, until it returns false (Status OK) or fails. HELLO and STATUS
  // update the primary's positions; *fatal when retrying cannot help.
  Status ReadStream(Position after, const std::vector<EpochStart>& epochs,
                    const std::function<Result<bool>(const WalRecord&)>& on_record, bool* fatal);
  // After a refusal that needs a re-bootstrap: catches up from the WAL
  // archive if one is configured. True when it applied records (stream
  // again); false with *why saying what the archive could not do.
  bool TryArchiveCatchUp(std::string* why);
  // The archive repository, opened on first use (file-fetch fallback too).
  Result<Repository*> ArchiveRepository();
  void FeedbackLoop();
  Status PostFeedback(Client& client);
  void SetState(const std::string& state, const std::string& reason = "");
  std::unique_ptr<Client> NewClient(int read_timeout_seconds) const;

  Env* const env_;
  const std::string dir_;
  ReplicationConfig config_;
  Database* db_ = nullptr;

  std::atomic<bool> stop_{false};
  std::thread stream_thread_, feedback_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // applied moved, or stop
  std::string state_ = "starting";
  std::string reason_;
  Position applied_;               // last record applied (and durable)
  Position fed_back_;              // last position acknowledged to the primary
  Position primary_last_, primary_durable_;
  uint64_t primary_now_micros_ = 0;
  uint64_t behind_since_micros_ = 0;  // 0 = caught up at the last STATUS
  uint64_t records_applied_ = 0, bytes_received_ = 0, reconnects_ = 0;
  uint64_t files_fetched_ = 0, file_bytes_fetched_ = 0;
  uint64_t connected_micros_ = 0;
  struct BootstrapProgress {
    bool done = false;
    uint64_t attempts = 0;
    uint64_t files_total = 0, files_done = 0, files_kept = 0;
    uint64_t bytes_total = 0, bytes_done = 0;
    double seconds = 0;  // request to seeded directory, retries included
  };
  BootstrapProgress boot_;  // mu_
  nlohmann::json promotion_;  // mu_; null until promoted
  std::mutex promote_mu_;     // one promotion at a time
  // The stream's and the feedback's connections while open: Stop() shuts
  // them down instead of waiting for the primary's next STATUS or a read
  // timeout (a promotion waits for Stop(); the primary may be frozen).
  std::mutex stream_client_mu_;
  Client* stream_client_ = nullptr;    // GUARDED_BY(stream_client_mu_)
  Client* feedback_client_ = nullptr;  // GUARDED_BY(stream_client_mu_)
  uint64_t archive_catchups_ = 0, archive_records_ = 0, archive_files_ = 0;
  std::string archive_last_;  // what the last catch-up did

  std::mutex archive_mu_;  // opening the repository
  OpenedRepository archive_;
};

}  // namespace ark::dr
