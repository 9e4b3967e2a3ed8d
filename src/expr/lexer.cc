#include "expr/lexer.h"

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "expr/expr_error.h"

namespace ark::expr {
namespace {

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Keywords are accepted in lower case and in upper case (Milvus's grammar);
// True/False also capitalised.
bool KeywordKind(std::string_view w, TokenKind* kind) {
  struct Entry {
    std::string_view lower, upper;
    TokenKind kind;
  };
  static constexpr Entry kKeywords[] = {
      {"and", "AND", TokenKind::kAnd},       {"or", "OR", TokenKind::kOr},
      {"not", "NOT", TokenKind::kNot},       {"in", "IN", TokenKind::kIn},
      {"like", "LIKE", TokenKind::kLike},    {"is", "IS", TokenKind::kIs},
      {"null", "NULL", TokenKind::kNull},    {"true", "TRUE", TokenKind::kTrue},
      {"false", "FALSE", TokenKind::kFalse},
  };
  for (const Entry& e : kKeywords) {
    if (w == e.lower || w == e.upper) {
      *kind = e.kind;
      return true;
    }
  }
  if (w == "True") return *kind = TokenKind::kTrue, true;
  if (w == "False") return *kind = TokenKind::kFalse, true;
  return false;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xc0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xe0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      while (pos_ < s_.size() &&
             (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
        ++pos_;
      }
      Token t;
      t.offset = pos_;
      if (pos_ >= s_.size()) {
        out.push_back(std::move(t));
        return out;
      }
      Status st = Next(&t);
      if (!st.ok()) return st;
      t.text = s_.substr(t.offset, pos_ - t.offset);
      out.push_back(std::move(t));
    }
  }

 private:
  Status Error(size_t at, size_t len, std::string_view what) {
    return FilterError(s_, at, s_.substr(at, len), what);
  }

  Status Next(Token* t) {
    const char c = s_[pos_];
    if (IsDigit(c) || (c == '.' && pos_ + 1 < s_.size() && IsDigit(s_[pos_ + 1]))) {
      return Number(t);
    }
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
      TokenKind kw;
      t->kind = KeywordKind(s_.substr(start, pos_ - start), &kw) ? kw : TokenKind::kIdent;
      return Status::OK();
    }
    if (c == '"' || c == '\'') return String(t);
    if (c == '{') return Template(t);
    auto two = [&](char next) { return pos_ + 1 < s_.size() && s_[pos_ + 1] == next; };
    auto emit = [&](TokenKind k, size_t len) {
      t->kind = k;
      pos_ += len;
      return Status::OK();
    };
    switch (c) {
      case '(':
        return emit(TokenKind::kLParen, 1);
      case ')':
        return emit(TokenKind::kRParen, 1);
      case '[':
        return emit(TokenKind::kLBracket, 1);
      case ']':
        return emit(TokenKind::kRBracket, 1);
      case ',':
        return emit(TokenKind::kComma, 1);
      case '+':
        return emit(TokenKind::kPlus, 1);
      case '-':
        return emit(TokenKind::kMinus, 1);
      case '/':
        return emit(TokenKind::kSlash, 1);
      case '%':
        return emit(TokenKind::kPercent, 1);
      case '*':
        return two('*') ? emit(TokenKind::kPower, 2) : emit(TokenKind::kStar, 1);
      case '=':
        if (two('=')) return emit(TokenKind::kEq, 2);
        return Error(pos_, 1, "expected '==' (a single '=' is not an operator)");
      case '!':
        return two('=') ? emit(TokenKind::kNe, 2) : emit(TokenKind::kNot, 1);
      case '<':
        return two('=') ? emit(TokenKind::kLe, 2) : emit(TokenKind::kLt, 1);
      case '>':
        return two('=') ? emit(TokenKind::kGe, 2) : emit(TokenKind::kGt, 1);
      case '&':
        if (two('&')) return emit(TokenKind::kAnd, 2);
        return Error(pos_, 1, "expected '&&' (bitwise '&' is not supported)");
      case '|':
        if (two('|')) return emit(TokenKind::kOr, 2);
        return Error(pos_, 1, "expected '||' (bitwise '|' is not supported)");
      default:
        break;
    }
    size_t len = 1;
    if (static_cast<unsigned char>(c) >= 0x80) {
      // Show the whole code point, not a lone lead byte.
      while (pos_ + len < s_.size() && len < 4 &&
             (static_cast<unsigned char>(s_[pos_ + len]) & 0xc0) == 0x80) {
        ++len;
      }
    }
    return Error(pos_, len, "unexpected character");
  }

