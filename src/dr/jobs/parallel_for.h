// ParallelFor: the small worker pool DR operations share (backup uploads,
// restore downloads, archive reads).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include "core/status.h"

namespace ark::dr {

// Runs fn(i) for i in [0, n) on up to `parallelism` threads (the caller's
// among them); stops handing out work at the first error (or once
// `cancelled` is set: Status::Cancelled) and returns that error.
Status ParallelFor(size_t n, int parallelism, const std::atomic<bool>* cancelled,
                   const std::function<Status(size_t)>& fn);

}  // namespace ark::dr
