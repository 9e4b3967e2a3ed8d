#include "dr/jobs/parallel_for.h"

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

namespace ark::dr {

Status ParallelFor(size_t n, int parallelism, const std::atomic<bool>* cancelled,
                   const std::function<Status(size_t)>& fn) {
  std::mutex mu;
  Status first;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto worker = [&] {
    while (!failed.load()) {
      if ((cancelled != nullptr && cancelled->load(std::memory_order_relaxed))) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = Status::Cancelled("cancelled");
        failed = true;
        return;
      }
      size_t i = next.fetch_add(1);
      if (i >= n) return;
      Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = s;
        failed = true;
        return;
      }
    }
  };
  int threads = static_cast<int>(std::min<size_t>(n, static_cast<size_t>(std::max(1, parallelism))));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  if (threads > 0) worker();
  for (auto& t : pool) t.join();
  return first;
}

}  // namespace ark::dr
