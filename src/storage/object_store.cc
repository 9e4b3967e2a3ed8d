#include "storage/object_store.h"

#include <algorithm>
#include <cstring>

namespace ark {

Result<std::string> ObjectStore::Get(const std::string& key) {
  StringObjectWriter writer;
  ARK_RETURN_IF_ERROR(GetStream(key, &writer));
  return std::move(writer.data());
}

Result<std::string> ObjectStore::GetRange(const std::string& key, uint64_t offset,
                                          uint64_t length) {
  StringObjectWriter writer;
  ARK_RETURN_IF_ERROR(GetStream(key, &writer, ByteRange{offset, length}));
  return std::move(writer.data());
}

Result<std::vector<ObjectInfo>> ObjectStore::ListAll(const std::string& prefix) {
  std::vector<ObjectInfo> all;
  ListOptions options;
  options.prefix = prefix;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(ListPage page, List(options));
    for (auto& o : page.objects) all.push_back(std::move(o));
    if (page.next_page_token.empty()) break;
    options.page_token = page.next_page_token;
  }
  return all;
}

Status ValidateObjectKey(std::string_view key) {
  auto bad = [&](const char* why) {
    std::string shown(key);
    for (char& c : shown) {
      if (c == '\0') c = '?';
    }
    return Status::InvalidArgument("object key \"" + shown + "\": " + why);
  };
  if (key.empty()) return bad("empty key");
  if (key.size() > 1024) return bad("longer than 1024 bytes");
  if (key.find('\0') != std::string_view::npos) return bad("contains NUL");
  if (key.front() == '/') return bad("absolute (leading '/')");
  size_t start = 0;
  for (;;) {
    size_t end = key.find('/', start);
    std::string_view seg = key.substr(start, end == std::string_view::npos ? end : end - start);
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' or '..' segment");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return Status::OK();
}

Result<size_t> StringObjectReader::Read(char* buf, size_t n) {
  size_t k = std::min(n, data_.size() - pos_);
  if (k > 0) std::memcpy(buf, data_.data() + pos_, k);
  pos_ += k;
  return k;
}

}  // namespace ark
