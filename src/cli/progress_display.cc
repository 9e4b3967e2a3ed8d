#include "cli/progress_display.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace ark::cli {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string ProgressDisplay::Bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", b, units[u]) : fmt::format("{:.1f} {}", b, units[u]);
}

std::string ProgressDisplay::Line(const dr::Progress& p, double seconds) {
  const double done = static_cast<double>(p.bytes_done.load());
  const double total = static_cast<double>(p.bytes_total.load());
  const double rate = seconds > 0 ? static_cast<double>(p.bytes_transferred.load()) / seconds : 0;
  const double drate = seconds > 0 ? done / seconds : 0;
  std::string eta = "-";
  if (drate > 0 && total > done) eta = fmt::format("{:.0f}s", (total - done) / drate);
  if (total > 0 && done >= total) eta = "0s";
  return fmt::format("{}/{} files, {}/{}, {}/s, ETA {}", p.files_done.load(), p.files_total.load(), Bytes(done),
                     Bytes(total), Bytes(rate), eta);
}

ProgressDisplay::ProgressDisplay(const dr::Progress* progress, std::string verb, bool quiet)
    : progress_(progress), verb_(std::move(verb)), tty_(::isatty(2) == 1), quiet_(quiet) {
  if (!quiet_) thread_ = std::thread([this] { Run(); });
}

ProgressDisplay::~ProgressDisplay() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!quiet_) Draw(true);
}

void ProgressDisplay::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto period = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) Draw(false);
}

void ProgressDisplay::Draw(bool final) {
  const uint64_t started = progress_->started_micros.load();
  const double seconds = started ? NowSeconds() - static_cast<double>(started) / 1e6 : 0;
  const double total = static_cast<double>(progress_->bytes_total.load());
  const double done = static_cast<double>(progress_->bytes_done.load());
  const double fraction = total > 0 ? std::min(1.0, done / total) : (final ? 1.0 : 0.0);
  if (tty_) {
    const int width = 24;
    const int filled = static_cast<int>(fraction * width);
    std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
    std::fprintf(stderr, "\r%s [%s] %3.0f%% %s\033[K%s", verb_.c_str(), bar.c_str(), fraction * 100,
                 Line(*progress_, seconds).c_str(), final ? "\n" : "");
  } else if (!final || progress_->files_total.load() > 0) {
    std::fprintf(stderr, "%s: %3.0f%% %s\n", verb_.c_str(), fraction * 100, Line(*progress_, seconds).c_str());
  }
  std::fflush(stderr);
}

}  // namespace ark::cli
