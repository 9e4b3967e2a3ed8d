// MonitorWitness: the Witness kept by `ark monitor`, reached over HTTP
// (POST /ark/v1/witness/{claim,leader,release}; docs/formats/monitor-witness.md).
// The monitor answers from its LocalWitness; the JSON codecs below are shared
// by both ends.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "dr/failover/http_json.h"
#include "dr/failover/witness.h"

namespace ark::dr {

// base: "http://HOST:PORT" of the monitor.
Result<std::unique_ptr<Witness>> OpenMonitorWitness(const std::string& base, HttpCallOptions options);

nlohmann::json LeaderRecordToJson(const LeaderRecord& r);
Result<LeaderRecord> LeaderRecordFromJson(const nlohmann::json& j);
nlohmann::json ClaimAnswerToJson(const ClaimAnswer& a);
Result<ClaimAnswer> ClaimAnswerFromJson(const nlohmann::json& j);
nlohmann::json LeaderClaimToJson(const LeaderClaim& c);
// Validates types and values (ValidateLeaderClaim); names the bad field.
Result<LeaderClaim> LeaderClaimFromJson(const nlohmann::json& j);

}  // namespace ark::dr
