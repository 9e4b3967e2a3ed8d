#include "server/admin_replication.h"

#include <httplib.h>

#include <cstdlib>

#include <fmt/format.h>

#include "core/hash.h"
#include "dr/replication/stream_format.h"
#include "engine/dr_seam.h"

namespace ark::server {
namespace {

constexpr char kFilesRoute[] = "/ark/v1/replication/files/";

// A required member that is absent or null: code 1802, as on every route.
[[noreturn]] void Missing(const char* key) {
  throw HandlerError{{MilvusCode::kMissingParameter,
                      fmt::format("missing required parameters, error: {} is required", key), 200}};
}

// Every request names the protocol version and the standby.
Result<std::string> CheckRequest(const nlohmann::json& body) {
  if (!body.contains("version") || body["version"].is_null()) Missing("version");
  if (!body.contains("standby") || body["standby"].is_null()) Missing("standby");
  if (!body["version"].is_number_unsigned()) {
    return Status::InvalidArgument("replication request: 'version' must be the protocol version (1)");
  }
  if (body["version"].get<uint64_t>() != dr::kReplicationProtocolVersion) {
    return Status::InvalidArgument(fmt::format("replication protocol version {} is not supported (this server speaks {})",
                                               body["version"].get<uint64_t>(), dr::kReplicationProtocolVersion));
  }
  if (!body["standby"].is_string()) {
    return Status::InvalidArgument("replication request: 'standby' must be the standby's name (a string)");
  }
  std::string name = body["standby"].get<std::string>();
  ARK_RETURN_IF_ERROR(dr::ValidateStandbyName(name));
  return name;
}

Result<Position> PositionField(const nlohmann::json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) Missing(key);
  if (!body[key].is_string()) {
    return Status::InvalidArgument(fmt::format("replication request: '{}' (a position \"EPOCH/LSN\") is required", key));
  }
  return Position::Parse(body[key].get<std::string>());
}

Result<std::vector<EpochStart>> EpochsField(const nlohmann::json& body) {
  std::vector<EpochStart> out;
  if (!body.contains("epochs") || body["epochs"].is_null()) Missing("epochs");
  if (!body["epochs"].is_array()) {
    return Status::InvalidArgument("replication request: 'epochs' (the standby's epoch history) is required");
  }
  for (const auto& e : body["epochs"]) {
    if (!e.is_object() || !e.contains("epoch") || !e["epoch"].is_number_unsigned() || !e.contains("start") ||
        !e["start"].is_string()) {
      return Status::InvalidArgument("replication request: each of 'epochs' needs 'epoch' and 'start'");
    }
    ARK_ASSIGN_OR_RETURN(Position start, Position::Parse(e["start"].get<std::string>()));
    out.push_back({e["epoch"].get<uint64_t>(), start});
  }
  return out;
}

RawReply Error(int http_status, const Status& status, const std::string& action = "") {
  RawReply r;
  ApiError e = ApiErrorFromStatus(status);
  e.http_status = http_status;
  r.error = e;
  if (!action.empty()) r.error_data = {{"action", action}};
  return r;
}

}  // namespace

nlohmann::json ReplicationStatusJson(Database* db, dr::ReplicationSource* source, dr::Standby* standby,
                                     dr::LeaseKeeper* lease) {
  nlohmann::json j = source->GetStatus();
  j["role"] = db->IsFollower() ? "standby" : "primary";
  if (standby) {
    nlohmann::json own = standby->GetStatus();  // named: items() of a temporary dangles
    for (auto& [k, v] : own.items()) j[k] = v;
  }
  j["lastPosition"] = db->wal()->LastPosition().ToString();
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : db->EpochHistory()) history.push_back({{"epoch", e.epoch}, {"start", e.first.ToString()}});
  j["epochs"] = history;
  if (lease) j["lease"] = lease->StatusJson();
  return j;
}

