// A compiled `like` pattern: '%' matches any run of characters, '_' exactly
// one character (a UTF-8 code point), '\%' '\_' '\\' match themselves.
// Common shapes (exact, prefix%, %suffix, %infix%) get dedicated fast paths.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ark::expr {

class LikePattern {
 public:
  enum class Shape { kExact, kPrefix, kSuffix, kContains, kGeneral };

  explicit LikePattern(std::string_view pattern);

  bool Matches(std::string_view s) const;
  Shape shape() const { return shape_; }
  // The literal text of kExact/kPrefix/kSuffix/kContains patterns.
  const std::string& literal() const { return literal_; }

 private:
  struct Piece {
    enum class Kind { kLiteral, kAnyOne, kAnySeq } kind;
    std::string text;  // kLiteral
  };
  bool MatchGeneral(std::string_view s) const;

  Shape shape_ = Shape::kGeneral;
  std::string literal_;
  std::vector<Piece> pieces_;
};

}  // namespace ark::expr
