// Little-endian fixed-width encoding and a bounds-checked decoder.
//
// Every on-disk and wire format in Ark is little-endian. Writers append to a
// std::string; readers use Decoder, which never reads past its end and reports
// where it stopped so that a corruption message can name the offset.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ark {

// True iff size == rows * width, decided without overflow (a decoder checking
// a row count read from a file must not let the product wrap). width 0 fits
// only an empty size.
inline bool SizeFits(uint64_t size, uint64_t rows, uint64_t width) {
  if (width == 0) return size == 0;
  return rows <= size / width && rows * width == size;
}

inline void PutFixed16(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  dst->append(b, 2);
}
inline void PutFixed32(std::string* dst, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  dst->append(b, 4);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  dst->append(b, 8);
}
inline void PutDouble(std::string* dst, double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  PutFixed64(dst, u);
}
// Length-prefixed (u32) bytes.
inline void PutBytes32(std::string* dst, std::string_view s) {
  PutFixed32(dst, static_cast<uint32_t>(s.size()));
  dst->append(s);
}

inline uint16_t DecodeFixed16(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}
inline uint32_t DecodeFixed32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}
inline void EncodeFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

// Reads fixed-width values from a byte span; every Get* returns false (and
// consumes nothing) when too few bytes remain.
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}

  bool GetFixed16(uint16_t* v) { return Take(2, [&](const char* p) { *v = DecodeFixed16(p); }); }
  bool GetFixed32(uint32_t* v) { return Take(4, [&](const char* p) { *v = DecodeFixed32(p); }); }
  bool GetFixed64(uint64_t* v) { return Take(8, [&](const char* p) { *v = DecodeFixed64(p); }); }
  bool GetDouble(double* v) {
    uint64_t u;
    if (!GetFixed64(&u)) return false;
    std::memcpy(v, &u, 8);
    return true;
  }
  bool GetBytes(size_t n, std::string_view* out) {
    return Take(n, [&](const char* p) { *out = std::string_view(p, n); });
  }
  bool GetBytes32(std::string_view* out) {
    uint32_t n;
    size_t saved = pos_;
    if (!GetFixed32(&n)) return false;
    if (!GetBytes(n, out)) {
      pos_ = saved;
      return false;
    }
    return true;
  }
  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }

 private:
  template <typename F>
  bool Take(size_t n, F&& f) {
    if (remaining() < n) return false;
    f(data_.data() + pos_);
    pos_ += n;
    return true;
  }
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace ark
