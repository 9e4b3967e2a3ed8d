// Internal to index/, and to be included by .cc files only: hnswlib 0.6.2
// wrapped so that every translation unit gets a private copy.
//
// hnswlib 0.6.2's headers define non-inline functions (cpuid, AVXCapable,
// ...) and mutable globals (the SIMD kernel pointers), so two translation
// units of one program that include it normally fail to link. The benchmark
// links raw hnswlib next to Ark's index layer, and both hnsw_index.cc and
// faiss_index.cc use its kernels. We therefore pre-include every standard
// header hnswlib uses (their include guards make hnswlib's own #includes
// no-ops) and include hnswlib inside an anonymous namespace: its names become
// internal to the including file, reachable there as `hnswlib::...`.
// Never include this from a header.
#pragma once

#include <algorithm>
#include <assert.h>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cpuid.h>
#include <deque>
#include <fstream>
#include <immintrin.h>
#include <iostream>
#include <list>
#include <mutex>
#include <queue>
#include <random>
#include <stdexcept>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <x86intrin.h>

// hnswlib 0.6.2's SSE code prefetches through the neighbour id one past the
// end of a link list (a harmless read in practice, fixed upstream in 0.7).
// AddressSanitizer rightly flags it, so sanitizer builds use hnswlib's plain
// C++ kernels; release builds keep the SIMD ones. GCC says "ASan" with
// __SANITIZE_ADDRESS__, clang 14 only through __has_feature.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARK_HNSWLIB_UNDER_ASAN 1
#endif
#endif
#if (defined(__SANITIZE_ADDRESS__) || defined(ARK_HNSWLIB_UNDER_ASAN)) && \
    !defined(NO_MANUAL_VECTORIZATION)
#define NO_MANUAL_VECTORIZATION
#endif

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
namespace {
#include <hnswlib/hnswlib.h>
}  // namespace
#pragma GCC diagnostic pop
