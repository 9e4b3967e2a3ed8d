#include "dr/archive/archiver.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <optional>
#include <set>

#include "core/hash.h"
#include "dr/lease/lease.h"
#include "dr/repository/repository_lease_table.h"
#include "engine/dr_seam.h"
#include "engine/file_change.h"
#include "wal/wal_slot_file.h"

namespace ark::dr {

Status ArchiveConfig::Validate() const {
  if (!enabled()) return Status::OK();
  if (!(interval_seconds >= 0.05) || interval_seconds > 3600) {
    return Status::InvalidArgument(fmt::format("archive.interval_seconds must be 0.05..3600, got {}", interval_seconds));
  }
  if (max_spool_bytes < (1ull << 20)) {
    return Status::InvalidArgument(fmt::format("archive.max_spool_bytes must be at least 1 MiB, got {}", max_spool_bytes));
  }
  if (on_spool_full != "invalidate" && on_spool_full != "stop-writes") {
    return Status::InvalidArgument(
        fmt::format("archive.on_spool_full '{}' is not one of invalidate, stop-writes", on_spool_full));
  }
  if (max_range_bytes < (64ull << 10) || max_range_bytes > (1ull << 30)) {
    return Status::InvalidArgument(
        fmt::format("archive.max_range_bytes must be 64 KiB..1 GiB, got {}", max_range_bytes));
  }
  if (ship_bytes < (64ull << 10) || ship_bytes > max_range_bytes) {
    return Status::InvalidArgument(fmt::format("archive.ship_bytes must be 64 KiB..max_range_bytes ({}), got {}",
                                               max_range_bytes, ship_bytes));
  }
  if (!key_file.empty() && !passphrase_file.empty()) {
    return Status::InvalidArgument("archive: give key_file or passphrase_file, not both");
  }
  if (!IsValidWalSlotName(slot)) return Status::InvalidArgument("archive.slot '" + slot + "' is not a valid slot name");
  return Status::OK();
}

namespace {

constexpr uint64_t kSecond = 1000000;

// The position of `lsn` on `history` (the epoch whose span holds it).
Position PositionAt(const std::vector<EpochStart>& history, uint64_t lsn) {
  if (lsn == 0) return {};
  uint64_t epoch = history.empty() ? 0 : history.front().epoch;
  for (const auto& h : history) {
    if (h.first.lsn <= lsn) epoch = h.epoch;
  }
  return {epoch, lsn};
}

// The history up to and including `epoch`.
std::vector<EpochStart> HistoryUpTo(const std::vector<EpochStart>& history, uint64_t epoch) {
  std::vector<EpochStart> out;
  for (const auto& h : history) {
    if (h.epoch > epoch) break;
    out.push_back(h);
  }
  return out;
}

// Records read from the WAL, not yet archived: one run of one epoch.
struct PendingRun {
  uint64_t epoch = 0;
  uint64_t first_lsn = 0, last_lsn = 0;
  uint64_t first_micros = 0, last_micros = 0;
  std::string framed;
  std::vector<std::string> files;  // added by file changes, first occurrence order
  std::set<std::string> file_set;
};

bool IsFatal(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kInvalidArgument ||
         s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kNotSupported ||
         s.code() == StatusCode::kCorruption;
}

}  // namespace

struct Archiver::Impl {
  Env* env;
  Database* db;
  DrSeam seam;
  ArchiveConfig config;

  OpenedRepository owned;  // opened from config.repo
  Repository* repo = nullptr;  // owned.repo, or given by the caller
  std::unique_ptr<WalTailReader> reader;
  std::deque<PendingRun> pending;
  std::vector<EpochStart> history;
  std::set<uint64_t> epochs_written;  // epoch documents known to match ours

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool wake = false;
  bool setup_done = false;
  ArchiverStatus status;      // GUARDED_BY(mu)
  Status stopped_reason;      // GUARDED_BY(mu): non-OK once stopped for good
  // What the lag is measured from (GUARDED_BY(mu)): the timestamp of the
  // oldest record read but not yet shipped (0: none), and when the reader last
  // reached the end of the durable WAL (0: not since start). A durable record
  // the archive lacks is either pending (its own time is known) or was
  // appended after that drain.
  uint64_t oldest_pending_micros = 0;
  uint64_t drained_micros = 0;
  uint64_t rounds = 0;            // GUARDED_BY(mu): rounds completed (Flush waits for one)
  std::thread thread;

