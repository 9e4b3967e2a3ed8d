// Reading the tags of a generated HTML page the way a browser tokenises them,
// for tests that must prove a page inert: which elements it has, which
// attributes each carries and their values. Quoted values are skipped as a
// whole, so escaped text inside an attribute cannot pass for another
// attribute; text between tags is ignored.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ark::testing {

struct HtmlTag {
  std::string name;  // lower case; "/p" for a closing tag, "!doctype" for the doctype
  std::vector<std::pair<std::string, std::string>> attributes;  // lower-case name, raw value
};

std::vector<HtmlTag> HtmlTags(const std::string& html);

// Occurrences of `needle` in `haystack`, not overlapping.
size_t CountOf(const std::string& haystack, const std::string& needle);

}  // namespace ark::testing
