#include "dr/replication/archive_catchup.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <vector>

#include "dr/archive/archive_index.h"
#include "dr/archive/pitr.h"
#include "wal/wal_tail_reader.h"

namespace ark::dr {

Result<ArchiveCatchUpReport> CatchUpFromArchive(Repository* repo, Database* follower, const std::atomic<bool>* stop) {
  ArchiveCatchUpReport report;
  report.from = report.reached = follower->wal()->DurablePosition();
  ARK_ASSIGN_OR_RETURN(ArchiveIndex index, ArchiveIndex::Load(repo));
  const uint64_t epoch = index.LatestEpoch();
  if (epoch == 0) return report;  // an empty archive
  ARK_ASSIGN_OR_RETURN(std::vector<EpochStart> history, index.HistoryOf(epoch));
  report.archive_end = index.EndOnHistory(history);
  // The follower's history must lie on the archive's, as on the primary's
  // for its stream (ReplicationSource::OpenStream): the first epoch of a
  // seeded follower may begin later than the archive's.
  const std::vector<EpochStart> ours = follower->EpochHistory();
  for (size_t i = 0; i < ours.size(); ++i) {
    bool known = false;
    for (const auto& h : history) {
      known = known || (h.epoch == ours[i].epoch && (h.first == ours[i].first || i == 0));
    }
    if (!known) {
      return Status::FailedPrecondition(fmt::format(
          "this standby's epoch {} starting at {} is not on the archive's history {}: it forked and must "
          "re-bootstrap",
          ours[i].epoch, ours[i].first.ToString(), HistoryToString(history)));
    }
  }
  if (Status on = CheckPositionOnHistory(report.from, history); !on.ok()) {
    return Status::FailedPrecondition(
        fmt::format("this standby's last record {} is not on the archive's history: {}; it must re-bootstrap",
                    report.from.ToString(), on.message()));
  }
  std::optional<ArchiveGap> gap;
  const std::vector<ArchiveIndex::Piece> pieces = index.ContiguousAfter(report.from, history, &gap);
  if (gap) report.gap = gap->ToString();
  for (const auto& piece : pieces) {
    if (stop != nullptr && stop->load()) return Status::Cancelled("stopped while catching up from the archive");
    ARK_ASSIGN_OR_RETURN(auto fetched, FetchArchivedPieces(repo, {piece}, 1));
    for (const WalRecord& record : fetched[0]) {
      // Only what comes next: ContiguousAfter starts after `from`, and the
      // replicated append refuses anything but the next position.
      if (record.position.lsn <= report.reached.lsn) continue;
      ARK_RETURN_IF_ERROR(follower->AppendReplicated(record).status().WithContext(
          fmt::format("applying archived record {}", record.position.ToString())));
      report.reached = record.position;
      ++report.records;
    }
    ++report.ranges;
  }
  if (report.records > 0) {
    spdlog::info("standby: caught up from the WAL archive: {} records in {} ranges, {} -> {}", report.records,
                 report.ranges, report.from.ToString(), report.reached.ToString());
  }
  return report;
}

}  // namespace ark::dr