  Status Number(Token* t) {
    const size_t start = pos_;
    bool is_float = false;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      is_float = true;
      ++pos_;
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
      if (p >= s_.size() || !IsDigit(s_[p])) {
        return Error(start, p - start, "malformed number: expected digits in the exponent");
      }
      while (p < s_.size() && IsDigit(s_[p])) ++p;
      pos_ = p;
      is_float = true;
    }
    if (pos_ < s_.size() && IsIdentChar(s_[pos_])) {
      size_t end = pos_;
      while (end < s_.size() && IsIdentChar(s_[end])) ++end;
      return Error(start, end - start, "malformed number");
    }
    const std::string digits(s_.substr(start, pos_ - start));
    if (is_float) {
      errno = 0;
      char* endp = nullptr;
      double v = std::strtod(digits.c_str(), &endp);
      if (errno == ERANGE && (v > 1 || v < -1)) {
        return Error(start, pos_ - start, "float literal out of range");
      }
      t->kind = TokenKind::kFloat;
      t->float_value = v;
      return Status::OK();
    }
    uint64_t v = 0;
    for (char d : digits) {
      uint64_t digit = static_cast<uint64_t>(d - '0');
      // The largest magnitude any int64 literal needs is 2^63 (for -2^63).
      if (v > ((uint64_t{1} << 63) - digit) / 10) {
        return Error(start, pos_ - start, "integer literal out of int64 range");
      }
      v = v * 10 + digit;
    }
    t->kind = TokenKind::kInt;
    t->int_magnitude = v;
    return Status::OK();
  }

  Status String(Token* t) {
    const size_t start = pos_;
    const char quote = s_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) {
        return Error(start, 1, "unterminated string literal");
      }
      char c = s_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return Error(start, 1, "unterminated string literal");
        Status st = Escape(&out);
        if (!st.ok()) return st;
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        size_t valid = ValidUtf8Prefix(s_.substr(pos_, 4));
        if (valid == 0) {
          return Error(pos_, 1, "invalid UTF-8 in string literal");
        }
        out.append(s_.substr(pos_, valid));
        pos_ += valid;
        continue;
      }
      out += c;
      ++pos_;
    }
    t->kind = TokenKind::kString;
    t->string_value = std::move(out);
    return Status::OK();
  }

  // At a backslash. Unknown escapes are kept as written (backslash included)
  // so that like-patterns can say "\%" and "\_" without doubling.
  Status Escape(std::string* out) {
    const size_t at = pos_;
    const char e = s_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"':
        *out += '"';
        return Status::OK();
      case '\'':
        *out += '\'';
        return Status::OK();
      case '\\':
        *out += '\\';
        return Status::OK();
      case 'n':
        *out += '\n';
        return Status::OK();
      case 't':
        *out += '\t';
        return Status::OK();
      case 'r':
        *out += '\r';
        return Status::OK();
      case 'u': {
        uint32_t cp = 0;
        for (int i = 0; i < 4; ++i) {
          char h = pos_ < s_.size() ? s_[pos_] : '\0';
          int v = (h >= '0' && h <= '9')   ? h - '0'
                  : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                  : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                           : -1;
          if (v < 0) return Error(at, pos_ - at, "expected 4 hex digits after \\u");
          cp = cp * 16 + static_cast<uint32_t>(v);
          ++pos_;
        }
        if (cp >= 0xd800 && cp <= 0xdfff) {
          return Error(at, pos_ - at, "\\u escape names a UTF-16 surrogate");
        }
        AppendUtf8(out, cp);
        return Status::OK();
      }
      default:
        *out += '\\';
        pos_ -= 1;  // the escaped character is read as an ordinary one
        return Status::OK();
    }
  }

  Status Template(Token* t) {
    const size_t start = pos_++;
    size_t name_start = pos_;
    while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
    if (pos_ == name_start || !IsIdentStart(s_[name_start]) || pos_ >= s_.size() ||
        s_[pos_] != '}') {
      return Error(start, 1, "expected a template parameter '{name}'");
    }
    t->kind = TokenKind::kTemplate;
    t->string_value = std::string(s_.substr(name_start, pos_ - name_start));
    ++pos_;
    return Status::OK();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Token>> Lex(std::string_view filter) { return Lexer(filter).Run(); }

}  // namespace ark::expr
