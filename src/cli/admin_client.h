// Talking to a running server's admin API (/ark/v1/) from the CLI: start a
// job, show its progress while polling it, and return its outcome.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace ark::cli {

// POSTs `body` to <server>/ark/v1/<route>; the reply's `data`, or the error
// it carries (its Milvus code and message). Token: `token`, else $ARK_ADMIN_TOKEN.
Result<nlohmann::json> CallAdmin(const std::string& server, const std::string& token, const std::string& route,
                                 const nlohmann::json& body);

// Starts a job through `route` (whose answer holds "jobId"), polls
// jobs/get until it finishes, showing progress unless quiet, and returns the
// final job JSON — or the job's error as a Status.
Result<nlohmann::json> RunAdminJob(const std::string& server, const std::string& token, const std::string& route,
                                   const nlohmann::json& body, bool quiet);

}  // namespace ark::cli