  Impl(Env* e, Database* d, ArchiveConfig c) : env(e), db(d), seam(d), config(std::move(c)) {
    status.state = "starting";
    status.repository = config.repo;
  }

  uint64_t Now() const { return env->WallMicros(); }

  void SetState(const std::string& state, const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu);
    status.state = state;
    status.reason = reason;
  }

  // ---- setup ----------------------------------------------------------------
  Status Setup() {
    if (repo == nullptr) {
      ARK_ASSIGN_OR_RETURN(EncryptionKey key, KeyFromOptions(env, config.key_file, config.passphrase_file));
      ARK_ASSIGN_OR_RETURN(owned, OpenRepositoryUrl(env, config.repo, key, /*create=*/true));
      repo = owned.repo.get();
    }
    ARK_ASSIGN_OR_RETURN(ArchiveIndex index, ArchiveIndex::Load(repo));
    history = seam.EpochHistory();
    const std::string where = repo->store()->Describe();
    // Epoch documents of our epochs must tell our history.
    for (const auto& h : history) {
      auto it = index.epochs().find(h.epoch);
      if (it == index.epochs().end()) continue;
      if (it->second.history != HistoryUpTo(history, h.epoch)) {
        return Status::FailedPrecondition(fmt::format(
            "the WAL archive in {} records epoch {} with history {}, but this database's is {}: another "
            "database archives there (give each database its own repository), or this one was restored "
            "without starting a new epoch",
            where, h.epoch, HistoryToString(it->second.history), HistoryToString(HistoryUpTo(history, h.epoch))));
      }
      epochs_written.insert(h.epoch);
    }
    const Position end = index.EndOnHistory(history);
    const Position last = seam.LastPosition();
    if (end.lsn > last.lsn) {
      return Status::FailedPrecondition(fmt::format(
          "the WAL archive in {} holds records up to {}, past this database's last record {}: another database "
          "archives there, or this one was restored from an older point without starting a new epoch",
          where, end.ToString(), last.ToString()));
    }
    if (end.lsn > 0) ARK_RETURN_IF_ERROR(CheckSameRecord(index, end));

    // The slot: where shipping resumes.
    const uint64_t bound = config.on_spool_full == "invalidate" ? config.max_spool_bytes : 0;
    auto slot = seam.GetSlot(config.slot);
    if (slot.ok() && (slot->invalidated || slot->max_retained_bytes != bound)) {
      if (slot->invalidated) {
        spdlog::error("WAL archiving: slot '{}' was invalidated ({}); the archive has a gap after {}", config.slot,
                      slot->invalidated_reason, end.ToString());
        std::lock_guard<std::mutex> lock(mu);
        status.gaps++;
      }
      ARK_RETURN_IF_ERROR(seam.DropSlot(config.slot));
      slot = Status::NotFound("dropped");
    }
    Position after;
    if (slot.ok()) {
      after = slot->restart.lsn >= end.lsn ? slot->restart : end;
      if (end.lsn > 0 && slot->restart.lsn > end.lsn) {
        spdlog::warn("WAL archiving: the archive in {} ends at {} but the slot starts after {}: records {}..{} are "
                     "not archived (a gap)", where, end.ToString(), slot->restart.ToString(), end.lsn + 1,
                     slot->restart.lsn);
      }
    } else if (!slot.status().IsNotFound()) {
      return slot.status();
    } else {
      const uint64_t oldest = seam.OldestRetainedLsn();
      uint64_t from = end.lsn;
      if (end.lsn == 0 || end.lsn + 1 < oldest) {
        if (end.lsn > 0) {
          spdlog::warn("WAL archiving: the archive in {} ends at {}, but this database's WAL starts at lsn {}: "
                       "records {}..{} are not archived (a gap)", where, end.ToString(), oldest, end.lsn + 1,
                       oldest - 1);
          std::lock_guard<std::mutex> lock(mu);
          status.gaps++;
        }
        from = oldest - 1;
      }
      after = PositionAt(history, from);
      ARK_RETURN_IF_ERROR(seam.CreateSlot(config.slot, after, bound));
    }
    ARK_ASSIGN_OR_RETURN(reader, seam.OpenTailReader(after, config.slot));
    {
      std::lock_guard<std::mutex> lock(mu);
      status.archived = after;
    }
    spdlog::info("WAL archiving to {}: resuming after {} (interval {} s, spool bound {} bytes, {})", where,
                 after.ToString(), config.interval_seconds, config.max_spool_bytes, config.on_spool_full);
    return Status::OK();
  }

