#include "dr/drill/probe.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "dr/failover/http_json.h"

namespace ark::dr {

Probe::Probe(Env* env, ProbeOptions options) : env_(env), options_(std::move(options)) {}

Probe::~Probe() { Stop(); }

std::vector<float> Probe::MarkerVector(uint64_t id) {
  const double x = static_cast<double>(id);
  return {static_cast<float>(x * 0.001), static_cast<float>(std::sin(x)), static_cast<float>(std::cos(x)), 1.0f};
}

Result<nlohmann::json> Probe::Call(const std::string& endpoint, const std::string& route, const nlohmann::json& body,
                                   uint32_t timeout_ms) const {
  HttpCallOptions o;
  o.token = options_.token;
  o.timeout_ms = timeout_ms;
  nlohmann::json b = body;
  b["dbName"] = options_.database;
  return PostJson(endpoint, "/v2/vectordb/" + route, b, o);
}

Status Probe::Prepare(const std::string& primary, uint64_t first_id) {
  if (options_.endpoints.empty()) return Status::InvalidArgument("the probe needs at least one endpoint");
  (void)Call(primary, "collections/drop", {{"collectionName", kProbeCollection}}, 30000);  // absent is fine
  auto created = Call(primary, "collections/create",
                      {{"collectionName", kProbeCollection}, {"dimension", kProbeDim}, {"metricType", "L2"}}, 30000);
  if (!created.ok()) {
    return Status::FailedPrecondition(
        fmt::format("cannot create the probe collection {} on {}: {}", kProbeCollection, primary, created.status().message()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  next_id_ = first_id;
  for (size_t i = 0; i < options_.endpoints.size(); ++i) {
    if (options_.endpoints[i] == primary) current_ = i;
  }
  return Status::OK();
}

void Probe::Start() {
  stop_ = false;
  writer_ = std::thread([this] { WriteLoop(); });
  searcher_ = std::thread([this] { SearchLoop(); });
}

void Probe::AddEndpoint(const std::string& url) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.endpoints.push_back(url);
}

void Probe::Pause() { paused_ = true; }
void Probe::Resume() { paused_ = false; }

void Probe::Stop() {
  stop_ = true;
  if (writer_.joinable()) writer_.join();
  if (searcher_.joinable()) searcher_.join();
}

void Probe::MarkDisaster(uint64_t disaster_micros, const std::string& failed) {
  std::lock_guard<std::mutex> lock(mu_);
  disaster_micros_ = disaster_micros;
  failed_ = failed;
  first_write_after_.reset();
  first_search_after_.reset();
}

void Probe::WriteLoop() {
  // A steady rate: each marker is due one interval after the previous was
  // due (a slow answer is not made up for with a burst).
  while (!stop_) {
    const uint64_t started = env_->NowMicros();
    if (!paused_) {
      uint64_t id;
      std::string endpoint;
      {
        std::lock_guard<std::mutex> lock(mu_);
        id = next_id_;
        endpoint = options_.endpoints[current_];
      }
      const std::vector<float> v = MarkerVector(id);
      auto r = Call(endpoint, "entities/upsert",
                    {{"collectionName", kProbeCollection}, {"data", {{{"id", id}, {"vector", v}}}}}, options_.timeout_ms);
      const uint64_t now = env_->WallMicros();
      std::lock_guard<std::mutex> lock(mu_);
      if (r.ok()) {
        acks_.push_back({id, now, endpoint});
        ++next_id_;
        if (disaster_micros_ != 0 && now >= disaster_micros_ && endpoint != failed_ && !first_write_after_) {
          first_write_after_ = now;
          first_write_endpoint_ = endpoint;
        }
      } else {
        ++refusals_;
        current_ = (current_ + 1) % options_.endpoints.size();  // a client that knows every server tries the next
      }
    }
    const uint64_t spent_ms = (env_->NowMicros() - started) / 1000;
    if (spent_ms < options_.interval_ms) {
      // The probe's write rate, not a synchronisation.
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.interval_ms - spent_ms));
    }
  }
}

void Probe::SearchLoop() {
  while (!stop_) {
    std::optional<ProbeAck> newest;
    std::string endpoint;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!acks_.empty()) newest = acks_.back();
      endpoint = options_.endpoints[current_];
    }
    if (newest) {
      const uint64_t asked = env_->WallMicros();
      auto r = Call(endpoint, "entities/search",
                    {{"collectionName", kProbeCollection}, {"data", {MarkerVector(newest->id)}}, {"annsField", "vector"},
                     {"limit", 1}, {"outputFields", {"id"}}},
                    options_.timeout_ms);
      bool found = false;
      if (r.ok() && r->is_array() && !r->empty() && (*r)[0].is_object() && (*r)[0].contains("id")) {
        const auto& got = (*r)[0]["id"];
        found = (got.is_number_unsigned() && got.get<uint64_t>() == newest->id) ||
                (got.is_number_integer() && got.get<int64_t>() == static_cast<int64_t>(newest->id)) ||
                (got.is_string() && got.get<std::string>() == std::to_string(newest->id));
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (found && disaster_micros_ != 0 && asked >= disaster_micros_ && endpoint != failed_ && !first_search_after_) {
        first_search_after_ = env_->WallMicros();
      }
    }
    // The probe's search rate, not a synchronisation.
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.search_interval_ms));
  }
}