void RegisterReplicationRoutes(HttpServer& http, Database* db, dr::ReplicationSource* source, dr::Standby* standby,
                               dr::LeaseKeeper* lease) {
  http.RegisterReplication("replication/bootstrap", [source](RequestContext& ctx) -> Result<nlohmann::json> {
    ARK_ASSIGN_OR_RETURN(std::string name, CheckRequest(ctx.body));
    return source->Bootstrap(name);
  });
  http.RegisterReplication("replication/bootstrap/finish", [source](RequestContext& ctx) -> Result<nlohmann::json> {
    ARK_ASSIGN_OR_RETURN(std::string name, CheckRequest(ctx.body));
    ARK_RETURN_IF_ERROR(source->FinishBootstrap(name));
    return nlohmann::json::object();
  });
  http.RegisterReplication("replication/feedback", [source](RequestContext& ctx) -> Result<nlohmann::json> {
    ARK_ASSIGN_OR_RETURN(std::string name, CheckRequest(ctx.body));
    ARK_ASSIGN_OR_RETURN(Position written, PositionField(ctx.body, "written"));
    ARK_ASSIGN_OR_RETURN(Position durable, PositionField(ctx.body, "durable"));
    ARK_ASSIGN_OR_RETURN(Position applied, PositionField(ctx.body, "applied"));
    return source->Feedback(name, written, durable, applied);
  });
  http.RegisterRaw("replication/stream", /*get=*/false, [source](const RawRequest& req) -> RawReply {
    auto name = CheckRequest(req.body);
    if (!name.ok()) return Error(400, name.status());
    auto after = PositionField(req.body, "after");
    if (!after.ok()) return Error(400, after.status());
    auto epochs = EpochsField(req.body);
    if (!epochs.ok()) return Error(400, epochs.status());
    dr::StreamRefusal refusal;
    std::shared_ptr<dr::StreamSession> session = source->OpenStream(*name, *after, *epochs, &refusal);
    if (!session) return Error(refusal.http_status, refusal.status, refusal.action);
    RawReply r;
    r.content_type = dr::kStreamContentType;
    r.producer = [session](const std::function<bool(std::string_view)>& write) { session->Run(write); };
    return r;
  });
  http.RegisterRaw("replication/files/", /*get=*/true, [db](const RawRequest& req) -> RawReply {
    const std::string hex = req.path.substr(sizeof(kFilesRoute) - 1);
    if (!IsSha256Hex(hex)) {
      return Error(400, Status::InvalidArgument(fmt::format("'{}' is not a file name (64 lowercase hex digits)", hex)));
    }
    DrSeam seam(db);
    auto file = seam.OpenFile(hex);
    if (!file.ok()) return Error(404, file.status());
    auto size = (*file)->Size();
    if (!size.ok()) return Error(500, size.status());
    std::shared_ptr<RandomAccessFile> f = std::move(*file);
    RawReply r;
    r.producer = [f, total = *size](const std::function<bool(std::string_view)>& write) {
      std::vector<char> scratch(1u << 20);
      for (uint64_t off = 0; off < total;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(scratch.size(), total - off));
        std::string_view got;
        if (!f->Read(off, n, &got, scratch.data()).ok() || got.size() != n) return;  // the short body fails the hash
        if (!write(got)) return;
        off += n;
      }
    };
    return r;
  });
  http.RegisterAdmin("replication/status", [db, source, standby, lease](RequestContext&) -> Result<nlohmann::json> {
    return ReplicationStatusJson(db, source, standby, lease);
  });
  // Manual failover (docs/failover.md): a standby becomes a primary.
  http.RegisterAdmin("failover/promote", [db, standby, lease](RequestContext& ctx) -> Result<nlohmann::json> {
    const nlohmann::json& body = ctx.body;
    bool force = false;
    uint64_t epoch = 0;
    if (body.contains("force") && !body["force"].is_null()) {
      if (!body["force"].is_boolean()) return Status::InvalidArgument("failover/promote: 'force' must be true or false");
      force = body["force"].get<bool>();
    }
    if (body.contains("epoch") && !body["epoch"].is_null()) {
      if (!body["epoch"].is_number_unsigned() || body["epoch"].get<uint64_t>() == 0 ||
          body["epoch"].get<uint64_t>() >= (uint64_t{1} << 63)) {
        return Status::InvalidArgument(
            "failover/promote: 'epoch' must be a positive integer (below 2^63) above the current epoch");
      }
      epoch = body["epoch"].get<uint64_t>();
    }
    if (standby == nullptr || !db->IsFollower()) {
      return Status::InvalidArgument(fmt::format(
          "this server is a primary (epoch {}): only a standby can be promoted", db->CurrentEpoch()));
    }
    std::function<Status(uint64_t)> claim;
    if (lease) claim = [lease](uint64_t e) { return lease->ClaimForPromotion(e); };
    auto report = standby->Promote(force, epoch, claim);
    // A refusal for the server's state (the primary still streams here, an
    // epoch not above the current one) is the request's problem: code 1100,
    // as Milvus answers requests its state does not allow.
    if (!report.ok() && report.status().Is(StatusCode::kFailedPrecondition)) {
      return Status::InvalidArgument(report.status().message());
    }
    return report;
  });
  // Patroni-style probes for load balancers.
  http.RegisterProbe("/primary", [db, lease](const httplib::Request&) -> ProbeReply {
    if (db->IsFollower()) return {503, {{"role", "standby"}, {"reason", "this server is a standby (read-only)"}}};
    Status health = db->Health();
    if (!health.ok()) return {503, {{"role", "primary"}, {"reason", health.ToString()}}};
    if (lease) {
      Status held = lease->CheckWritable();
      if (!held.ok()) {
        return {503, {{"role", lease->fenced() ? "fenced" : "primary"}, {"lease", lease->State()},
                      {"reason", held.message()}}};
      }
    }
    return {200, {{"role", "primary"}, {"epoch", db->CurrentEpoch()}}};
  });
  http.RegisterProbe("/replica", [db, standby](const httplib::Request& req) -> ProbeReply {
    if (!db->IsFollower() || standby == nullptr) {
      return {503, {{"role", "primary"}, {"reason", "this server is a primary"}}};
    }
    nlohmann::json s = standby->GetStatus();
    const double lag = s.value("lagSeconds", 0.0);
    nlohmann::json body = {{"role", "standby"}, {"state", s.value("state", "")}, {"lagSeconds", lag},
                           {"lagRecords", s.value("lagRecords", uint64_t{0})}};
    if (s.value("state", "") != "streaming") {
      body["reason"] = "not streaming from its primary: " + s.value("reason", s.value("state", ""));
      return {503, body};
    }
    if (req.has_param("lag")) {
      // "5", "5s" or "500ms": the most lag (seconds behind) still answered 200.
      std::string text = req.get_param_value("lag");
      double scale = 1;
      if (text.size() > 2 && text.compare(text.size() - 2, 2, "ms") == 0) {
        scale = 1e-3;
        text.resize(text.size() - 2);
      } else if (!text.empty() && text.back() == 's') {
        text.pop_back();
      }
      char* end = nullptr;
      const double max = std::strtod(text.c_str(), &end);
      if (text.empty() || end == nullptr || *end != '\0' || !(max >= 0)) {
        body["reason"] = "lag=" + req.get_param_value("lag") + " is not a duration (e.g. lag=5s, lag=500ms)";
        return {400, body};
      }
      if (lag > max * scale) {
        body["reason"] = fmt::format("{:.3f} s behind, more than lag={}", lag, req.get_param_value("lag"));
        return {503, body};
      }
    }
    return {200, body};
  });
  http.RegisterAdmin("replication/manifest", [db](RequestContext&) -> Result<nlohmann::json> {
    Manifest m = db->CurrentManifest();
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : m.LiveFiles()) files.push_back(f);  // a std::set: sorted
    return nlohmann::json{{"version", m.version}, {"applied", m.applied.ToString()}, {"files", files}};
  });
}

}  // namespace ark::server
