#pragma once

#include <string>

namespace ark {

// Which malloc the binary runs on, for the startup log and benchmark headers:
// "jemalloc 5.3.0 (thp always)" when it links jemalloc (CMake ARK_JEMALLOC,
// src/alloc/allocator.cc), otherwise "glibc malloc".
std::string AllocatorDescription();

}  // namespace ark