std::optional<uint64_t> Probe::FirstWriteAfterDisasterMicros() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_write_after_;
}
std::optional<uint64_t> Probe::FirstSearchAfterDisasterMicros() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_search_after_;
}
std::string Probe::FirstWriteEndpoint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_write_endpoint_;
}
std::vector<ProbeAck> Probe::Acks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acks_;
}
uint64_t Probe::AckCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acks_.size();
}
uint64_t Probe::Refusals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refusals_;
}

Result<std::vector<uint64_t>> Probe::PresentIds(const std::string& endpoint) const {
  uint64_t max_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    max_id = next_id_;  // every marker ever sent is below it
  }
  std::vector<uint64_t> ids;
  // In windows of ids smaller than the query limit, so every marker is read.
  constexpr uint64_t kWindow = 10000;
  for (uint64_t lo = 0; lo < max_id; lo += kWindow) {
    auto r = Call(endpoint, "entities/query",
                  {{"collectionName", kProbeCollection}, {"filter", fmt::format("id > {} and id <= {}", lo, lo + kWindow)},
                   {"outputFields", {"id"}}, {"limit", 16384}},
                  30000);
    if (!r.ok()) return r.status().WithContext(fmt::format("reading the probe's markers on {}", endpoint));
    if (!r->is_array()) return Status::Corruption(fmt::format("{}: the probe query answered {}", endpoint, r->dump().substr(0, 200)));
    for (const auto& row : *r) {
      if (row.is_object() && row.contains("id") && row["id"].is_number_integer()) ids.push_back(row["id"].get<uint64_t>());
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<ProbeOutcome> RecordProbeOutcome(const Probe& probe, const std::string& recovered, uint64_t disaster,
                                        uint64_t first_write, uint64_t first_search, DrillReport* report) {
  ProbeOutcome out;
  ARK_ASSIGN_OR_RETURN(std::vector<uint64_t> present, probe.PresentIds(recovered));
  out.present.insert(present.begin(), present.end());
  out.acks = probe.Acks();
  for (const auto& a : out.acks) {
    if (!out.present.count(a.id)) out.lost.push_back(a);
  }
  // RPO as time: the span of acknowledged writes lost, from the last
  // acknowledgement kept before the first lost one to the last lost one
  // (so one lost write is one write interval, never 0).
  if (!out.lost.empty()) {
    uint64_t kept_before = report->started_micros();
    for (const auto& a : out.acks) {
      if (a.id >= out.lost.front().id) break;
      if (out.present.count(a.id)) kept_before = a.at_micros;
    }
    const uint64_t last_lost = out.lost.back().at_micros;
    out.rpo_ms = std::max<uint64_t>(1, last_lost > kept_before ? (last_lost - kept_before) / 1000 : 0);
  }
  const uint64_t rto_write = (first_write - disaster) / 1000;
  const uint64_t rto_search = (first_search - disaster) / 1000;
  out.rto_ms = std::max(rto_write, rto_search);
  report->Measure("rtoWriteMs", rto_write);
  report->Measure("rtoSearchMs", rto_search);
  report->Measure("rtoMs", out.rto_ms);
  report->Measure("rpoMs", out.rpo_ms);
  report->Measure("lostMarkers", out.lost.size());
  nlohmann::json lost_ids = nlohmann::json::array();
  for (size_t i = 0; i < out.lost.size() && i < 1000; ++i) lost_ids.push_back(out.lost[i].id);
  report->SetProbe({{"collection", std::string("default.") + kProbeCollection},
                    {"acknowledged", out.acks.size()},
                    {"refusals", probe.Refusals()},
                    {"lostIds", lost_ids},
                    {"newPrimary", recovered}});
  return out;
}

}  // namespace ark::dr
