#include "core/position.h"

#include <charconv>

namespace ark {

std::string Position::ToString() const {
  return std::to_string(epoch) + "/" + std::to_string(lsn);
}

Result<Position> Position::Parse(std::string_view text) {
  auto slash = text.find('/');
  auto bad = [&] {
    return Status::InvalidArgument("position '" + std::string(text) +
                                   "' is not EPOCH/LSN (e.g. 1/42)");
  };
  if (slash == std::string_view::npos) return bad();
  Position p;
  auto e = text.substr(0, slash), l = text.substr(slash + 1);
  auto r1 = std::from_chars(e.data(), e.data() + e.size(), p.epoch);
  auto r2 = std::from_chars(l.data(), l.data() + l.size(), p.lsn);
  if (e.empty() || l.empty() || r1.ec != std::errc() || r1.ptr != e.data() + e.size() ||
      r2.ec != std::errc() || r2.ptr != l.data() + l.size()) {
    return bad();
  }
  return p;
}

}  // namespace ark