  // The archive's last record at `end` must be ours (else two histories
  // would mix). Checked when our WAL still has it.
  Status CheckSameRecord(const ArchiveIndex& index, Position end) {
    std::optional<WalRecord> ours;
    Status read = seam.ReadRecords(PositionAt(history, end.lsn - 1), end, [&](const WalRecord& r, std::string_view) {
      ours = r;
      return Status::OK();
    });
    if (!read.ok() || !ours) return Status::OK();  // no longer in our WAL: nothing to compare
    for (const auto& r : index.AllRanges()) {
      if (r.epoch != end.epoch || r.first_lsn > end.lsn || r.last_lsn < end.lsn) continue;
      ARK_ASSIGN_OR_RETURN(std::string blob, repo->GetBlob(r.segment.hash));
      ARK_ASSIGN_OR_RETURN(auto records, DecodeArchivedRecords(blob, ArchiveRangeKey(r.epoch, r.first_lsn, r.last_lsn)));
      const size_t i = end.lsn - r.first_lsn;
      if (i >= records.size() || !SameRecord(records[i], *ours)) {
        return Status::FailedPrecondition(fmt::format(
            "the WAL archive in {} holds a different record at {} than this database: another database "
            "archives there (give each its own repository), or this one was restored without a new epoch",
            repo->store()->Describe(), end.ToString()));
      }
      return Status::OK();
    }
    return Status::OK();
  }

