// ProgressDisplay: shows a dr::Progress while a job runs — a bar redrawn in
// place when stderr is a terminal (files, bytes, rate, ETA), a plain line
// every few seconds otherwise (logs, CI). Stops and prints a last line when
// destroyed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "dr/backup/backup.h"

namespace ark::cli {

class ProgressDisplay {
 public:
  ProgressDisplay(const dr::Progress* progress, std::string verb, bool quiet);
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // "12/30 files, 1.2 GiB/2.6 GiB, 85.0 MiB/s, ETA 17s"
  static std::string Line(const dr::Progress& p, double seconds);
  static std::string Bytes(double bytes);

 private:
  void Run();
  void Draw(bool final);

  const dr::Progress* progress_;
  std::string verb_;
  bool tty_ = false;
  bool quiet_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ark::cli
