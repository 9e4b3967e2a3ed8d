#include "dr/failover/failover_config.h"

#include <fmt/format.h>

#include "dr/failover/etcd_witness.h"
#include "dr/failover/lease_keeper.h"
#include "dr/failover/local_witness.h"
#include "dr/failover/monitor_witness.h"
#include "storage/env.h"

namespace ark::dr {

namespace {

bool IsEtcd(const std::string& url) { return url.rfind("etcd", 0) == 0; }

uint64_t RenewMs(const FailoverConfig& c) { return c.renew_interval_ms ? c.renew_interval_ms : c.lease_ttl_ms / 5; }

}  // namespace

Status FailoverConfig::Validate() const {
  if (rejoin != "manual" && rejoin != "auto") {
    return Status::InvalidArgument(fmt::format("failover.rejoin '{}' is not one of manual, auto", rejoin));
  }
  if (!enabled()) return Status::OK();
  if (name.empty()) {
    return Status::InvalidArgument("failover.name is required with failover.witness (this server's name in the cluster)");
  }
  LeaderClaim probe{name, advertise_url, 1, lease_ttl_ms};
  if (Status s = ValidateLeaderClaim(probe); !s.ok()) return s.WithContext("failover");
  LeaseKeeperOptions o{name, advertise_url, lease_ttl_ms, renew_interval_ms, margin_ms};
  ARK_RETURN_IF_ERROR(ValidateLeaseKeeperOptions(o));
  if (!advertise_url.empty()) ARK_RETURN_IF_ERROR(ValidateBaseUrl(advertise_url, "failover.advertise_url"));
  if (IsEtcd(witness)) {
    if (witness.rfind("etcd://", 0) != 0 && witness.rfind("etcd+http://", 0) != 0 &&
        witness.rfind("etcd+https://", 0) != 0) {
      return Status::InvalidArgument(fmt::format(
          "failover.witness '{}': an etcd witness is etcd://HOST:PORT, etcd+http:// or etcd+https://", witness));
    }
    if (etcd_prefix.empty() || etcd_prefix[0] != '/') {
      return Status::InvalidArgument(fmt::format("failover.etcd_prefix '{}' must start with '/'", etcd_prefix));
    }
  } else {
    ARK_RETURN_IF_ERROR(ValidateBaseUrl(witness, "failover.witness"));
  }
  if (!witness_token.empty() && !witness_token_file.empty()) {
    return Status::InvalidArgument("failover: give witness_token or witness_token_file, not both");
  }
  if (witness_timeout_ms > RenewMs(*this)) {
    return Status::InvalidArgument(fmt::format(
        "failover.witness_timeout_ms {} must not exceed the renew interval ({} ms)", witness_timeout_ms, RenewMs(*this)));
  }
  return Status::OK();
}

Result<std::unique_ptr<Witness>> OpenWitness(const FailoverConfig& c) {
  ARK_RETURN_IF_ERROR(c.Validate());
  uint32_t timeout = c.witness_timeout_ms ? c.witness_timeout_ms : static_cast<uint32_t>(RenewMs(c));
  if (IsEtcd(c.witness)) {
    EtcdWitnessOptions o;
    std::string rest = c.witness.substr(c.witness.find("://") + 3);
    o.endpoint = (c.witness.rfind("etcd+https://", 0) == 0 ? "https://" : "http://") + rest;
    o.prefix = c.etcd_prefix;
    o.timeout_ms = timeout;
    return OpenEtcdWitness(o);
  }
  HttpCallOptions o;
  o.timeout_ms = timeout;
  o.ca_file = c.witness_ca_file;
  ARK_ASSIGN_OR_RETURN(o.token, WitnessToken(c));
  return OpenMonitorWitness(c.witness, o);
}

Result<std::string> WitnessToken(const FailoverConfig& c) {
  if (c.witness_token_file.empty()) return c.witness_token;
  std::string text;
  ARK_RETURN_IF_ERROR(Env::Default()->ReadFileToString(c.witness_token_file, &text).WithContext(
      "failover.witness_token_file"));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return Status::InvalidArgument("failover.witness_token_file " + c.witness_token_file + " is empty");
  return text;
}

}  // namespace ark::dr
