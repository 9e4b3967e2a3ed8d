#include "expr/like_pattern.h"

namespace ark::expr {
namespace {

// Length of the UTF-8 sequence starting at s[i] (1 for stray bytes, so that
// invalid data still advances).
size_t CodePointLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 1;
  return i + len <= s.size() ? len : 1;
}

}  // namespace

LikePattern::LikePattern(std::string_view pattern) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      c = pattern[++i];
    } else if (c == '%') {
      if (pieces_.empty() || pieces_.back().kind != Piece::Kind::kAnySeq) {
        pieces_.push_back({Piece::Kind::kAnySeq, {}});
      }
      continue;
    } else if (c == '_') {
      pieces_.push_back({Piece::Kind::kAnyOne, {}});
      continue;
    }
    if (pieces_.empty() || pieces_.back().kind != Piece::Kind::kLiteral) {
      pieces_.push_back({Piece::Kind::kLiteral, {}});
    }
    pieces_.back().text += c;
  }
  using K = Piece::Kind;
  const size_t n = pieces_.size();
  auto is = [&](size_t i, K k) { return i < n && pieces_[i].kind == k; };
  if (n == 0) {
    shape_ = Shape::kExact;
  } else if (n == 1 && is(0, K::kLiteral)) {
    shape_ = Shape::kExact, literal_ = pieces_[0].text;
  } else if (n == 1 && is(0, K::kAnySeq)) {
    shape_ = Shape::kPrefix;  // "%": prefix "" matches everything
  } else if (n == 2 && is(0, K::kLiteral) && is(1, K::kAnySeq)) {
    shape_ = Shape::kPrefix, literal_ = pieces_[0].text;
  } else if (n == 2 && is(0, K::kAnySeq) && is(1, K::kLiteral)) {
    shape_ = Shape::kSuffix, literal_ = pieces_[1].text;
  } else if (n == 3 && is(0, K::kAnySeq) && is(1, K::kLiteral) && is(2, K::kAnySeq)) {
    shape_ = Shape::kContains, literal_ = pieces_[1].text;
  }
}

bool LikePattern::Matches(std::string_view s) const {
  switch (shape_) {
    case Shape::kExact:
      return s == literal_;
    case Shape::kPrefix:
      return s.substr(0, literal_.size()) == literal_;
    case Shape::kSuffix:
      return s.size() >= literal_.size() && s.substr(s.size() - literal_.size()) == literal_;
    case Shape::kContains:
      return s.find(literal_) != std::string_view::npos;
    case Shape::kGeneral:
      return MatchGeneral(s);
  }
  return false;
}

// Classic wildcard matching with one backtrack point (the last '%'):
// O(len(s) * pieces) in the worst case, no recursion.
bool LikePattern::MatchGeneral(std::string_view s) const {
  size_t p = 0, i = 0;
  size_t star_p = SIZE_MAX, star_i = 0;
  while (i < s.size() || p < pieces_.size()) {
    if (p < pieces_.size()) {
      const Piece& piece = pieces_[p];
      if (piece.kind == Piece::Kind::kAnySeq) {
        star_p = p++;
        star_i = i;
        continue;
      }
      if (piece.kind == Piece::Kind::kAnyOne && i < s.size()) {
        i += CodePointLength(s, i);
        ++p;
        continue;
      }
      if (piece.kind == Piece::Kind::kLiteral && s.substr(i, piece.text.size()) == piece.text) {
        i += piece.text.size();
        ++p;
        continue;
      }
    }
    if (star_p == SIZE_MAX || star_i >= s.size()) return false;
    star_i += CodePointLength(s, star_i);
    p = star_p + 1;
    i = star_i;
  }
  return true;
}

}  // namespace ark::expr
