#include "server/admin_failover.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "dr/failover/http_json.h"
#include "server/milvus_request.h"

namespace ark::server {

namespace {

struct HandoverState {
  std::mutex mu;
  bool active = false;  // writes blocked and the lease given up for a switchover
  std::string standby;
};

Result<nlohmann::json> FindStandby(dr::ReplicationSource* source, const std::string& name) {
  nlohmann::json status = source->GetStatus();
  for (const auto& s : status["standbys"]) {
    if (s.value("name", "") == name) return s;
  }
  return Status::InvalidArgument(fmt::format("failover/handover: no standby named '{}' streams from this server", name));
}

}  // namespace

void RegisterFailoverRoutes(HttpServer& http, Database* db, dr::ReplicationSource* source, dr::LeaseKeeper* lease,
                            std::function<void(const std::string&)> restart_as_standby) {
  auto state = std::make_shared<HandoverState>();
  http.RegisterAdmin("failover/handover", [db, source, lease, state](RequestContext& ctx) -> Result<nlohmann::json> {
    const auto& b = ctx.body;
    if (!b.contains("standby") || b["standby"].is_null()) ThrowMissing("standby");
    if (!b["standby"].is_string()) {
      return Status::InvalidArgument("failover/handover: 'standby' must be a string (the standby's name)");
    }
    double max_lag = 30;
    if (b.contains("maxLagSeconds")) {
      if (!b["maxLagSeconds"].is_number() || !(b["maxLagSeconds"].get<double>() >= 0)) {
        return Status::InvalidArgument("failover/handover: 'maxLagSeconds' must be a number >= 0");
      }
      max_lag = b["maxLagSeconds"].get<double>();
    }
    uint64_t timeout_ms = 10000;
    if (b.contains("timeoutMs")) {
      if (!b["timeoutMs"].is_number_unsigned() || b["timeoutMs"].get<uint64_t>() == 0 ||
          b["timeoutMs"].get<uint64_t>() > 600000) {
        return Status::InvalidArgument("failover/handover: 'timeoutMs' must be 1..600000");
      }
      timeout_ms = b["timeoutMs"].get<uint64_t>();
    }
    const std::string name = b["standby"].get<std::string>();
    if (db->IsFollower()) return Status::InvalidArgument("failover/handover: this server is a standby, not the primary");
    if (lease == nullptr) {
      return Status::InvalidArgument(
          "failover/handover: this server has no failover witness (failover.witness): without a lease nothing "
          "stops it from taking writes after the standby is promoted");
    }
    ARK_RETURN_IF_ERROR(lease->CheckWritable().WithContext("failover/handover"));
    ARK_ASSIGN_OR_RETURN(nlohmann::json st, FindStandby(source, name));
    if (!st.value("connected", false)) {
      return Status::InvalidArgument(fmt::format("failover/handover: standby '{}' is not connected", name));
    }
    if (st.value("lagSeconds", 0.0) > max_lag) {
      return Status::InvalidArgument(fmt::format(
          "failover/handover: standby '{}' is {:.1f} s behind, more than maxLagSeconds {} — wait for it to catch up",
          name, st.value("lagSeconds", 0.0), max_lag));
    }
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->active) return Status::InvalidArgument("failover/handover: a switchover is already in progress");
      state->active = true;
      state->standby = name;
    }
    const auto started = std::chrono::steady_clock::now();
    db->SetWritesBlocked(fmt::format("switchover to standby '{}' in progress: retry on the new primary", name));
    const Position last = db->wal()->LastPosition();
    auto abort = [&](const Status& why) -> Status {
      db->SetWritesBlocked("");
      std::lock_guard<std::mutex> lock(state->mu);
      state->active = false;
      return why;
    };
    // Wait until the standby has every record durably (it acknowledges by feedback).
    while (true) {
      auto s = FindStandby(source, name);
      if (!s.ok()) return abort(s.status());
      auto durable = Position::Parse(s->value("durable", ""));
      if (durable.ok() && durable->lsn >= last.lsn) break;
      if (std::chrono::steady_clock::now() - started > std::chrono::milliseconds(timeout_ms)) {
        return abort(Status::InvalidArgument(fmt::format(
            "failover/handover: standby '{}' did not reach {} within {} ms (it has {}); writes resumed", name,
            last.ToString(), timeout_ms, s->value("durable", "?"))));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // feedback arrives on its own thread
    }
    Status released = lease->Relinquish(fmt::format("switchover to '{}'", name));
    if (!released.ok()) {
      (void)lease->Reclaim();
      return abort(released.WithContext("failover/handover: giving the lease up"));
    }
    const double waited = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    spdlog::warn("switchover: writes paused, standby '{}' has everything up to {} ({:.0f} ms); lease given up", name,
                 last.ToString(), waited);
    return nlohmann::json{{"position", last.ToString()}, {"waitedMs", waited}, {"epoch", db->CurrentEpoch()}};
  });
  http.RegisterAdmin("failover/handover/abort", [db, lease, state](RequestContext&) -> Result<nlohmann::json> {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->active) return Status::InvalidArgument("failover/handover/abort: no switchover in progress");
    }
    if (lease) ARK_RETURN_IF_ERROR(lease->Reclaim().WithContext("failover/handover/abort: reclaiming the lease"));
    db->SetWritesBlocked("");
    std::lock_guard<std::mutex> lock(state->mu);
    state->active = false;
    spdlog::warn("switchover aborted: this server takes writes again");
    return nlohmann::json::object();
  });
  http.RegisterAdmin("failover/handover/finish",
                     [state, restart_as_standby](RequestContext& ctx) -> Result<nlohmann::json> {
    const auto& b = ctx.body;
    if (!b.contains("primary") || b["primary"].is_null()) ThrowMissing("primary");
    if (!b["primary"].is_string()) {
      return Status::InvalidArgument("failover/handover/finish: 'primary' must be a string (the new primary's URL)");
    }
    const std::string primary = b["primary"].get<std::string>();
    ARK_RETURN_IF_ERROR(dr::ValidateBaseUrl(primary, "failover/handover/finish: primary"));
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->active) return Status::InvalidArgument("failover/handover/finish: no switchover in progress");
    }
    restart_as_standby(primary);
    return nlohmann::json{{"restartingAsStandbyOf", primary}};
  });
}

}  // namespace ark::server
