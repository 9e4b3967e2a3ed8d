#include "support/html_tags.h"

#include <cctype>

namespace ark::testing {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string LowerWord(const std::string& html, size_t& i) {
  std::string word;
  while (i < html.size() && (std::isalnum(static_cast<unsigned char>(html[i])) || html[i] == '-' ||
                             html[i] == '!' || html[i] == '/' || html[i] == ':')) {
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(html[i++])));
  }
  return word;
}

// The value after '=' at html[i]; i is left past it.
std::string Value(const std::string& html, size_t& i) {
  while (i < html.size() && IsSpace(html[i])) ++i;
  if (i >= html.size()) return "";
  const char quote = html[i];
  if (quote == '"' || quote == '\'') {
    const size_t end = html.find(quote, i + 1);
    std::string value =
        html.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
    i = end == std::string::npos ? html.size() : end + 1;
    return value;
  }
  const size_t start = i;
  while (i < html.size() && !IsSpace(html[i]) && html[i] != '>') ++i;
  return html.substr(start, i - start);
}

}  // namespace

std::vector<HtmlTag> HtmlTags(const std::string& html) {
  std::vector<HtmlTag> tags;
  for (size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i)) {
    ++i;
    HtmlTag tag{LowerWord(html, i), {}};
    while (i < html.size() && html[i] != '>') {
      if (IsSpace(html[i])) {
        ++i;
      } else if (html[i] == '=') {
        ++i;
        std::string value = Value(html, i);
        if (!tag.attributes.empty()) tag.attributes.back().second = std::move(value);
      } else {
        const size_t before = i;
        std::string attribute = LowerWord(html, i);
        if (i == before) ++i;  // a stray character
        if (!attribute.empty() && attribute != "/") tag.attributes.emplace_back(attribute, "");
      }
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

size_t CountOf(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace ark::testing
