// Small JSON-over-HTTP calls between Ark processes for failover: a server
// renewing its lease at `ark monitor`, the monitor asking servers for their
// state and promoting one. Milvus-style envelopes ({"code", "message",
// "data"}) are unwrapped; every failure names the URL it was talking to.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace ark::dr {

struct HttpCallOptions {
  std::string token;       // Authorization: Bearer (empty: none)
  std::string ca_file;     // https: PEM bundle to verify the peer (empty: system's)
  uint32_t timeout_ms = 2000;
};

// Checks "http://host:port" / "https://host:port" (no path); names the flaw.
Status ValidateBaseUrl(const std::string& url, const std::string& what);

// POST base + path with a JSON body; the envelope's `data`, or its error
// (Unavailable when unreachable or without an envelope; FailedPrecondition
// carrying the peer's message otherwise).
Result<nlohmann::json> PostJson(const std::string& base, const std::string& path, const nlohmann::json& body,
                                const HttpCallOptions& options);

// GET base + path: the HTTP status and the parsed body (null if not JSON);
// Unavailable when the peer cannot be reached within the timeout.
struct ProbeResult {
  int status = 0;
  nlohmann::json body;
};
Result<ProbeResult> GetProbe(const std::string& base, const std::string& path, const HttpCallOptions& options);

}  // namespace ark::dr
