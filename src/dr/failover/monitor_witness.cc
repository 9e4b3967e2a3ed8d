#include "dr/failover/monitor_witness.h"

#include <fmt/format.h>

#include "dr/failover/local_witness.h"

namespace ark::dr {

namespace {

Status WantString(const nlohmann::json& j, const char* key, std::string* out, std::string_view where) {
  if (!j.contains(key) || !j[key].is_string()) {
    return Status::InvalidArgument(fmt::format("{}: \"{}\" must be a string", where, key));
  }
  *out = j[key].get<std::string>();
  return Status::OK();
}

Status WantUnsigned(const nlohmann::json& j, const char* key, uint64_t* out, std::string_view where) {
  if (!j.contains(key) || !j[key].is_number_unsigned()) {
    return Status::InvalidArgument(fmt::format("{}: \"{}\" must be a non-negative integer", where, key));
  }
  *out = j[key].get<uint64_t>();
  return Status::OK();
}

Status WantBool(const nlohmann::json& j, const char* key, bool* out, std::string_view where) {
  if (!j.contains(key) || !j[key].is_boolean()) {
    return Status::InvalidArgument(fmt::format("{}: \"{}\" must be true or false", where, key));
  }
  *out = j[key].get<bool>();
  return Status::OK();
}

class MonitorWitness final : public Witness {
 public:
  MonitorWitness(std::string base, HttpCallOptions options) : base_(std::move(base)), options_(std::move(options)) {}

  Result<ClaimAnswer> Claim(const LeaderClaim& claim) override {
    ARK_RETURN_IF_ERROR(ValidateLeaderClaim(claim));
    ARK_ASSIGN_OR_RETURN(nlohmann::json data, PostJson(base_, "/ark/v1/witness/claim", LeaderClaimToJson(claim), options_));
    auto a = ClaimAnswerFromJson(data);
    if (!a.ok()) return Status::Unavailable(fmt::format("monitor {} answered a claim oddly: {}", base_, a.status().message()));
    return a;
  }

  Result<LeaderRecord> Read() override {
    ARK_ASSIGN_OR_RETURN(nlohmann::json data, PostJson(base_, "/ark/v1/witness/leader", nlohmann::json::object(), options_));
    auto r = LeaderRecordFromJson(data);
    if (!r.ok()) return Status::Unavailable(fmt::format("monitor {} answered oddly: {}", base_, r.status().message()));
    return r;
  }

  Status Release(const std::string& holder, uint64_t epoch) override {
    return PostJson(base_, "/ark/v1/witness/release", {{"holder", holder}, {"epoch", epoch}}, options_).status();
  }

  std::string Describe() const override { return fmt::format("monitor {}", base_); }

 private:
  const std::string base_;
  const HttpCallOptions options_;
};

}  // namespace

Result<std::unique_ptr<Witness>> OpenMonitorWitness(const std::string& base, HttpCallOptions options) {
  ARK_RETURN_IF_ERROR(ValidateBaseUrl(base, "monitor witness"));
  std::string b = base;
  if (b.back() == '/') b.pop_back();
  return std::unique_ptr<Witness>(new MonitorWitness(b, std::move(options)));
}

nlohmann::json LeaderRecordToJson(const LeaderRecord& r) {
  return {{"exists", r.exists}, {"holder", r.holder}, {"url", r.url}, {"epoch", r.epoch},
          {"ttlMs", r.ttl_ms},  {"remainingMs", r.remaining_ms}, {"live", r.live()}};
}

Result<LeaderRecord> LeaderRecordFromJson(const nlohmann::json& j) {
  constexpr std::string_view kWhere = "leader record";
  if (!j.is_object()) return Status::InvalidArgument("leader record: not a JSON object");
  LeaderRecord r;
  ARK_RETURN_IF_ERROR(WantBool(j, "exists", &r.exists, kWhere));
  ARK_RETURN_IF_ERROR(WantString(j, "holder", &r.holder, kWhere));
  ARK_RETURN_IF_ERROR(WantString(j, "url", &r.url, kWhere));
  ARK_RETURN_IF_ERROR(WantUnsigned(j, "epoch", &r.epoch, kWhere));
  ARK_RETURN_IF_ERROR(WantUnsigned(j, "ttlMs", &r.ttl_ms, kWhere));
  ARK_RETURN_IF_ERROR(WantUnsigned(j, "remainingMs", &r.remaining_ms, kWhere));
  return r;
}

nlohmann::json ClaimAnswerToJson(const ClaimAnswer& a) {
  return {{"granted", a.granted}, {"superseded", a.superseded}, {"record", LeaderRecordToJson(a.record)}};
}

Result<ClaimAnswer> ClaimAnswerFromJson(const nlohmann::json& j) {
  constexpr std::string_view kWhere = "claim answer";
  if (!j.is_object()) return Status::InvalidArgument("claim answer: not a JSON object");
  ClaimAnswer a;
  ARK_RETURN_IF_ERROR(WantBool(j, "granted", &a.granted, kWhere));
  ARK_RETURN_IF_ERROR(WantBool(j, "superseded", &a.superseded, kWhere));
  if (!j.contains("record")) return Status::InvalidArgument("claim answer: \"record\" is missing");
  ARK_ASSIGN_OR_RETURN(a.record, LeaderRecordFromJson(j["record"]));
  return a;
}

nlohmann::json LeaderClaimToJson(const LeaderClaim& c) {
  return {{"holder", c.holder}, {"url", c.url}, {"epoch", c.epoch}, {"ttlMs", c.ttl_ms}};
}

Result<LeaderClaim> LeaderClaimFromJson(const nlohmann::json& j) {
  constexpr std::string_view kWhere = "leader claim";
  if (!j.is_object()) return Status::InvalidArgument("leader claim: the body must be a JSON object");
  LeaderClaim c;
  ARK_RETURN_IF_ERROR(WantString(j, "holder", &c.holder, kWhere));
  if (j.contains("url")) ARK_RETURN_IF_ERROR(WantString(j, "url", &c.url, kWhere));
  ARK_RETURN_IF_ERROR(WantUnsigned(j, "epoch", &c.epoch, kWhere));
  ARK_RETURN_IF_ERROR(WantUnsigned(j, "ttlMs", &c.ttl_ms, kWhere));
  ARK_RETURN_IF_ERROR(ValidateLeaderClaim(c));
  return c;
}

}  // namespace ark::dr
