#include "dr/archive/pitr.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "core/hash.h"
#include "dr/jobs/parallel_for.h"
#include "engine/file_change.h"
#include "wal/wal_tail_reader.h"

namespace ark::dr {
namespace {

std::string Iso(uint64_t micros) {
  if (micros == 0) return "-";
  time_t secs = static_cast<time_t>(micros / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06}Z", buf, micros % 1000000);
}

bool OnHistory(Position p, const std::vector<EpochStart>& history) {
  if (p == Position{}) return true;
  return CheckPositionOnHistory(p, history).ok();
}

// The newest epoch with archived records (the default history).
uint64_t DefaultEpoch(const ArchiveIndex& index) {
  uint64_t e = 0;
  for (const auto& r : index.AllRanges()) e = std::max(e, r.epoch);
  return e;
}

}  // namespace

Result<std::vector<std::vector<WalRecord>>> FetchArchivedPieces(Repository* repo,
                                                                const std::vector<ArchiveIndex::Piece>& pieces,
                                                                int parallelism, Progress* progress) {
  std::vector<std::vector<WalRecord>> out(pieces.size());
  Status s = ParallelFor(pieces.size(), parallelism, nullptr, [&](size_t i) -> Status {
    const ArchiveRange& r = pieces[i].range;
    const std::string key = ArchiveRangeKey(r.epoch, r.first_lsn, r.last_lsn);
    ARK_ASSIGN_OR_RETURN(std::string blob, repo->GetBlob(r.segment.hash));
    if (progress != nullptr) {
      progress->bytes_done += blob.size();
      progress->bytes_transferred += blob.size();
    }
    ARK_ASSIGN_OR_RETURN(auto records, DecodeArchivedRecords(blob, key));
    if (records.size() != r.records()) {
      return Status::Corruption(fmt::format("{}: holds {} records, its document says {}", key, records.size(), r.records()));
    }
    for (size_t k = 0; k < records.size(); ++k) {
      if (records[k].position != Position{r.epoch, r.first_lsn + k}) {
        return Status::Corruption(fmt::format("{}: record {} is at {}, expected {}", key, k,
                                              records[k].position.ToString(),
                                              Position{r.epoch, r.first_lsn + k}.ToString()));
      }
    }
    for (auto& rec : records) {
      if (rec.position.lsn >= pieces[i].use_first && rec.position.lsn <= pieces[i].use_last) {
        out[i].push_back(std::move(rec));
      }
    }
    return Status::OK();
  });
  ARK_RETURN_IF_ERROR(s);
  return out;
}

std::string PitrTarget::ToString() const {
  switch (kind) {
    case Kind::kLatest:
      return "the end of the archive";
    case Kind::kTime:
      return "time " + Iso(time_micros);
    case Kind::kPosition:
      return "position " + position.ToString();
  }
  return "?";
}

Result<PitrReport> RestoreToPointInTime(Env* env, Repository* repo, const PitrOptions& options, Progress* progress,
                                        const std::atomic<bool>* cancelled) {
  Progress local_progress;
  if (progress == nullptr) progress = &local_progress;
  ARK_RETURN_IF_ERROR(CheckRestoreTarget(env, options.target_dir));
  const std::string store = repo->store()->Describe();
  const PitrTarget& target = options.target;
  ARK_ASSIGN_OR_RETURN(ArchiveIndex index, ArchiveIndex::Load(repo, options.parallelism * 2));

  // 1. The history.
  uint64_t epoch = options.epoch;
  if (epoch == 0 && target.kind == PitrTarget::Kind::kPosition) {
    // A position names its epoch; follow the newest history that has it.
    epoch = DefaultEpoch(index);
    auto h = index.HistoryOf(epoch);
    if (!h.ok() || !OnHistory(target.position, *h)) epoch = target.position.epoch;
  }
  if (epoch == 0) epoch = DefaultEpoch(index);
  if (epoch == 0) {
    return Status::NotFound(fmt::format(
        "{} holds no archived WAL: point-in-time restore needs WAL archiving (archive: in the server config); "
        "restore a backup with `ark restore --name`", store));
  }
  ARK_ASSIGN_OR_RETURN(std::vector<EpochStart> history, index.HistoryOf(epoch));
  if (target.kind == PitrTarget::Kind::kPosition && !OnHistory(target.position, history)) {
    return Status::InvalidArgument(fmt::format("position {} is not on the history of epoch {} ({})",
                                               target.position.ToString(), epoch, HistoryToString(history)));
  }

  // 2. The backup.
  ARK_ASSIGN_OR_RETURN(auto backups, ListBackups(repo));
  auto fits = [&](const BackupManifest& b) {
    if (!OnHistory(b.position, history)) return false;
    switch (target.kind) {
      case PitrTarget::Kind::kLatest:
        return true;
      case PitrTarget::Kind::kTime:
        return b.position_micros <= target.time_micros;
      case PitrTarget::Kind::kPosition:
        return b.position.lsn <= target.position.lsn;
    }
    return false;
  };
  const BackupManifest* chosen = nullptr;
  if (!options.backup.empty()) {
    for (const auto& b : backups) {
      if (b.name == options.backup) chosen = &b;
    }
    if (chosen == nullptr) return Status::NotFound(fmt::format("no backup named '{}' in {}", options.backup, store));
    if (!fits(*chosen)) {
      return Status::InvalidArgument(fmt::format(
          "backup '{}' (position {}, {}) is not at or before {} on the history of epoch {} ({})", chosen->name,
          chosen->position.ToString(), Iso(chosen->position_micros), target.ToString(), epoch,
          HistoryToString(history)));
    }
  } else {
    for (const auto& b : backups) {
      if (!fits(b)) continue;
      if (chosen == nullptr || b.position.lsn > chosen->position.lsn ||
          (b.position.lsn == chosen->position.lsn && b.started_micros > chosen->started_micros)) {
        chosen = &b;
      }
    }
    if (chosen == nullptr) {
      std::string oldest = "there are no backups";
      for (const auto& b : backups) {
        if (OnHistory(b.position, history)) {
          oldest = fmt::format("the oldest on it is '{}' at {} ({})", b.name, b.position.ToString(), Iso(b.position_micros));
          break;
        }
      }
      return Status::NotFound(fmt::format("{}: no backup at or before {} on the history of epoch {}; {}", store,
                                          target.ToString(), epoch, oldest));
    }
  }
  const BackupManifest bm = *chosen;

  // 3. The archived records after it, up to the target.
  std::optional<ArchiveGap> gap;
  auto pieces = index.ContiguousAfter(bm.position, history, &gap);
  const Position archive_end = pieces.empty() ? bm.position : Position{pieces.back().range.epoch, pieces.back().use_last};
  const uint64_t end_micros = pieces.empty() ? bm.position_micros : pieces.back().range.last_micros;
  auto refuse_gap = [&]() {
    return Status::FailedPrecondition(fmt::format(
        "{}: the archived WAL after backup '{}' ({}) has a gap: {} are missing, so {} cannot be reached without "
        "skipping them. Restore to {} at most (--to-position {}), or from a backup taken after the gap",
        store, bm.name, bm.position.ToString(), gap->ToString(), target.ToString(), archive_end.ToString(),
        archive_end.ToString()));
  };
  switch (target.kind) {
    case PitrTarget::Kind::kLatest:
      if (gap) return refuse_gap();
      break;
    case PitrTarget::Kind::kPosition:
      if (archive_end.lsn < target.position.lsn) {
        if (gap) return refuse_gap();
        return Status::FailedPrecondition(fmt::format(
            "{}: the archive after backup '{}' ends at {} ({}), before {}: use --to-latest to restore to its end",
            store, bm.name, archive_end.ToString(), Iso(end_micros), target.ToString()));
      }
      break;
    case PitrTarget::Kind::kTime:
      if (end_micros < target.time_micros) {
        if (gap) return refuse_gap();
        return Status::FailedPrecondition(fmt::format(
            "{}: the archive after backup '{}' ends at {} ({}), before the target {}: use --to-latest to restore to "
            "its end", store, bm.name, archive_end.ToString(), Iso(end_micros), target.ToString()));
      }
      break;
  }
  // Only the pieces the target needs.
  std::vector<ArchiveIndex::Piece> needed;
  for (auto& p : pieces) {
    if (target.kind == PitrTarget::Kind::kPosition) {
      if (p.use_first > target.position.lsn) break;
      p.use_last = std::min(p.use_last, target.position.lsn);
    }
    needed.push_back(p);
    if (target.kind == PitrTarget::Kind::kTime && p.range.last_micros > target.time_micros) break;
  }
  for (const auto& p : needed) progress->bytes_total += p.range.segment.size;
  ARK_ASSIGN_OR_RETURN(BackupState state, LoadBackupState(repo, bm));
  ARK_ASSIGN_OR_RETURN(auto fetched, FetchArchivedPieces(repo, needed, options.parallelism, progress));
  if (cancelled != nullptr && cancelled->load()) return Status::Cancelled("point-in-time restore cancelled; nothing restored");
  PitrReport report;
  report.backup = bm.name;
  report.backup_position = bm.position;
  report.reached = bm.position;
  report.reached_micros = bm.position_micros;
  report.ranges = needed.size();
  std::map<std::string, std::string> file_range;  // file -> the range naming it (messages)
  bool done = false;
  for (size_t i = 0; i < fetched.size() && !done; ++i) {
    for (auto& rec : fetched[i]) {
      if (target.kind == PitrTarget::Kind::kTime && rec.timestamp_micros > target.time_micros) {
        done = true;
        break;
      }
      report.reached = rec.position;
      report.reached_micros = rec.timestamp_micros;
      report.archived_records++;
      state.tail.push_back(std::move(rec));
    }
  }
  state.position = report.reached;

  // 4. Files: the backup's plus those the replayed file changes add.
  RestorePlan plan;
  plan.where = fmt::format("point-in-time restore to {} from backup '{}' in {}", target.ToString(), bm.name, store);
  ARK_ASSIGN_OR_RETURN(plan.state, FilterState(state, options.filter));
  std::map<std::string, BackupBlobRef> files;
  for (const auto& b : bm.blobs) {
    if (b.kind != "manifest" && b.kind != "wal") files[b.hash] = b;
  }
  std::map<std::string, BackupBlobRef> needed_files;
  for (const auto& hash : plan.state.manifest.LiveFiles()) {
    auto it = files.find(hash);
    if (it == files.end()) {
      return Status::Corruption(fmt::format("{}: the engine manifest names file {} the backup does not list", plan.where, hash));
    }
    needed_files[hash] = it->second;
  }
  for (const auto& rec : plan.state.tail) {
    if (rec.op != kOpFileChange || rec.position.lsn <= bm.position.lsn) continue;
    ARK_ASSIGN_OR_RETURN(FileChange change, DecodeFileChange(rec.body, rec.position));
    for (const auto& f : change.Added()) needed_files.emplace(f, BackupBlobRef{"file", f, 0, 0});
  }
  for (auto& [hash, ref] : needed_files) plan.files.push_back(ref);

  // 5. The new epoch, reserved in the repository first.
  uint64_t max_epoch = index.MaxEpoch();
  for (const auto& rec : plan.state.tail) max_epoch = std::max(max_epoch, rec.position.epoch);
  for (const auto& e : plan.state.manifest.epochs) max_epoch = std::max(max_epoch, e.epoch);
  std::vector<EpochStart> new_history;
  for (const auto& h : history) {
    if (h.epoch <= report.reached.epoch && h.first.lsn <= report.reached.lsn) new_history.push_back(h);
  }
  uint64_t new_epoch = max_epoch + 1;
  for (int attempt = 0;; ++attempt) {
    ArchiveEpoch doc;
    doc.epoch = new_epoch;
    doc.history = new_history;
    doc.history.push_back({new_epoch, {new_epoch, report.reached.lsn + 1}});
    doc.created_micros = env->WallMicros();
    doc.origin = fmt::format("restore into {} to {} from backup '{}'", options.target_dir, report.reached.ToString(),
                             bm.name);
    Status put = repo->PutDocument(ArchiveEpochKey(new_epoch), ArchiveEpochToJson(doc), /*if_absent=*/true);
    if (put.ok()) {
      report.history = doc.history;
      break;
    }
    if (put.code() != StatusCode::kAlreadyExists || attempt >= 16) return put.WithContext(plan.where + ": reserving epoch " + std::to_string(new_epoch));
    ++new_epoch;
  }
  report.new_epoch = new_epoch;
  const std::vector<EpochStart> expected_history = report.history;
  plan.after_open = [new_epoch, expected_history, &plan](Database* db) -> Status {
    ARK_ASSIGN_OR_RETURN(Position start, db->StartEpoch(new_epoch));
    (void)start;
    if (db->EpochHistory() != expected_history) {
      return Status::Internal(fmt::format("{}: the restored database's history is {}, the repository recorded {}",
                                          plan.where, HistoryToString(db->EpochHistory()),
                                          HistoryToString(expected_history)));
    }
    return Status::OK();
  };
  RestoreOptions ro;
  ro.target_dir = options.target_dir;
  ro.parallelism = options.parallelism;
  ro.database_options = options.database_options;
  auto restored = ExecuteRestore(env, repo, plan, ro, progress, cancelled);
  if (!restored.ok()) {
    (void)repo->store()->Delete(ArchiveEpochKey(new_epoch));  // the epoch was never used
    return restored.status();
  }
  report.restore = std::move(restored).value();
  return report;
}

Result<ArchiveStatusReport> GetArchiveStatus(Repository* repo, uint64_t epoch) {
  ARK_ASSIGN_OR_RETURN(ArchiveIndex index, ArchiveIndex::Load(repo));
  ArchiveStatusReport out;
  const uint64_t newest_with_records = DefaultEpoch(index);
  out.epoch = epoch != 0 ? epoch : newest_with_records;
  for (const auto& [e, doc] : index.epochs()) {
    if (e > newest_with_records && epoch == 0) {
      out.notes.push_back(fmt::format("epoch {} ({}) has no archived records yet; give --epoch {} to follow it", e,
                                      doc.origin, e));
    }
  }
  if (out.epoch == 0) return out;
  ARK_ASSIGN_OR_RETURN(out.history, index.HistoryOf(out.epoch));
  bool first = true;
  for (const auto& r : index.AllRanges()) {
    uint64_t lo = 0, hi = 0;
    if (!EpochSpanOnHistory(out.history, r.epoch, &lo, &hi) || r.last_lsn < lo || r.first_lsn > hi) continue;
    if (first) {
      out.first = r.first();
      out.first_micros = r.first_micros;
      first = false;
    }
    out.ranges++;
    out.records += std::min(r.last_lsn, hi) - std::max(r.first_lsn, lo) + 1;
    out.bytes += r.segment.size;
    out.stored_bytes += r.segment.stored_size;
    if (Position{r.epoch, std::min(r.last_lsn, hi)} > out.last) {
      out.last = {r.epoch, std::min(r.last_lsn, hi)};
      out.last_micros = r.last_micros;
    }
  }
  out.gaps = index.Gaps(out.history);
  ARK_ASSIGN_OR_RETURN(auto backups, ListBackups(repo));
  for (const auto& b : backups) {
    if (!OnHistory(b.position, out.history)) continue;
    RestoreWindow w;
    w.backup = b.name;
    w.from = b.position;
    w.from_micros = b.position_micros;
    auto pieces = index.ContiguousAfter(b.position, out.history);
    w.to = pieces.empty() ? b.position : Position{pieces.back().range.epoch, pieces.back().use_last};
    w.to_micros = pieces.empty() ? b.position_micros : pieces.back().range.last_micros;
    out.windows.push_back(w);
  }
  return out;
}

Result<ArchiveVerifyReport> VerifyArchive(Repository* repo, uint64_t epoch, Position from, Position to, bool quick,
                                          Progress* progress) {
  Progress local_progress;
  if (progress == nullptr) progress = &local_progress;
  ARK_ASSIGN_OR_RETURN(ArchiveIndex index, ArchiveIndex::Load(repo));
  if (epoch == 0) epoch = DefaultEpoch(index);
  ArchiveVerifyReport report;
  if (epoch == 0) return report;
  ARK_ASSIGN_OR_RETURN(auto history, index.HistoryOf(epoch));
  std::vector<ArchiveRange> ranges;
  for (const auto& r : index.AllRanges()) {
    uint64_t lo = 0, hi = 0;
    if (!EpochSpanOnHistory(history, r.epoch, &lo, &hi) || r.last_lsn < lo || r.first_lsn > hi) continue;
    if (from != Position{} && r.last_lsn < from.lsn) continue;
    if (to != Position{} && r.first_lsn > to.lsn) continue;
    ranges.push_back(r);
  }
  // Overlaps within an epoch.
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].epoch == ranges[i - 1].epoch && ranges[i].first_lsn <= ranges[i - 1].last_lsn) {
      report.problems.push_back(fmt::format("ranges {}..{} and {}..{} overlap", ranges[i - 1].first().ToString(),
                                            ranges[i - 1].last().ToString(), ranges[i].first().ToString(),
                                            ranges[i].last().ToString()));
    }
  }
  for (const auto& g : index.Gaps(history)) {
    if (from != Position{} && g.last_lsn < from.lsn) continue;
    if (to != Position{} && g.first_lsn > to.lsn) continue;
    report.problems.push_back("gap: " + g.ToString() + " are not archived");
  }
  progress->files_total = ranges.size();
  for (const auto& r : ranges) progress->bytes_total += r.segment.size;
  std::mutex mu;
  Status s = ParallelFor(ranges.size(), 4, nullptr, [&](size_t i) -> Status {
    const ArchiveRange& r = ranges[i];
    const std::string key = ArchiveRangeKey(r.epoch, r.first_lsn, r.last_lsn);
    std::vector<std::string> problems;
    auto blob = repo->GetBlob(r.segment.hash);
    uint64_t records = 0;
    if (!blob.ok()) {
      problems.push_back(fmt::format("{}: records blob {}: {}", key, r.segment.hash, blob.status().ToString()));
    } else {
      auto decoded = DecodeArchivedRecords(*blob, key);
      if (!decoded.ok()) {
        problems.push_back(decoded.status().ToString());
      } else {
        records = decoded->size();
        if (decoded->size() != r.records()) {
          problems.push_back(fmt::format("{}: holds {} records, its document says {}", key, decoded->size(), r.records()));
        } else {
          for (size_t k = 0; k < decoded->size(); ++k) {
            if ((*decoded)[k].position != Position{r.epoch, r.first_lsn + k}) {
              problems.push_back(fmt::format("{}: record {} is at {}", key, k, (*decoded)[k].position.ToString()));
              break;
            }
          }
          if (!decoded->empty() && (decoded->front().timestamp_micros != r.first_micros ||
                                    decoded->back().timestamp_micros != r.last_micros)) {
            problems.push_back(fmt::format("{}: record times differ from the document's", key));
          }
        }
      }
    }
    for (const auto& f : r.files) {
      Status v = quick ? repo->store()->Head(Repository::BlobKey(repo->BlobId(f))).status() : repo->GetBlob(f).status();
      if (!v.ok()) problems.push_back(fmt::format("{}: file {}: {}", key, f, v.ToString()));
    }
    std::lock_guard<std::mutex> lock(mu);
    report.ranges++;
    report.records += records;
    report.bytes += r.segment.size;
    report.files += r.files.size();
    progress->files_done++;
    progress->bytes_done += r.segment.size;
    for (auto& p : problems) report.problems.push_back(std::move(p));
    return Status::OK();
  });
  ARK_RETURN_IF_ERROR(s);
  if (!report.problems.empty()) {
    std::sort(report.problems.begin(), report.problems.end());
    std::string first;
    for (size_t i = 0; i < report.problems.size() && i < 5; ++i) first += "\n  " + report.problems[i];
    return Status::Corruption(fmt::format("the WAL archive in {} failed verification: {} problem(s):{}",
                                          repo->store()->Describe(), report.problems.size(), first));
  }
  return report;
}

Result<ArchivePrunePlan> PlanArchivePrune(Repository* repo, const std::vector<BackupManifest>& kept_backups) {
  ARK_ASSIGN_OR_RETURN(ArchiveIndex index, ArchiveIndex::Load(repo));
  ArchivePrunePlan plan;
  std::optional<Position> oldest;
  for (const auto& b : kept_backups) {
    if (!oldest || b.position < *oldest) oldest = b.position;
  }
  for (const auto& r : index.AllRanges()) {
    // A range entirely before the oldest kept backup serves no restore.
    if (oldest && r.last() < *oldest) {
      plan.remove_keys.push_back(ArchiveRangeKey(r.epoch, r.first_lsn, r.last_lsn));
      plan.ranges_removed++;
      continue;
    }
    plan.referenced_hashes.insert(r.segment.hash);
    for (const auto& f : r.files) plan.referenced_hashes.insert(f);
  }
  return plan;
}

}  // namespace ark::dr
