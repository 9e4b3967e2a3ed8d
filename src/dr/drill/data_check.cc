#include "dr/drill/data_check.h"

#include <fmt/format.h>

#include <cmath>

#include "dr/drill/drill_api.h"

namespace ark::dr {
namespace {

constexpr size_t kSampleTopK = 10;
constexpr double kTieEpsilon = 1e-5;

std::string FirstVectorField(const nlohmann::json& describe) {
  if (!describe.is_object() || !describe["fields"].is_array()) return "";
  for (const auto& f : describe["fields"]) {
    if (f.is_object() && f.value("type", "") == "FloatVector" && f["name"].is_string()) return f["name"];
  }
  return "";
}

Result<SampleSearch> RunSearch(const std::string& url, const CollectionFingerprint& c, const nlohmann::json& vector,
                               const std::string& token) {
  ARK_ASSIGN_OR_RETURN(nlohmann::json hits,
                       MilvusApi(url, "entities/search",
                                 {{"dbName", c.database}, {"collectionName", c.name}, {"annsField", c.vector_field},
                                  {"data", nlohmann::json::array({vector})}, {"limit", kSampleTopK}},
                                 token));
  SampleSearch s;
  s.vector = vector;
  if (!hits.is_array()) return Status::Corruption("the search answer has no hit list");
  for (const auto& h : hits) {
    if (!h.is_object() || !h.contains("id") || !h["distance"].is_number()) {
      return Status::Corruption(fmt::format("a hit without id and distance: {}", h.dump().substr(0, 200)));
    }
    s.ids.push_back(h["id"].dump());
    s.distances.push_back(h["distance"].get<double>());
  }
  return s;
}

// Same hits, allowing hits with equal distances to swap places.
bool SameHits(const SampleSearch& a, const SampleSearch& b) {
  if (a.ids.size() != b.ids.size()) return false;
  for (size_t i = 0; i < a.ids.size(); ++i) {
    if (std::fabs(a.distances[i] - b.distances[i]) > kTieEpsilon) return false;
  }
  std::multiset<std::string> x(a.ids.begin(), a.ids.end()), y(b.ids.begin(), b.ids.end());
  return x == y;
}

std::string IdList(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
  return "[" + out + "]";
}

Result<std::vector<nlohmann::json>> Checksums(const std::string& url, const std::string& admin_token) {
  ARK_ASSIGN_OR_RETURN(nlohmann::json r,
                       AdminApi(url, "collections/checksum", nlohmann::json::object(), admin_token, 120000));
  if (!r.is_object() || !r["collections"].is_array()) return Status::Corruption("collections/checksum: no collections");
  return r["collections"].get<std::vector<nlohmann::json>>();
}

}  // namespace

Result<DataFingerprint> TakeFingerprint(const std::string& url, const std::string& token,
                                        const std::string& admin_token, const std::set<std::string>& skip,
                                        size_t samples) {
  DataFingerprint fp;
  auto sums = Checksums(url, admin_token);
  if (!sums.ok()) return sums.status().WithContext(url);
  for (const auto& j : *sums) {
    CollectionFingerprint c;
    c.database = j.value("database", "");
    c.name = j.value("name", "");
    if (skip.count(c.name) != 0) continue;
    c.rows = j.value("rows", uint64_t{0});
    c.lsn = j.value("lsn", uint64_t{0});
    c.checksum = j.value("checksum", "");
    auto describe = MilvusApi(url, "collections/describe", {{"dbName", c.database}, {"collectionName", c.name}}, token);
    if (!describe.ok()) return describe.status().WithContext(fmt::format("{}.{}", c.database, c.name));
    c.vector_field = FirstVectorField(*describe);
    if (c.vector_field.empty()) {
      c.skipped = "no vector field";
    } else if (c.rows > 0 && samples > 0) {
      auto rows = MilvusApi(url, "entities/query",
                            {{"dbName", c.database}, {"collectionName", c.name}, {"filter", ""},
                             {"limit", samples}, {"outputFields", {c.vector_field}}},
                            token);
      if (!rows.ok()) {
        // A released collection cannot be searched; its checksum still counts.
        c.skipped = fmt::format("sample rows unreadable: {}", rows.status().message());
      } else {
        for (const auto& row : *rows) {
          if (!row.is_object() || !row[c.vector_field].is_array()) continue;
          auto s = RunSearch(url, c, row[c.vector_field], token);
          if (!s.ok()) return s.status().WithContext(fmt::format("{}.{}", c.database, c.name));
          c.samples.push_back(std::move(*s));
        }
      }
    }
    fp.collections.push_back(std::move(c));
  }
  return fp;
}

CollectionFindings CompareFingerprint(const std::string& url, const DataFingerprint& before, const std::string& token,
                                      const std::string& admin_token, DrillReport* report) {
  CollectionFindings findings;
  auto sums = Checksums(url, admin_token);
  if (!sums.ok()) {
    report->Check("content", false, fmt::format("cannot read the checksums on {}: {}", url, sums.status().message()));
    return findings;
  }
  std::map<std::pair<std::string, std::string>, nlohmann::json> after;
  for (const auto& j : *sums) after[{j.value("database", ""), j.value("name", "")}] = j;

  std::vector<std::string> content_bad, search_bad;
  size_t searches = 0;
  for (const auto& c : before.collections) {
    const std::string full = fmt::format("{}.{}", c.database, c.name);
    nlohmann::json f = {{"checksumBefore", c.checksum}, {"rowsBefore", c.rows}};
    auto it = after.find({c.database, c.name});
    if (it == after.end()) {
      content_bad.push_back(fmt::format("{} is missing", full));
      f["contentMatches"] = false;
      findings[{c.database, c.name}] = std::move(f);
      continue;
    }
    const std::string sum = it->second.value("checksum", "");
    const uint64_t rows = it->second.value("rows", uint64_t{0});
    f["checksumAfter"] = sum;
    f["contentMatches"] = sum == c.checksum;
    if (sum != c.checksum) {
      content_bad.push_back(rows != c.rows ? fmt::format("{} has {} rows, had {}", full, rows, c.rows)
                                           : fmt::format("{}: same {} rows, other content (checksum {} was {})", full,
                                                         rows, sum, c.checksum));
    }
    size_t same = 0;
    for (size_t i = 0; i < c.samples.size(); ++i) {
      ++searches;
      auto s = RunSearch(url, c, c.samples[i].vector, token);
      if (!s.ok()) {
        search_bad.push_back(fmt::format("{} sample {}: {}", full, i, s.status().message()));
      } else if (!SameHits(c.samples[i], *s)) {
        search_bad.push_back(fmt::format("{} sample {}: found {}, before {}", full, i, IdList(s->ids),
                                         IdList(c.samples[i].ids)));
      } else {
        ++same;
      }
    }
    f["sampleSearches"] = c.samples.size();
    f["sampleSearchesSame"] = same;
    if (!c.skipped.empty()) f["sampleSearchesSkipped"] = c.skipped;
    findings[{c.database, c.name}] = std::move(f);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size() && i < 5; ++i) out += (i ? "; " : "") + v[i];
    if (v.size() > 5) out += fmt::format("; and {} more", v.size() - 5);
    return out;
  };
  report->Check("content", content_bad.empty(),
                content_bad.empty()
                    ? fmt::format("{} collection(s) on {} hold the same rows as before (equal content checksums)",
                                  before.collections.size(), url)
                    : fmt::format("content differs from before: {} (was anything else writing during the drill?)",
                                  join(content_bad)));
  report->Check("searches", search_bad.empty(),
                search_bad.empty() ? fmt::format("{} sample search(es) found the same neighbours as before", searches)
                                   : fmt::format("sample searches differ from before: {}", join(search_bad)));
  return findings;
}

}  // namespace ark::dr
