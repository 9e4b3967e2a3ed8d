// A fixed-size bitmap of rows: bit i set = row i selected. 64-bit words,
// bits past size() are always zero. Not thread-safe for writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ark::expr {

class Bitmap {
 public:
  Bitmap() = default;
  explicit Bitmap(size_t size, bool value = false);

  size_t size() const { return size_; }
  bool Get(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  void Set(size_t i, bool v) {
    const uint64_t mask = uint64_t{1} << (i & 63);
    words_[i >> 6] = v ? (words_[i >> 6] | mask) : (words_[i >> 6] & ~mask);
  }
  void SetAll(bool value);

  // In-place boolean algebra; `other` must have the same size.
  void And(const Bitmap& other);
  void Or(const Bitmap& other);
  void AndNot(const Bitmap& other);  // this & ~other
  void Not();

  size_t Count() const;
  bool None() const;
  bool All() const { return Count() == size_; }

  // Raw words (bit i of word w = row 64*w + i); writers must keep bits past
  // size() zero or call ClearTail().
  uint64_t* words() { return words_.data(); }
  const uint64_t* words() const { return words_.data(); }
  size_t word_count() const { return words_.size(); }
  void ClearTail();

  bool operator==(const Bitmap& other) const = default;

 private:
  size_t size_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace ark::expr
