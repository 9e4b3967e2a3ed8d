// One format for every filter error, so that users and tests can rely on it:
//
//   filter "age >> 3": at offset 5 ('>'): expected an expression
//
// Offsets are 0-based byte offsets into the filter text. Long filters are
// shortened in the quote (the offset still refers to the full text).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ark::expr {

// `token` is the offending token's text; empty means end of input.
Status FilterError(std::string_view filter, size_t offset, std::string_view token,
                   std::string_view what);

// Returns the length of the longest valid UTF-8 prefix of `s`.
size_t ValidUtf8Prefix(std::string_view s);

}  // namespace ark::expr
