#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace ark::server {

// A few expensive objects (big request buffers, JSON parsers) kept for reuse.
// The most recently returned is taken first, so the objects in use are the
// warm ones whose pages are already mapped. At most `keep` are held; more
// returned at once are dropped.
template <typename T>
class ReusePool {
 public:
  explicit ReusePool(size_t keep) : keep_(keep) {}

  std::optional<T> Take() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return std::nullopt;
    std::optional<T> t(std::move(free_.back()));
    free_.pop_back();
    return t;
  }

  void Give(T t) {
    std::lock_guard lock(mu_);
    if (free_.size() < keep_) free_.push_back(std::move(t));
  }

 private:
  const size_t keep_;
  std::mutex mu_;
  std::vector<T> free_;  // GUARDED_BY(mu_)
};

}  // namespace ark::server
