// What the drills ask a server over its public APIs, shared by the
// scenarios: Milvus routes as a client sees them, the tier targets of its
// databases, and the per-collection verdicts of a drill's measured RTO/RPO.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dr/drill/drill_report.h"
#include "dr/drill/tiers.h"
#include "storage/env.h"

namespace ark::dr {

// POST url/v2/vectordb/<route>: the envelope's data (60 s: a first search
// may load an index).
Result<nlohmann::json> MilvusApi(const std::string& url, const std::string& route, const nlohmann::json& body,
                                 const std::string& token = "");
// POST url/ark/v1/<route> with the admin credential.
Result<nlohmann::json> AdminApi(const std::string& url, const std::string& route, const nlohmann::json& body,
                                const std::string& token = "", uint32_t timeout_ms = 10000);

// The parsed ark.dr.* targets of each database; a database whose
// properties cannot be read or parsed is a failed check in `report`.
std::map<std::string, DrTargets> ReadTargets(const std::string& url, const std::set<std::string>& databases,
                                             DrillReport* report, const std::string& token = "");

// One collection's targets: its own ark.dr.* properties (collections/
// describe) over its database's `database` targets (MergeTargets). A
// describe or parse failure is a failed "tiers" check in `report`, and the
// database's targets apply.
DrTargets CollectionTargets(const std::string& url, const std::string& database_name, const std::string& name,
                            const DrTargets& database, DrillReport* report, const std::string& token = "");

// Every collection of every database on `url` (except the probe's) goes
// into the report with its row count, its database's targets and the
// verdict of the measured figures (nullopt: not measured). `extra`, keyed
// by (database, name), is merged into each collection's entry (the data
// verification's findings, data_check.h).
Status JudgeCollections(const std::string& url, std::optional<uint64_t> rto_ms, std::optional<uint64_t> rpo_ms,
                        DrillReport* report, const std::string& token = "",
                        const std::map<std::pair<std::string, std::string>, nlohmann::json>* extra = nullptr);

// Polls `done` every 20 ms until it holds or timeout_ms passes (a drill
// watches other processes: there is nothing to wait on but their answers).
bool WaitFor(Env* env, uint64_t timeout_ms, const std::function<bool()>& done);

// The one endpoint that is a primary holding its lease (or has none);
// FailedPrecondition listing every endpoint's role otherwise.
Result<std::string> FindPrimary(const std::vector<std::string>& endpoints, const std::string& admin_token);

// Runs `command` with /bin/sh -c, $ARK_DRILL_PRIMARY set to `primary`; its
// output goes to stderr (stdout may carry the report's JSON). It must exit 0
// within timeout_ms.
Status RunShell(Env* env, const std::string& command, const std::string& primary, uint64_t timeout_ms);

}  // namespace ark::dr
