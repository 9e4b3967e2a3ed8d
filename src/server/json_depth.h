// JsonNestingDepth: the deepest nesting of arrays and objects in a JSON text,
// by one linear scan (brackets inside strings, with escapes, do not count).
//
// Why: nlohmann::json parses iteratively but destroys, copies and dumps a
// value recursively, so a body of 10^5 nested arrays overflowed the stack and
// killed the server (found by the bad-input matrix). The server refuses
// bodies nested deeper than kMaxJsonDepth before parsing them. A library
// parser with a depth limit (simdjson's is 1024, too deep for nlohmann's
// recursive destructor under ASan) would still leave the nlohmann path open.
#pragma once

#include <cstddef>
#include <string_view>

namespace ark::server {

// Milvus bodies nest a few levels (a list of rows of JSON fields); 64 leaves
// room for JSON field values and stays far from any stack limit.
inline constexpr size_t kMaxJsonDepth = 64;

// Returns the maximum depth, stopping early once it exceeds `stop_above`.
inline size_t JsonNestingDepth(std::string_view text, size_t stop_above = kMaxJsonDepth) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          max_depth = depth;
          if (max_depth > stop_above) return max_depth;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return max_depth;
}

}  // namespace ark::server
