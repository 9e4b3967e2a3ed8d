// Small helpers shared by the fuzz targets (fuzz/*_fuzz.cc).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ark::fuzz {

// Aborts (a crash libFuzzer records) when an invariant of the code under
// test does not hold. Used for round-trip and contract checks that must hold
// for every input, not for ordinary decode errors.
#define ARK_FUZZ_CHECK(cond, what)                                                  \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "fuzz invariant failed at %s:%d: %s (%s)\n", __FILE__, \
                   __LINE__, #cond, std::string(what).c_str());                     \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

// Reads the input front to back: a byte of flags, a split point, the rest.
class InputReader {
 public:
  InputReader(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? static_cast<uint8_t>(data_[pos_++]) : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }
  std::string_view Take(size_t n) {
    n = std::min(n, size_ - pos_);
    std::string_view out(data_ + pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view Rest() { return Take(size_ - pos_); }
  size_t remaining() const { return size_ - pos_; }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace ark::fuzz
