#include "alloc/allocator.h"

#ifdef ARK_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

// jemalloc instead of glibc malloc, for `ark` and the benchmarks (not for the
// sanitizer builds, which bring their own allocator).
//
// Why: ingest allocates and frees buffers of megabytes per request (request
// bodies, parsed columns, WAL records, sealed segments). glibc serves those
// from fresh mappings and returns them, so every request pays a page fault per
// 4 KiB it touches; under perf that was a quarter of all samples of
// bench/http_e2e_bench. jemalloc keeps freed extents for reuse and, with
// transparent huge pages (this machine's THP mode is "madvise", which only a
// madvise(MADV_HUGEPAGE) from the allocator turns on), faults 2 MiB at a time.
// Measured with build/release/http_e2e_bench --rows 50000 --search 0:
// HTTP insert 19-21k -> 25-28k rows/s, in-process Database::Insert
// 34-38k -> 130-142k rows/s (docs/benchmarks/server.md).
//
// MALLOC_CONF in the environment still overrides each option.
#ifdef ARK_JEMALLOC
extern "C" {
// jemalloc reads this symbol at its initialisation; the name is unprefixed in
// Debian's build (jemalloc.h maps je_malloc_conf to it).
const char* malloc_conf = "thp:always,metadata_thp:auto";
}
#endif

namespace ark {

std::string AllocatorDescription() {
#ifdef ARK_JEMALLOC
  const char* version = nullptr;
  size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) != 0 || version == nullptr) return "jemalloc (version unknown)";
  const char* thp = nullptr;
  len = sizeof(thp);
  std::string v(version);  // "5.3.0-0-g<commit>": the release is enough
  std::string out = "jemalloc " + v.substr(0, v.find('-'));
  if (mallctl("opt.thp", &thp, &len, nullptr, 0) == 0 && thp != nullptr) out += std::string(" (thp ") + thp + ")";
  return out;
#else
  return "glibc malloc";
#endif
}

}  // namespace ark
