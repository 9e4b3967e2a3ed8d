#include "server/admin_replication.h"

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

void RegisterReplicationRoutes(HttpServer& http, Database* db, dr::ReplicationSource* source, dr::Standby* standby) {
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
  http.RegisterAdmin("replication/status", [db, source, standby](RequestContext&) -> Result<nlohmann::json> {
    nlohmann::json j = source->GetStatus();
    j["role"] = standby ? "standby" : "primary";
    if (standby) {
      nlohmann::json own = standby->GetStatus();  // named: items() of a temporary dangles
      for (auto& [k, v] : own.items()) j[k] = v;
    }
    j["lastPosition"] = db->wal()->LastPosition().ToString();
    return j;
  });
  http.RegisterAdmin("replication/manifest", [db](RequestContext&) -> Result<nlohmann::json> {
    Manifest m = db->CurrentManifest();
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : m.LiveFiles()) files.push_back(f);  // a std::set: sorted
    return nlohmann::json{{"version", m.version}, {"applied", m.applied.ToString()}, {"files", files}};
  });
}

}  // namespace ark::server