  // ---- reading ----------------------------------------------------------------
  // Appends what is durable to `pending` (waiting up to `wait` for the first
  // record), at most max_range_bytes per run and a new run at each epoch.
  Status Collect(uint64_t wait) {
    WalRecord record;
    std::string framed;
    uint64_t collected = 0;
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool got, reader->Next(&record, &framed, collected == 0 ? wait : 0));
      if (!got) {
        std::lock_guard<std::mutex> lock(mu);
        drained_micros = Now();
        break;
      }
      if (pending.empty() || pending.back().epoch != record.position.epoch ||
          pending.back().framed.size() + framed.size() > config.max_range_bytes) {
        if (pending.empty()) {
          std::lock_guard<std::mutex> lock(mu);
          oldest_pending_micros = record.timestamp_micros;
        }
        pending.emplace_back();  // a new epoch, or the run is full
        pending.back().epoch = record.position.epoch;
        pending.back().first_lsn = record.position.lsn;
        pending.back().first_micros = record.timestamp_micros;
      }
      PendingRun& run = pending.back();
      run.last_lsn = record.position.lsn;
      run.last_micros = record.timestamp_micros;
      run.framed += framed;
      if (record.op == kOpFileChange) {
        ARK_ASSIGN_OR_RETURN(FileChange change, DecodeFileChange(record.body, record.position));
        for (auto& f : change.Added()) {
          if (run.file_set.insert(f).second) run.files.push_back(f);
        }
      }
      collected += framed.size();
      if (collected >= config.max_range_bytes) return Status::OK();  // more next round
    }
    return Status::OK();
  }

  // ---- shipping ----------------------------------------------------------------
  Status EnsureEpochDoc(uint64_t epoch) {
    if (epochs_written.count(epoch)) return Status::OK();
    history = seam.EpochHistory();  // a promotion may have extended it
    ArchiveEpoch doc;
    doc.epoch = epoch;
    doc.history = HistoryUpTo(history, epoch);
    if (doc.history.empty() || doc.history.back().epoch != epoch) {
      return Status::Internal(fmt::format("epoch {} is not in this database's history {}", epoch,
                                          HistoryToString(history)));
    }
    doc.created_micros = Now();
    doc.origin = "archiver of " + seam.Describe();
    Status put = repo->PutDocument(ArchiveEpochKey(epoch), ArchiveEpochToJson(doc), /*if_absent=*/true);
    if (put.code() == StatusCode::kAlreadyExists) {
      ARK_ASSIGN_OR_RETURN(auto j, repo->GetDocument(ArchiveEpochKey(epoch)));
      ARK_ASSIGN_OR_RETURN(ArchiveEpoch theirs, ArchiveEpochFromJson(j, ArchiveEpochKey(epoch)));
      if (theirs.history != doc.history) {
        return Status::FailedPrecondition(fmt::format(
            "the WAL archive in {} records epoch {} with history {}, this database's is {}: another database "
            "archives there", repo->store()->Describe(), epoch, HistoryToString(theirs.history),
            HistoryToString(doc.history)));
      }
    } else if (!put.ok()) {
      return put;
    }
    epochs_written.insert(epoch);
    return Status::OK();
  }

  Status Ship(const PendingRun& run) {
    Repository* r = repo;
    // 1. The files its file changes add, under a lease that keeps a prune
    //    from deleting a blob we find present and reuse.
    RepositoryLeaseTable table(r);
    std::unique_ptr<Lease> lease;
    if (!run.files.empty()) {
      LeaseOptions options;
      options.kind = "backup";
      options.conflicts = {"prune"};
      options.description = fmt::format("WAL archiving of {}", seam.Describe());
      options.ttl_micros = 600 * kSecond;
      ARK_ASSIGN_OR_RETURN(lease, Lease::Acquire(&table, env, std::move(options)));
    }
    // 2. The records, as one blob, uploaded while the files are: the range
    //    waits for the slower of the two, not for both in turn.
    const uint64_t t_start = Now();
    std::string hash;
    uint64_t t_records = 0;
    std::future<Result<BlobStat>> records = std::async(std::launch::async, [&]() -> Result<BlobStat> {
      hash = ToHex(Sha256(run.framed));
      Result<BlobStat> st = r->PutBlob(hash, run.framed);
      t_records = Now();
      return st;
    });
    uint64_t file_count = 0;
    for (const auto& f : run.files) {
      auto file = seam.OpenFile(f);
      if (!file.ok()) {
        return Status(file.status().code(), fmt::format("archiving file {} named at {}..{}: {}", f,
                                                        Position{run.epoch, run.first_lsn}.ToString(),
                                                        Position{run.epoch, run.last_lsn}.ToString(),
                                                        file.status().message()));
      }
      ARK_ASSIGN_OR_RETURN(BlobStat st, r->PutBlobFromReader(f, std::move(file).value()));
      if (!st.existed) file_count++;
      if (lease) ARK_RETURN_IF_ERROR(lease->MaybeRenew());
    }
    const uint64_t t_files = Now();
    ARK_ASSIGN_OR_RETURN(BlobStat seg, records.get());
    // 3. The epoch document, then the range document: the commit point.
    ARK_RETURN_IF_ERROR(EnsureEpochDoc(run.epoch));
    ArchiveRange doc;
    doc.epoch = run.epoch;
    doc.first_lsn = run.first_lsn;
    doc.last_lsn = run.last_lsn;
    doc.first_micros = run.first_micros;
    doc.last_micros = run.last_micros;
    doc.segment = {"wal-range", hash, run.framed.size(), seg.stored_size};
    doc.files = run.files;
    doc.archived_micros = Now();
    doc.source = seam.Describe();
    const std::string key = ArchiveRangeKey(run.epoch, run.first_lsn, run.last_lsn);
    Status put = r->PutDocument(key, ArchiveRangeToJson(doc), /*if_absent=*/true);
    if (put.code() == StatusCode::kAlreadyExists) {
      // Re-shipping an identical range is a no-op; different content is a conflict.
      ARK_ASSIGN_OR_RETURN(auto j, r->GetDocument(key));
      ARK_ASSIGN_OR_RETURN(ArchiveRange theirs, ArchiveRangeFromJson(j, key));
      if (theirs.segment.hash != hash) {
        return Status::FailedPrecondition(fmt::format(
            "the WAL archive in {} already holds {}..{} with other content (records SHA-256 {}, ours {}): "
            "another database archives there", repo->store()->Describe(), doc.first().ToString(),
            doc.last().ToString(), theirs.segment.hash, hash));
      }
    } else if (!put.ok()) {
      return put;
    }
    if (lease) (void)lease->Release();
    spdlog::debug("WAL archiving: {}..{} shipped in {:.3f} s: {} files ({} new) {:.3f} s, {} bytes of records {:.3f} s",
                  doc.first().ToString(), doc.last().ToString(), static_cast<double>(Now() - t_start) / 1e6,
                  run.files.size(), file_count, static_cast<double>(t_files - t_start) / 1e6, run.framed.size(),
                  static_cast<double>(t_records - t_start) / 1e6);
    std::lock_guard<std::mutex> lock(mu);
    status.ranges++;
    status.records += run.last_lsn - run.first_lsn + 1;
    status.bytes += run.framed.size();
    status.files += file_count;
    return Status::OK();
  }

  // Ships the pending runs in order; each one archived advances the slot.
  Status ShipPending() {
    while (!pending.empty()) {
      const PendingRun& run = pending.front();
      ARK_RETURN_IF_ERROR(Ship(run));
      const Position last{run.epoch, run.last_lsn};
      const uint64_t last_micros = run.last_micros;
      pending.pop_front();
      {
        std::lock_guard<std::mutex> lock(mu);
        status.archived = last;
        status.archived_record_micros = last_micros;
        oldest_pending_micros = pending.empty() ? 0 : pending.front().first_micros;
      }
      cv.notify_all();
      Status adv = seam.AdvanceSlot(config.slot, last);
      if (!adv.ok() && adv.code() != StatusCode::kFailedPrecondition) return adv;
      // An invalidated slot is noticed by the reader (HandleInvalidation).
    }
    return Status::OK();
  }

  // The slot lost its hold: records after the archive may be gone. Resume
  // from what the WAL still has, counting the gap.
  Status HandleInvalidation(const Status& why) {
    Position archived;
    {
      std::lock_guard<std::mutex> lock(mu);
      archived = status.archived;
    }
    const uint64_t read_to = pending.empty() ? archived.lsn : pending.back().last_lsn;
    (void)seam.DropSlot(config.slot);
    history = seam.EpochHistory();
    const uint64_t oldest = seam.OldestRetainedLsn();
    if (oldest > read_to + 1) {
      spdlog::error("WAL archiving: {}; records {}..{} were removed before they were archived: the archive has a "
                    "gap (point-in-time restore cannot cross it; the next backup starts a new window); resuming "
                    "with what the WAL still has", why.ToString(), PositionAt(history, read_to + 1).ToString(),
                    PositionAt(history, oldest - 1).ToString());
      std::lock_guard<std::mutex> lock(mu);
      status.gaps++;
    } else {
      spdlog::warn("WAL archiving: {}; every record is still on disk, so the archive has no gap; resuming with a "
                   "new slot", why.ToString());
    }
    const uint64_t from = std::max(read_to, oldest - 1);
    const Position after = PositionAt(history, from);
    const uint64_t bound = config.on_spool_full == "invalidate" ? config.max_spool_bytes : 0;
    ARK_RETURN_IF_ERROR(seam.CreateSlot(config.slot, after, bound));
    ARK_ASSIGN_OR_RETURN(reader, seam.OpenTailReader(after, config.slot));
    return Status::OK();
  }

  bool SlotInvalidated() const {
    auto slot = seam.GetSlot(config.slot);
    return !slot.ok() || slot->invalidated;
  }

  void CheckSpool() {
    auto slot = seam.GetSlot(config.slot);
    const uint64_t spool = slot.ok() ? slot->retained_bytes : 0;
    bool was;
    bool caught_up;
    std::string reason;
    {
      std::lock_guard<std::mutex> lock(mu);
      status.spool_bytes = spool;
      was = status.writes_blocked;
      reason = status.reason;
      caught_up = pending.empty() && status.archived.lsn >= seam.DurablePosition().lsn;
    }
    // Blocked past the bound; free again once below it or caught up (the
    // spool counts whole WAL segments, so it can stay above a small bound
    // after everything was shipped).
    bool block = config.on_spool_full == "stop-writes" && spool > config.max_spool_bytes && !(was && caught_up);
    if (was && !block && spool > config.max_spool_bytes && !caught_up) block = true;
    if (block == was) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      status.writes_blocked = block;
    }
    if (block) {
      const std::string msg = fmt::format(
          "the WAL archive's spool holds {} bytes, more than archive.max_spool_bytes {} (on_spool_full: "
          "stop-writes); writes resume once archiving catches up{}", spool, config.max_spool_bytes,
          reason.empty() ? "" : " (last archive error: " + reason + ")");
      spdlog::error("WAL archiving: {}", msg);
      seam.SetWritesBlocked(msg);
    } else {
      spdlog::info("WAL archiving caught up: writes resume");
      seam.SetWritesBlocked("");
    }
  }

  // ---- the loop -------------------------------------------------------------------
  uint64_t PendingBytes() const {
    uint64_t n = 0;
    for (const auto& run : pending) n += run.framed.size();
    return n;
  }

  // Between rounds: reads records as they become durable until `at_micros`,
  // and returns early (true) once ship_bytes are pending, so a heavy writer's
  // records are shipped without waiting for the interval. Returns false when
  // the round is due, a wake-up or stop came, or a read failed (the round's
  // own read reports the error).
  bool GatherUntil(uint64_t at_micros) {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stopping || wake) return false;
      }
      if (PendingBytes() >= config.ship_bytes) return true;
      const uint64_t now = Now();
      if (now >= at_micros) return false;
      if (!Collect(std::min<uint64_t>(at_micros - now, 100000)).ok()) return false;
    }
  }

  bool WaitUntil(uint64_t at_micros) {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopping && !wake) {
      uint64_t now = Now();
      if (now >= at_micros) break;
      cv.wait_for(lock, std::chrono::microseconds(std::min<uint64_t>(at_micros - now, kSecond)));
    }
    wake = false;
    return !stopping;
  }

  void StopForGood(const Status& why) {
    spdlog::error("WAL archiving STOPPED: {}. Point-in-time restore past {} is impossible until this is fixed "
                  "(see docs/archive.md)", why.ToString(), GetArchived().ToString());
    std::lock_guard<std::mutex> lock(mu);
    stopped_reason = why;
    status.state = "stopped";
    status.reason = why.ToString();
    cv.notify_all();
  }

  Position GetArchived() const {
    std::lock_guard<std::mutex> lock(mu);
    return status.archived;
  }

  void Run() {
    const uint64_t interval = static_cast<uint64_t>(config.interval_seconds * 1e6);
    uint64_t backoff = kSecond;
    uint64_t next_at = 0;
    std::string last_error;
    for (;;) {
      // Gathering only while healthy: during a backoff nothing piles up in memory.
      const bool early = setup_done && reader && last_error.empty() && GatherUntil(next_at);
      if (!WaitUntil(early ? 0 : next_at)) break;
      const uint64_t started = Now();
      Status s = Step();
      if (s.ok()) {
        if (!last_error.empty()) spdlog::info("WAL archiving works again (after: {})", last_error);
        last_error.clear();
        backoff = kSecond;
        next_at = started + interval;
        SetState("archiving", "");
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        status.failures++;
      }
      if (IsFatal(s)) {
        // A conflict, corruption, a wrong key: retrying cannot help.
        StopForGood(s);
        return;
      }
      if (s.ToString() != last_error) spdlog::warn("WAL archiving failed, retrying in {} s: {}", backoff / kSecond, s.ToString());
      last_error = s.ToString();
      SetState("retrying", last_error);
      next_at = Now() + backoff;
      backoff = std::min(backoff * 2, 30 * kSecond);
    }
    // Stopping: one last attempt at what is durable now.
    if (setup_done && Health().ok()) {
      Status s = reader ? Collect(0) : Status::OK();
      if (s.ok()) s = ShipPending();
      if (!s.ok()) spdlog::warn("WAL archiving: the last ship at shutdown failed ({}); the slot keeps the records for the next start", s.ToString());
    }
  }

  // One round: set up if needed, read what is durable, ship it.
  Status Step() {
    if (!setup_done) {
      ARK_RETURN_IF_ERROR(Setup());
      setup_done = true;
    }
    CheckSpool();
    if (pending.empty() || pending.back().framed.size() < config.max_range_bytes) {
      Status c = reader ? Collect(pending.empty() ? 200000 : 0) : Status::OK();
      if (!c.ok()) {
        if (c.code() == StatusCode::kFailedPrecondition && SlotInvalidated()) {
          ARK_RETURN_IF_ERROR(HandleInvalidation(c));
        } else if (c.code() == StatusCode::kNotFound) {
          ARK_RETURN_IF_ERROR(HandleInvalidation(c));
        } else {
          return c;
        }
      }
    }
    ARK_RETURN_IF_ERROR(ShipPending());
    CheckSpool();
    {
      std::lock_guard<std::mutex> lock(mu);
      rounds++;
    }
    cv.notify_all();
    return Status::OK();
  }

  Status Health() const {
    std::lock_guard<std::mutex> lock(mu);
    return stopped_reason;
  }
};

