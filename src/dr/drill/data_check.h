// Data verification across a drill (docs/drills.md#data-verification): what
// every collection held before the disaster, compared with what the
// recovered server holds afterwards.
//
// A fingerprint holds, per collection, its rows and content checksum
// (collections/checksum, docs/formats/content-checksum.md) and a few sample
// searches: the vectors of its first rows, searched on the source, with the
// ids and distances found. Comparing re-reads the checksums and re-runs the
// same searches on the other server: equal checksums mean the same rows,
// byte for byte; equal searches mean the indexes answer as before.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dr/drill/drill_report.h"

namespace ark::dr {

struct SampleSearch {
  nlohmann::json vector;           // the query vector (a stored row's own)
  std::vector<std::string> ids;    // hits in rank order (ids as JSON text)
  std::vector<double> distances;
};

struct CollectionFingerprint {
  std::string database;
  std::string name;
  uint64_t rows = 0;
  uint64_t lsn = 0;
  std::string checksum;
  std::string vector_field;  // "" when the collection has none (no samples)
  std::string skipped;       // why there are no samples (e.g. released), "" otherwise
  std::vector<SampleSearch> samples;
};

struct DataFingerprint {
  std::vector<CollectionFingerprint> collections;
};

// The fingerprint of every collection on `url` except those named in
// `skip` (the probe's). `samples` sample searches per collection, each
// asking for the 10 nearest.
Result<DataFingerprint> TakeFingerprint(const std::string& url, const std::string& token,
                                        const std::string& admin_token, const std::set<std::string>& skip,
                                        size_t samples = 3);

// Per collection, what CompareFingerprint found (merged into the report's
// collection entries): checksumBefore/After, contentMatches, samples matched.
using CollectionFindings = std::map<std::pair<std::string, std::string>, nlohmann::json>;

// Reads `url`'s checksums and re-runs `before`'s searches there; adds the
// checks "content" (every collection present with the same rows and
// checksum) and "searches" (every sample search finds the same ids; ties —
// equal distances within 1e-5 — may swap places) to `report`.
CollectionFindings CompareFingerprint(const std::string& url, const DataFingerprint& before, const std::string& token,
                                      const std::string& admin_token, DrillReport* report);

}  // namespace ark::dr
