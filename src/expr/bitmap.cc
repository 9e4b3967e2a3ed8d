#include "expr/bitmap.h"

#include <bit>

namespace ark::expr {

Bitmap::Bitmap(size_t size, bool value) : size_(size), words_((size + 63) / 64, 0) {
  if (value) SetAll(true);
}

void Bitmap::SetAll(bool value) {
  for (uint64_t& w : words_) w = value ? ~uint64_t{0} : 0;
  ClearTail();
}

void Bitmap::ClearTail() {
  if (size_ % 64 != 0) words_.back() &= (uint64_t{1} << (size_ % 64)) - 1;
}

void Bitmap::And(const Bitmap& o) {
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= o.words_[i];
}
void Bitmap::Or(const Bitmap& o) {
  for (size_t i = 0; i < words_.size(); ++i) words_[i] |= o.words_[i];
}
void Bitmap::AndNot(const Bitmap& o) {
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= ~o.words_[i];
}
void Bitmap::Not() {
  for (uint64_t& w : words_) w = ~w;
  ClearTail();
}

size_t Bitmap::Count() const {
  size_t n = 0;
  for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
  return n;
}

bool Bitmap::None() const {
  for (uint64_t w : words_) {
    if (w != 0) return false;
  }
  return true;
}

}  // namespace ark::expr
