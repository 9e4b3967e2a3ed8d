// The drill probe (docs/drills.md, "The probe"): while a disruptive drill
// runs, a writer inserts sequence-numbered marker rows at a steady rate into
// a probe collection and records every acknowledgement (which endpoint, at
// what time), and a searcher keeps searching for the newest acknowledged
// marker by its vector. Afterwards the markers still present on the
// recovered primary say exactly which acknowledged writes were lost (the
// RPO, as a count and as the span of time they cover), and the first write
// and the first correct search after the disaster give the RTO.
//
// The writer follows the primary as a client that knows every endpoint
// would: it sticks to the endpoint that last accepted a write and, on a
// refusal or an unreachable server, tries the next one.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dr/drill/drill_report.h"
#include "storage/env.h"

namespace ark::dr {

inline constexpr const char* kProbeCollection = "ark_drill_probe";
inline constexpr uint32_t kProbeDim = 4;

struct ProbeOptions {
  std::vector<std::string> endpoints;  // base URLs of every server a client may write to
  std::string token;                   // Milvus API credential (Bearer), if any
  std::string database = "default";
  uint32_t interval_ms = 20;           // one marker per interval (50 per second)
  uint32_t search_interval_ms = 100;
  uint32_t timeout_ms = 2000;          // per request
};

struct ProbeAck {
  uint64_t id = 0;
  uint64_t at_micros = 0;  // wall clock when the acknowledgement arrived
  std::string endpoint;
};

class Probe {
 public:
  Probe(Env* env, ProbeOptions options);
  ~Probe();  // stops

  // The marker vector of `id`: distinct per id, so a search by it finds it.
  static std::vector<float> MarkerVector(uint64_t id);

  // Drops and creates the probe collection on `primary` (quick create: an
  // index, loaded). Markers continue from `first_id`.
  Status Prepare(const std::string& primary, uint64_t first_id = 1);
  void Start();
  // A server the client may also write to from now on (a recovered instance).
  void AddEndpoint(const std::string& url);
  // Stops writing (the searcher goes on) / writes again.
  void Pause();
  void Resume();
  void Stop();

  // From `disaster_micros` (wall clock) on, the first acknowledgement and
  // the first correct search by a server other than `failed` (the primary
  // the disaster strikes) are recorded: the service is back when another
  // server answers.
  void MarkDisaster(uint64_t disaster_micros, const std::string& failed);
  std::optional<uint64_t> FirstWriteAfterDisasterMicros() const;
  std::optional<uint64_t> FirstSearchAfterDisasterMicros() const;
  std::string FirstWriteEndpoint() const;

  std::vector<ProbeAck> Acks() const;
  uint64_t AckCount() const;
  uint64_t Refusals() const;  // failed attempts (any endpoint)

  // The marker ids present on `endpoint` now.
  Result<std::vector<uint64_t>> PresentIds(const std::string& endpoint) const;

 private:
  void WriteLoop();
  void SearchLoop();
  // Milvus route on an endpoint; the envelope's data.
  Result<nlohmann::json> Call(const std::string& endpoint, const std::string& route, const nlohmann::json& body,
                              uint32_t timeout_ms) const;

  Env* env_;
  ProbeOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  std::thread writer_, searcher_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;                     // GUARDED_BY(mu_)
  size_t current_ = 0;                       // GUARDED_BY(mu_): index into endpoints
  std::vector<ProbeAck> acks_;               // GUARDED_BY(mu_)
  uint64_t refusals_ = 0;                    // GUARDED_BY(mu_)
  uint64_t disaster_micros_ = 0;             // GUARDED_BY(mu_): 0 = none yet
  std::string failed_;                       // GUARDED_BY(mu_)
  std::optional<uint64_t> first_write_after_, first_search_after_;  // GUARDED_BY(mu_)
  std::string first_write_endpoint_;         // GUARDED_BY(mu_)
};

// What the probe says after a recovery, as the drill report records it.
struct ProbeOutcome {
  std::vector<ProbeAck> acks;   // every acknowledgement, in order
  std::set<uint64_t> present;   // marker ids on the recovered primary
  std::vector<ProbeAck> lost;   // acknowledged, not present
  uint64_t rto_ms = 0;          // disaster -> the later of first write and first correct search
  uint64_t rpo_ms = 0;          // the span of lost acknowledgements (>= 1 ms when any is lost)
};

// Reads the markers on `recovered` (the probe stopped) and records the
// figures in `report`: rtoWriteMs, rtoSearchMs, rtoMs, rpoMs, lostMarkers
// and the probe block. `first_write`/`first_search` are the probe's
// wall-clock instants after `disaster`.
Result<ProbeOutcome> RecordProbeOutcome(const Probe& probe, const std::string& recovered, uint64_t disaster,
                                        uint64_t first_write, uint64_t first_search, DrillReport* report);

}  // namespace ark::dr
