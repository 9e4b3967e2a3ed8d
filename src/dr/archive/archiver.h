// Archiver: continuous WAL archiving from a running database to a backup
// repository (docs/archive.md; format: docs/formats/backup-repository.md,
// "WAL archive").
//
// It follows the WAL through a durable slot (default "archive"), so the
// records it has not shipped survive a restart, and every `interval` ships
// the records that became durable as one range: first every file the
// range's file-change records add (by hash, from the DR seam, under a short
// repository lease so a concurrent prune cannot delete a blob it reuses),
// then the framed records as one blob, then the range document (if-absent,
// the commit point), and only then advances the slot.
//
// Failures: an upload error is retried with backoff (1 s doubling to 30 s)
// on the same range — re-shipping an identical range is a no-op. Meanwhile
// the slot keeps the WAL (the *spool*). Past archive.max_spool_bytes:
//   * on_spool_full "invalidate" (default): the WAL drops the slot's hold,
//     writes go on, the archive gets a gap that is logged, counted
//     (ark_archive_gaps_total) and shown; archiving resumes from the oldest
//     WAL still on disk, and point-in-time restore works again from the
//     next backup after the gap;
//   * "stop-writes": the database refuses writes (Unavailable, naming the
//     spool) until archiving catches up.
// A conflict — the repository's archive holds another history at our
// positions (another database archives there, or this one was restored
// without a new epoch) — stops archiving for good: logged at error, the
// ark_archive_stopped metric, and /readyz's detail. Nothing is overwritten.
//
// Thread-safety: Start/Stop from one thread; Status() and Flush() from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/metrics.h"
#include "core/position.h"
#include "core/status.h"
#include "dr/archive/archive_index.h"
#include "dr/repository/repository_open.h"
#include "engine/database.h"
#include "storage/env.h"

namespace ark::dr {

struct ArchiveConfig {
  std::string repo;             // repository URL; empty = archiving off
  std::string key_file;         // encryption key (optional)
  std::string passphrase_file;  // or passphrase (optional)
  double interval_seconds = 1.0;            // ship at least this often
  uint64_t max_spool_bytes = 4ull << 30;    // WAL kept for the archiver at most
  std::string on_spool_full = "invalidate";  // "invalidate" | "stop-writes"
  uint64_t max_range_bytes = 64ull << 20;   // one range's framed records at most
  // Ship before the interval ends once this many bytes of records wait: under
  // heavy ingest the lag is then the time to gather them plus one upload,
  // not the interval plus one upload.
  uint64_t ship_bytes = 16ull << 20;
  std::string slot = "archive";
  bool enabled() const { return !repo.empty(); }
  // InvalidArgument naming the key ("archive.interval_seconds ...").
  Status Validate() const;
};

struct ArchiverStatus {
  std::string state;    // "starting" | "archiving" | "retrying" | "stopped" | "off"
  std::string reason;   // the last error (retrying) or why it stopped
  Position archived;    // last archived position
  uint64_t archived_record_micros = 0;  // timestamp of that record
  double lag_seconds = 0;  // how long the archive has lacked some durable record
  uint64_t ranges = 0, records = 0, bytes = 0, files = 0;  // shipped since start
  uint64_t failures = 0;   // failed ship attempts since start
  uint64_t gaps = 0;       // records lost to the archive (slot invalidations) since start
  uint64_t spool_bytes = 0;
  bool writes_blocked = false;
  std::string repository;  // where it archives (URL without credentials)
};

class Archiver {
 public:
  // `db` must outlive the Archiver. Nothing happens before Start. With
  // `repo` (not owned; tests, fault injection) config.repo and the key are
  // not used.
  Archiver(Env* env, Database* db, ArchiveConfig config, Repository* repo = nullptr);
  ~Archiver();
  Archiver(const Archiver&) = delete;
  Archiver& operator=(const Archiver&) = delete;

  // Opens the repository (creating it if absent), reads its archive, checks
  // it against this database's history and sets up the slot, then starts the
  // thread. A permanent problem (bad URL, wrong key, another history in the
  // archive) is returned; a transient one (store unreachable) is retried in
  // the background.
  Status Start();
  // Ships what is durable once more (one attempt), then stops the thread.
  void Stop();

  ArchiverStatus GetStatus() const;
  // OK while archiving works or retries; the stop reason once stopped.
  Status Health() const;
  // Waits until every record durable now is archived and a whole round
  // (with its spool check) completed after the call (or the archiver
  // stopped, or timeout). TimedOut / the stop reason otherwise.
  Status Flush(uint64_t timeout_micros);
  // ark_archive_* gauges and counters, read from GetStatus() at each scrape.
  void AddMetrics(MetricsRegistry* metrics);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ark::dr