Archiver::Archiver(Env* env, Database* db, ArchiveConfig config, Repository* repo)
    : impl_(std::make_unique<Impl>(env, db, std::move(config))) {
  impl_->repo = repo;
  if (repo != nullptr) impl_->status.repository = repo->store()->Describe();
}

Archiver::~Archiver() { Stop(); }

Status Archiver::Start() {
  ARK_RETURN_IF_ERROR(impl_->config.Validate());
  Status s = impl_->Setup();
  if (s.ok()) {
    impl_->setup_done = true;
    impl_->SetState("archiving", "");
  } else if (IsFatal(s) || s.code() == StatusCode::kAlreadyExists) {
    return s.WithContext("WAL archiving to " + impl_->config.repo);
  } else {
    spdlog::warn("WAL archiving to {} cannot start yet ({}); retrying in the background", impl_->config.repo,
                 s.ToString());
    impl_->SetState("retrying", s.ToString());
  }
  impl_->thread = std::thread([this] { impl_->Run(); });
  return Status::OK();
}

void Archiver::Stop() {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
  if (impl_->config.on_spool_full == "stop-writes") impl_->seam.SetWritesBlocked("");
}

ArchiverStatus Archiver::GetStatus() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  ArchiverStatus s = impl_->status;
  const Position durable = impl_->seam.DurablePosition();
  // The age of the oldest durable record the archive lacks: a pending one's
  // own time, else the last drain (records after it are younger; while idle
  // this overstates by at most one interval, never understates), else (not
  // drained since start) the last archived record's time.
  uint64_t since = 0;
  if (durable.lsn > s.archived.lsn) {
    since = impl_->oldest_pending_micros != 0 ? impl_->oldest_pending_micros
            : impl_->drained_micros != 0      ? impl_->drained_micros
                                              : s.archived_record_micros;
  }
  const uint64_t now = impl_->Now();
  s.lag_seconds = since != 0 && since < now ? static_cast<double>(now - since) / 1e6 : 0;
  return s;
}

