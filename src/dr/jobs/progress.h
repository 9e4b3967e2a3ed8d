// Progress: the live counters of one long-running DR operation (a backup,
// verify or restore), written by the operation's threads and read by the
// CLI's progress display and by /ark/v1/jobs while it runs.
//
// Thread-safety: every field is atomic; writers add, readers load. The
// fields are not read as one snapshot (files_done may be one ahead of
// bytes_done): good enough for a progress bar.
#pragma once

#include <atomic>
#include <cstdint>

namespace ark::dr {

struct Progress {
  std::atomic<uint64_t> files_total{0};
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> bytes_total{0};  // plaintext bytes to process
  std::atomic<uint64_t> bytes_done{0};   // plaintext bytes processed (uploaded, skipped or checked)
  std::atomic<uint64_t> bytes_transferred{0};  // plaintext bytes actually sent or fetched
  std::atomic<uint64_t> started_micros{0};     // wall clock (the job's Env), UTC µs
};

}  // namespace ark::dr
