// The judging half of `ark dr check` (docs/drills.md), shared by the CLI and
// the check `ark serve` runs by itself (drills.check_interval_seconds): the
// facts of a DR status document (docs/formats/dr-status.md) and of a
// monitor's status, and the findings of every database's tier against them
// (the rules of dr/drill/tiers.h). Pure: no network, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dr/drill/tiers.h"

namespace ark::dr {

// Typed reads of a JSON document that never throw (null and wrong types
// read as absent).
namespace drjson {
const nlohmann::json* Find(const nlohmann::json& j, const char* key);
std::string Str(const nlohmann::json& j, const char* key, std::string fallback = "");
bool Bool(const nlohmann::json& j, const char* key, bool fallback);
// A non-negative number (integer or not), times `scale`, rounded up.
std::optional<uint64_t> Count(const nlohmann::json& j, const char* key, double scale = 1);
const nlohmann::json& Array(const nlohmann::json& j, const char* key);
}  // namespace drjson

// Everything the document says (schedules, archive, replication, the lease
// ttl, recent drills, its clock); the monitor's part is FailoverFactFromMonitor.
// Drill reports that cannot count are named in `notes`.
DrFacts FactsFromStatus(const nlohmann::json& status, std::vector<std::string>* notes = nullptr);

// The monitor's settings from its monitor/status document, after checking
// it watches this server (`monitor` names it in errors).
Result<FailoverFact> FailoverFactFromMonitor(const nlohmann::json& monitor_status, const nlohmann::json& status,
                                             const std::string& monitor);

// Every database of status.tiers judged against `facts`.
std::vector<Finding> JudgeStatus(const nlohmann::json& status, const DrFacts& facts);

}  // namespace ark::dr