Status Archiver::Health() const { return impl_->Health(); }

Status Archiver::Flush(uint64_t timeout_micros) {
  const Position target = impl_->seam.DurablePosition();
  const uint64_t deadline = impl_->Now() + timeout_micros;
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->wake = true;
  impl_->cv.notify_all();
  const uint64_t first_round = impl_->rounds;
  // Archived up to the target, and a whole round (with its spool check)
  // completed after the call began.
  while (impl_->status.archived.lsn < target.lsn || impl_->rounds <= first_round) {
    if (!impl_->stopped_reason.ok()) return impl_->stopped_reason;
    uint64_t now = impl_->Now();
    if (now >= deadline) {
      return Status::TimedOut(fmt::format("WAL archiving reached {}, not {}, in time (state {}: {})",
                                          impl_->status.archived.ToString(), target.ToString(), impl_->status.state,
                                          impl_->status.reason));
    }
    impl_->wake = true;
    impl_->cv.notify_all();
    impl_->cv.wait_for(lock, std::chrono::microseconds(std::min<uint64_t>(deadline - now, 100000)));
  }
  return Status::OK();
}

void Archiver::AddMetrics(MetricsRegistry* metrics) {
  metrics->Describe("ark_archive_lag_seconds", "Seconds the WAL archive has lacked some durable record (0 when caught up)");
  metrics->Describe("ark_archive_last_position", "Lsn of the last archived WAL record (label epoch)");
  metrics->Describe("ark_archive_last_record_timestamp_seconds", "Timestamp of the last archived WAL record");
  metrics->Describe("ark_archive_ranges_total", "WAL ranges archived since start");
  metrics->Describe("ark_archive_records_total", "WAL records archived since start");
  metrics->Describe("ark_archive_bytes_total", "Bytes of WAL records archived since start");
  metrics->Describe("ark_archive_files_total", "Files uploaded by WAL archiving since start (named by file changes)");
  metrics->Describe("ark_archive_failures_total", "Failed WAL archive attempts since start");
  metrics->Describe("ark_archive_gaps_total", "Times records were lost to the WAL archive (slot invalidated) since start");
  metrics->Describe("ark_archive_spool_bytes", "WAL bytes kept for the archiver");
  metrics->Describe("ark_archive_stopped", "1 if WAL archiving stopped for good (see the log and /readyz)");
  metrics->Describe("ark_archive_writes_blocked", "1 while writes are refused because the archive spool is full");
  metrics->AddCollector([this](MetricsRegistry& m) {
    ArchiverStatus s = GetStatus();
    m.SetGauge("ark_archive_lag_seconds", {}, s.lag_seconds);
    m.SetGauge("ark_archive_last_position", {{"epoch", std::to_string(s.archived.epoch)}},
               static_cast<double>(s.archived.lsn));
    m.SetGauge("ark_archive_last_record_timestamp_seconds", {}, static_cast<double>(s.archived_record_micros) / 1e6);
    m.SetGauge("ark_archive_ranges_total", {}, static_cast<double>(s.ranges));
    m.SetGauge("ark_archive_records_total", {}, static_cast<double>(s.records));
    m.SetGauge("ark_archive_bytes_total", {}, static_cast<double>(s.bytes));
    m.SetGauge("ark_archive_files_total", {}, static_cast<double>(s.files));
    m.SetGauge("ark_archive_failures_total", {}, static_cast<double>(s.failures));
    m.SetGauge("ark_archive_gaps_total", {}, static_cast<double>(s.gaps));
    m.SetGauge("ark_archive_spool_bytes", {}, static_cast<double>(s.spool_bytes));
    m.SetGauge("ark_archive_stopped", {}, s.state == "stopped" ? 1 : 0);
    m.SetGauge("ark_archive_writes_blocked", {}, s.writes_blocked ? 1 : 0);
  });
}

}  // namespace ark::dr
