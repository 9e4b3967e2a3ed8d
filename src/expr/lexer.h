// Lexer for Milvus filter expressions.
//
// Turns the filter text into tokens with their byte offsets. String literals
// are decoded (escapes applied) and must be valid UTF-8; integer literals
// keep their magnitude so that the parser can accept -9223372036854775808.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ark::expr {

enum class TokenKind {
  kEnd,
  kInt,       // magnitude in int_magnitude (sign is a separate '-' token)
  kFloat,     // value in float_value
  kString,    // decoded in string_value
  kIdent,     // identifier or $meta
  kTemplate,  // {name}: name in string_value
  kTrue,
  kFalse,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kPower,
  kAnd,   // and AND &&
  kOr,    // or OR ||
  kNot,   // not NOT !
  kIn,    // in IN
  kLike,  // like LIKE
  kIs,    // is IS
  kNull,  // null NULL
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t offset = 0;
  std::string_view text;  // the source bytes of the token (empty at end)
  uint64_t int_magnitude = 0;
  double float_value = 0;
  std::string string_value;
};

// Tokenizes `filter`; the last token is always kEnd. Errors use the
// FilterError format (expr_error.h).
Result<std::vector<Token>> Lex(std::string_view filter);

}  // namespace ark::expr
