#include "dr/failover/etcd_witness.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <climits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

namespace ark::dr {

namespace {

using nlohmann::json;
// Only to bound one call's requests (like a socket timeout); lease time is
// judged by etcd's clock, never by this one.
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// A claim or release whose txn lost a race is decided again on a fresh
// snapshot; this many times before giving up with Unavailable.
constexpr int kMaxAttempts = 8;
constexpr uint16_t kDefaultPort = 2379;

// ---- base64 (etcd's gateway carries keys and values as base64) ----------
// OpenSSL's codec rather than a hand-written one: ark_dr links libcrypto
// already and it is well tested; the Base64Encode in replication_source.h
// would pull the engine into this file.

std::string Base64Encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

// Empty optional when `in` is not padded base64.
std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0 || in.size() > INT_MAX / 2) return std::nullopt;
  if (in.empty()) return std::string();
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the zero bytes that the padding stands for.
  size_t padding = in.size() >= 2 && in.substr(in.size() - 2) == "==" ? 2
                   : in.back() == '='                                 ? 1
                                                                      : 0;
  if (static_cast<size_t>(n) < padding) return std::nullopt;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

// ---- reading the gateway's JSON without exceptions ------------------------

const json* Field(const json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

// int64 fields arrive as JSON strings ("42"); zero values are omitted.
std::optional<int64_t> Int64Field(const json& object, const char* name) {
  const json* v = Field(object, name);
  if (v == nullptr) return int64_t{0};
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v->is_number_integer()) return v->get<int64_t>();
  if (!v->is_string()) return std::nullopt;
  const std::string& s = v->get_ref<const std::string&>();
  int64_t out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return out;
}

std::string Excerpt(std::string_view text) {
  constexpr size_t kMax = 200;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

// ---- options and claims ---------------------------------------------------

// "http://HOST:PORT", "https://HOST:PORT", "etcd://HOST:PORT" (= http) or
// "etcd+http(s)://"; returns "SCHEME://HOST:PORT".
Result<std::string> NormalizeEndpoint(const std::string& text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("etcd witness endpoint '{}': {}", text, why));
  };
  size_t sep = text.find("://");
  if (sep == std::string::npos) return bad("expected http://HOST:PORT or etcd://HOST:PORT");
  std::string scheme = text.substr(0, sep);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme == "etcd" || scheme == "etcd+http") scheme = "http";
  if (scheme == "etcd+https") scheme = "https";
  if (scheme != "http" && scheme != "https") {
    return bad(
        fmt::format("unknown scheme '{}' (use http://, https:// or etcd://)", text.substr(0, sep)));
  }
  std::string rest = text.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find_first_of("/?#@ \t") != std::string::npos)
    return bad("must be SCHEME://HOST:PORT without a path");
  std::string host = rest, port;
  size_t colon = rest.rfind(':');
  if (!rest.empty() && rest[0] == '[') {  // [IPv6]:port
    size_t close = rest.find(']');
    if (close == std::string::npos) return bad("unclosed '[' in the host");
    host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return bad("expected ':PORT' after ']'");
      port = rest.substr(close + 2);
      if (port.empty()) return bad("empty port");
    }
  } else if (colon != std::string::npos) {
    if (rest.find(':') != colon) return bad("an IPv6 host must be in brackets: [::1]:2379");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return bad("empty port");
  }
  if (host.empty() || host == "[]") return bad("missing host");
  uint32_t number = kDefaultPort;
  if (!port.empty()) {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
      return bad(fmt::format("port '{}' is not in 1..65535", port));
    }
  }
  return fmt::format("{}://{}:{}", scheme, host, number);
}

// ---- the stored record ----------------------------------------------------

struct StoredRecord {
  std::string holder;
  std::string url;
  uint64_t epoch = 0;
  uint64_t ttl_ms = 0;
};

Result<std::string> EncodeRecord(const LeaderClaim& c) {
  json j = {{"holder", c.holder}, {"url", c.url}, {"epoch", c.epoch}, {"ttl_ms", c.ttl_ms}};
  try {
    return j.dump();
  } catch (const json::exception& e) {  // dump() throws on invalid UTF-8
    return Status::InvalidArgument(
        fmt::format("leader claim: url is not valid UTF-8 ({})", e.what()));
  }
}

// One key as a range returned it.
struct KeyValue {
  bool exists = false;
  std::string value;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

// Both keys at one revision, their values decoded.
struct Snapshot {
  KeyValue leader;
  KeyValue epoch;
  std::optional<StoredRecord> leader_record;
  std::optional<StoredRecord> epoch_record;
  // The record witness.h speaks of: the live leader's, else the last one's.
  const StoredRecord* current() const {
    if (leader_record) return &*leader_record;
    return epoch_record ? &*epoch_record : nullptr;
  }
};

enum class Step { kRefuse, kSupersede, kKeepAlive, kPut };

// witness.h's rule. The leader key is live exactly while it exists: etcd
// deletes it when its lease expires.
Step Decide(const LeaderClaim& c, const Snapshot& s) {
  const StoredRecord* r = s.current();
  if (r == nullptr) return Step::kPut;  // (a) nobody ever led
  if (c.epoch < r->epoch) return Step::kSupersede;
  const bool live = s.leader.exists;
  if (r->holder == c.holder && r->epoch == c.epoch) {  // (b) renewal, also after expiry
    // A keepalive cannot change the url or the lease length: those rewrite.
    return live && r->url == c.url && r->ttl_ms == c.ttl_ms ? Step::kKeepAlive : Step::kPut;
  }
  if (!live && c.epoch > r->epoch) return Step::kPut;  // (c) promotion
  return Step::kRefuse;
}

json CompareUnchanged(const std::string& key_b64, const KeyValue& kv) {
  json c = {{"key", key_b64}, {"result", "EQUAL"}};
  if (kv.exists) {
    c["target"] = "MOD";
    c["mod_revision"] = std::to_string(kv.mod_revision);
  } else {
    c["target"] = "CREATE";
    c["create_revision"] = "0";
  }
  return c;
}

uint64_t MillisSince(Clock::time_point start) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}

ClaimAnswer Granted(const LeaderClaim& c, int64_t lease_seconds, Clock::time_point sent) {
  ClaimAnswer a;
  a.granted = true;
  a.record.exists = true;
  a.record.holder = c.holder;
  a.record.url = c.url;
  a.record.epoch = c.epoch;
  a.record.ttl_ms = c.ttl_ms;
  // etcd started the lease after `sent`; it keeps the key at least ttl_ms.
  uint64_t lease_ms = static_cast<uint64_t>(lease_seconds) * 1000;
  uint64_t elapsed = MillisSince(sent);
  uint64_t left = lease_ms > elapsed ? lease_ms - elapsed : 1;
  a.record.remaining_ms = std::clamp<uint64_t>(left, 1, c.ttl_ms);
  return a;
}

struct LeaseGrant {
  int64_t id = 0;
  int64_t ttl_seconds = 0;
};

class EtcdWitness final : public Witness {
 public:
  EtcdWitness(std::string endpoint, std::string prefix, uint32_t timeout_ms)
      : endpoint_(std::move(endpoint)),
        prefix_(std::move(prefix)),
        leader_key_(prefix_ + "/leader"),
        epoch_key_(prefix_ + "/epoch"),
        leader_key_b64_(Base64Encode(leader_key_)),
        epoch_key_b64_(Base64Encode(epoch_key_)),
        timeout_ms_(timeout_ms) {}

  Result<ClaimAnswer> Claim(const LeaderClaim& claim) override;
  Result<LeaderRecord> Read() override;
  Status Release(const std::string& holder, uint64_t epoch) override;
  std::string Describe() const override { return fmt::format("etcd {} {}", endpoint_, prefix_); }

 private:
  Deadline StartCall() const { return Clock::now() + std::chrono::milliseconds(timeout_ms_); }
  Status Malformed(std::string_view path, std::string_view what) const {
    return Status::Corruption(
        fmt::format("etcd {}: POST {}: malformed reply: {}", endpoint_, path, what));
  }

  Result<json> Post(std::string_view path, const json& body, Deadline deadline) const;
  Status ReplyError(std::string_view path, int http_status, const std::string& body) const;
  Result<Snapshot> ReadSnapshot(Deadline deadline) const;
  Result<KeyValue> ParseRange(const json& response, const std::string& key) const;
  Result<StoredRecord> DecodeRecord(const KeyValue& kv, const std::string& key) const;
  Result<bool> Txn(json compare, json success, Deadline deadline) const;
  Result<LeaseGrant> GrantLease(uint64_t seconds, Deadline deadline) const;
  Result<int64_t> KeepAlive(int64_t lease, Deadline deadline) const;
  Result<int64_t> TimeToLive(int64_t lease, Deadline deadline) const;
  void RevokeQuietly(int64_t lease, Deadline deadline) const;

  Result<LeaderRecord> RecordAsSeen(const Snapshot& snap, Deadline deadline) const;
  Result<std::optional<ClaimAnswer>> TryKeepAlive(const LeaderClaim& claim, const Snapshot& snap,
                                                  Deadline deadline) const;
  Result<std::optional<ClaimAnswer>> TryPut(const LeaderClaim& claim, const std::string& value,
                                            const Snapshot& snap, Deadline deadline) const;

  const std::string endpoint_;  // normalized "http://HOST:PORT"
  const std::string prefix_;    // without a trailing '/'
  const std::string leader_key_, epoch_key_;
  const std::string leader_key_b64_, epoch_key_b64_;
  const uint32_t timeout_ms_;
};

// ---- transport --------------------------------------------------------------

Result<json> EtcdWitness::Post(std::string_view path, const json& body, Deadline deadline) const {
  auto left =
      std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
  if (left <= 0) {
    return Status::TimedOut(fmt::format("etcd {}: no answer within {} ms (before POST {})",
                                        endpoint_, timeout_ms_, path));
  }
  // A client per request: nothing shared between threads, and a connection
  // never outlives the call that opened it.
  httplib::Client client(endpoint_);
  const time_t sec = static_cast<time_t>(left / 1000000),
               usec = static_cast<time_t>(left % 1000000);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  // Bodies hold only ASCII (base64 and digits): dump() cannot throw.
  httplib::Result res = client.Post(std::string(path), body.dump(), "application/json");
  if (!res) {
    return Status::Unavailable(fmt::format("etcd {} unreachable: POST {}: {}", endpoint_, path,
                                           httplib::to_string(res.error())));
  }
  if (res->status != 200) return ReplyError(path, res->status, res->body);
  json reply = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object())
    return Malformed(path, fmt::format("not a JSON object: {}", Excerpt(res->body)));
  return reply;
}

// grpc-gateway errors: {"error": "...", "message": "...", "code": GRPC_CODE}.
Status EtcdWitness::ReplyError(std::string_view path, int http_status,
                               const std::string& body) const {
  json reply = json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string message = Excerpt(body);
  if (const json* m = Field(reply, "message"); m != nullptr && m->is_string())
    message = m->get<std::string>();
  int64_t code = -1;
  if (const json* c = Field(reply, "code"); c != nullptr && c->is_number_integer())
    code = c->get<int64_t>();
  std::string text =
      fmt::format("etcd {}: POST {}: HTTP {}: {}", endpoint_, path, http_status, message);
  switch (code) {
    case 4:
      return Status::TimedOut(text);  // DEADLINE_EXCEEDED
    case 5:
      return Status::NotFound(text);  // NOT_FOUND (a lease)
    case 8:                           // RESOURCE_EXHAUSTED: too many requests
    case 14:
      return Status::Unavailable(text);  // UNAVAILABLE: no leader, stopping
    default:
      break;
  }
  if (http_status >= 500) return Status::Unavailable(text);
  return Status::Internal(text);  // a request etcd did not understand: a bug here
}

// ---- kv -------------------------------------------------------------------

Result<StoredRecord> EtcdWitness::DecodeRecord(const KeyValue& kv, const std::string& key) const {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(
        fmt::format("etcd {}: key {}: {}: {}", endpoint_, key, what, Excerpt(kv.value)));
  };
  json j = json::parse(kv.value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("value is not a JSON object");
  StoredRecord r;
  for (const char* name : {"holder", "url"}) {
    const json* v = Field(j, name);
    if (v == nullptr || !v->is_string())
      return bad(fmt::format("\"{}\" missing or not a string", name));
  }
  for (const char* name : {"epoch", "ttl_ms"}) {
    const json* v = Field(j, name);
    if (v == nullptr || !v->is_number_unsigned()) {
      return bad(fmt::format("\"{}\" missing or not an unsigned integer", name));
    }
  }
  r.holder = j["holder"].get<std::string>();
  r.url = j["url"].get<std::string>();
  r.epoch = j["epoch"].get<uint64_t>();
  r.ttl_ms = j["ttl_ms"].get<uint64_t>();
  return r;
}

// One "response_range" of a txn: the key, or exists=false.
Result<KeyValue> EtcdWitness::ParseRange(const json& response, const std::string& key) const {
  constexpr std::string_view kPath = "/v3/kv/txn";
  const json* range = Field(response, "response_range");
  if (range == nullptr || !range->is_object())
    return Malformed(kPath, "\"response_range\" missing");
  KeyValue out;
  const json* kvs = Field(*range, "kvs");
  if (kvs == nullptr) return out;
  if (!kvs->is_array()) return Malformed(kPath, "\"kvs\" is not an array");
  if (kvs->empty()) return out;
  const json& kv = (*kvs)[0];
  const json* key_field = Field(kv, "key");
  const json* value_field = Field(kv, "value");
  if (key_field == nullptr || !key_field->is_string())
    return Malformed(kPath, "\"kvs[0].key\" missing");
  std::optional<std::string> got_key = Base64Decode(key_field->get_ref<const std::string&>());
  if (!got_key || *got_key != key)
    return Malformed(kPath, fmt::format("\"kvs[0].key\" is not {}", key));
  std::optional<std::string> value;
  if (value_field == nullptr)
    value = std::string();
  else if (value_field->is_string())
    value = Base64Decode(value_field->get_ref<const std::string&>());
  if (!value) return Malformed(kPath, fmt::format("\"kvs[0].value\" of {} is not base64", key));
  std::optional<int64_t> mod = Int64Field(kv, "mod_revision");
  std::optional<int64_t> lease = Int64Field(kv, "lease");
  if (!mod || *mod <= 0)
    return Malformed(kPath, fmt::format("\"kvs[0].mod_revision\" of {} is not > 0", key));
  if (!lease) return Malformed(kPath, fmt::format("\"kvs[0].lease\" of {} is not an integer", key));
  out.exists = true;
  out.value = std::move(*value);
  out.mod_revision = *mod;
  out.lease = *lease;
  return out;
}

Result<Snapshot> EtcdWitness::ReadSnapshot(Deadline deadline) const {
  // A txn without compares: both ranges at one revision.
  json success = json::array();
  for (const std::string* key : {&leader_key_b64_, &epoch_key_b64_}) {
    json op;
    op["request_range"]["key"] = *key;
    success.push_back(std::move(op));
  }
  json body;
  body["success"] = std::move(success);
  ARK_ASSIGN_OR_RETURN(json reply, Post("/v3/kv/txn", body, deadline));
  const json* responses = Field(reply, "responses");
  if (responses == nullptr || !responses->is_array() || responses->size() != 2) {
    return Malformed("/v3/kv/txn", "\"responses\" is not an array of 2");
  }
  Snapshot s;
  ARK_ASSIGN_OR_RETURN(s.leader, ParseRange((*responses)[0], leader_key_));
  ARK_ASSIGN_OR_RETURN(s.epoch, ParseRange((*responses)[1], epoch_key_));
  if (s.leader.exists) {
    if (s.leader.lease == 0) {
      return Status::Corruption(
          fmt::format("etcd {}: key {} has no lease (written outside Ark?): it would never expire",
                      endpoint_, leader_key_));
    }
    ARK_ASSIGN_OR_RETURN(s.leader_record, DecodeRecord(s.leader, leader_key_));
  }
  if (s.epoch.exists) {
    ARK_ASSIGN_OR_RETURN(s.epoch_record, DecodeRecord(s.epoch, epoch_key_));
  }
  return s;
}

Result<bool> EtcdWitness::Txn(json compare, json success, Deadline deadline) const {
  json body;
  body["compare"] = std::move(compare);
  body["success"] = std::move(success);
  ARK_ASSIGN_OR_RETURN(json reply, Post("/v3/kv/txn", body, deadline));
  const json* succeeded = Field(reply, "succeeded");
  if (succeeded == nullptr) return false;  // false is omitted
  if (!succeeded->is_boolean()) return Malformed("/v3/kv/txn", "\"succeeded\" is not a boolean");
  return succeeded->get<bool>();
}

// ---- leases ---------------------------------------------------------------

Result<LeaseGrant> EtcdWitness::GrantLease(uint64_t seconds, Deadline deadline) const {
  json body = {{"TTL", std::to_string(seconds)}};
  ARK_ASSIGN_OR_RETURN(json reply, Post("/v3/lease/grant", body, deadline));
  if (const json* e = Field(reply, "error");
      e != nullptr && e->is_string() && !e->get_ref<const std::string&>().empty()) {
    return Status::Unavailable(
        fmt::format("etcd {}: lease grant: {}", endpoint_, e->get<std::string>()));
  }
  std::optional<int64_t> id = Int64Field(reply, "ID"), ttl = Int64Field(reply, "TTL");
  if (!id || *id == 0) return Malformed("/v3/lease/grant", "\"ID\" missing or not an integer");
  if (!ttl || *ttl <= 0) return Malformed("/v3/lease/grant", "\"TTL\" missing or not > 0");
  return LeaseGrant{*id, *ttl};
}

// Seconds the lease now has; 0 when it is gone (expired or revoked).
Result<int64_t> EtcdWitness::KeepAlive(int64_t lease, Deadline deadline) const {
  json body = {{"ID", std::to_string(lease)}};
  Result<json> reply = Post("/v3/lease/keepalive", body, deadline);
  if (reply.status().IsNotFound()) return int64_t{0};
  ARK_RETURN_IF_ERROR(reply.status());
  // The streaming call's one message comes wrapped in "result".
  const json* result = Field(*reply, "result");
  if (result == nullptr || !result->is_object())
    return Malformed("/v3/lease/keepalive", "\"result\" missing");
  std::optional<int64_t> ttl = Int64Field(*result, "TTL");
  if (!ttl) return Malformed("/v3/lease/keepalive", "\"result.TTL\" is not an integer");
  return std::max<int64_t>(*ttl, 0);
}

// Whole seconds left (rounded down); -1 when the lease is gone.
Result<int64_t> EtcdWitness::TimeToLive(int64_t lease, Deadline deadline) const {
  json body = {{"ID", std::to_string(lease)}};
  Result<json> reply = Post("/v3/lease/timetolive", body, deadline);
  if (reply.status().IsNotFound()) return int64_t{-1};
  ARK_RETURN_IF_ERROR(reply.status());
  std::optional<int64_t> ttl = Int64Field(*reply, "TTL");
  if (!ttl) return Malformed("/v3/lease/timetolive", "\"TTL\" is not an integer");
  return *ttl;
}

// Best effort: the lease holds no key we still want, and it expires by itself.
void EtcdWitness::RevokeQuietly(int64_t lease, Deadline deadline) const {
  json body = {{"ID", std::to_string(lease)}};
  (void)Post("/v3/lease/revoke", body, deadline);
}

// ---- the Witness ------------------------------------------------------------

Result<LeaderRecord> EtcdWitness::RecordAsSeen(const Snapshot& snap, Deadline deadline) const {
  LeaderRecord out;
  const StoredRecord* r = snap.current();
  if (r == nullptr) return out;
  out.exists = true;
  out.holder = r->holder;
  out.url = r->url;
  out.epoch = r->epoch;
  out.ttl_ms = r->ttl_ms;
  if (!snap.leader.exists) return out;  // expired or released: remaining 0
  ARK_ASSIGN_OR_RETURN(int64_t seconds, TimeToLive(snap.leader.lease, deadline));
  if (seconds == -1) return out;  // expired since the snapshot
  // The key exists, so etcd holds it live even with under a second left
  // (it answers whole seconds, rounded down): never 0 here. Capped at the
  // record's ttl, as etcd's lease may be longer (whole seconds, minimum).
  uint64_t ms = seconds > 0 ? static_cast<uint64_t>(seconds) * 1000 : 1;
  out.remaining_ms = std::clamp<uint64_t>(ms, 1, std::max<uint64_t>(r->ttl_ms, 1));
  return out;
}

Result<std::optional<ClaimAnswer>> EtcdWitness::TryKeepAlive(const LeaderClaim& claim,
                                                             const Snapshot& snap,
                                                             Deadline deadline) const {
  const Clock::time_point sent = Clock::now();
  // The lease is the caller's: it was granted for this holder and epoch, and
  // lease IDs are never reused, so extending it extends nobody else.
  ARK_ASSIGN_OR_RETURN(int64_t seconds, KeepAlive(snap.leader.lease, deadline));
  if (seconds <= 0) return std::optional<ClaimAnswer>();  // expired meanwhile: decide again
  // A Release may have deleted the key while its lease lived on: the key
  // must still be the very one read (same mod revision, so same lease).
  ARK_ASSIGN_OR_RETURN(Snapshot now, ReadSnapshot(deadline));
  if (!now.leader.exists || now.leader.mod_revision != snap.leader.mod_revision) {
    return std::optional<ClaimAnswer>();
  }
  return std::optional<ClaimAnswer>(Granted(claim, seconds, sent));
}

Result<std::optional<ClaimAnswer>> EtcdWitness::TryPut(const LeaderClaim& claim,
                                                       const std::string& value,
                                                       const Snapshot& snap,
                                                       Deadline deadline) const {
  const Clock::time_point sent = Clock::now();
  ARK_ASSIGN_OR_RETURN(LeaseGrant lease, GrantLease((claim.ttl_ms + 999) / 1000, deadline));
  // Granted only if neither key changed since the snapshot the rule was
  // judged on (an absent leader key stays absent: the old lease expired).
  json compare = json::array({CompareUnchanged(leader_key_b64_, snap.leader),
                              CompareUnchanged(epoch_key_b64_, snap.epoch)});
  json put_leader, put_epoch;
  put_leader["request_put"] = {{"key", leader_key_b64_},
                               {"value", Base64Encode(value)},
                               {"lease", std::to_string(lease.id)}};
  put_epoch["request_put"] = {{"key", epoch_key_b64_}, {"value", Base64Encode(value)}};
  Result<bool> done = Txn(std::move(compare), json::array({put_leader, put_epoch}), deadline);
  if (!done.ok() || !*done) {
    // Lost the race, or the outcome is unknown: the new lease must not keep
    // alive a record whose holder was not told it holds it.
    RevokeQuietly(lease.id, deadline);
    if (!done.ok()) return done.status();
    return std::optional<ClaimAnswer>();
  }
  // A rewrite of a live record moved the key to the new lease; the old one
  // now holds nothing.
  if (snap.leader.exists) RevokeQuietly(snap.leader.lease, deadline);
  return std::optional<ClaimAnswer>(Granted(claim, lease.ttl_seconds, sent));
}

Result<ClaimAnswer> EtcdWitness::Claim(const LeaderClaim& claim) {
  ARK_RETURN_IF_ERROR(ValidateLeaderClaim(claim));
  ARK_ASSIGN_OR_RETURN(std::string value, EncodeRecord(claim));
  const Deadline deadline = StartCall();
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ARK_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot(deadline));
    const Step step = Decide(claim, snap);
    if (step == Step::kRefuse || step == Step::kSupersede) {
      ClaimAnswer refused;
      refused.superseded = step == Step::kSupersede;
      ARK_ASSIGN_OR_RETURN(refused.record, RecordAsSeen(snap, deadline));
      return refused;
    }
    ARK_ASSIGN_OR_RETURN(std::optional<ClaimAnswer> answer,
                         step == Step::kKeepAlive ? TryKeepAlive(claim, snap, deadline)
                                                  : TryPut(claim, value, snap, deadline));
    if (answer) return *std::move(answer);
    // The keys changed under us (a racing claim, an expiry): judge again.
  }
  return Status::Unavailable(
      fmt::format("etcd {}: claim by {} in epoch {}: {} kept changing over {} attempts", endpoint_,
                  claim.holder, claim.epoch, leader_key_, kMaxAttempts));
}

Result<LeaderRecord> EtcdWitness::Read() {
  const Deadline deadline = StartCall();
  ARK_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot(deadline));
  return RecordAsSeen(snap, deadline);
}

Status EtcdWitness::Release(const std::string& holder, uint64_t epoch) {
  const Deadline deadline = StartCall();
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ARK_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot(deadline));
    if (!snap.leader.exists) return Status::OK();  // already expired
    if (snap.leader_record->holder != holder || snap.leader_record->epoch != epoch)
      return Status::OK();
    // Delete only the key as read, never a newer leader's. The epoch key
    // stays: older epochs remain fenced.
    json erase;
    erase["request_delete_range"]["key"] = leader_key_b64_;
    ARK_ASSIGN_OR_RETURN(bool deleted,
                         Txn(json::array({CompareUnchanged(leader_key_b64_, snap.leader)}),
                             json::array({erase}), deadline));
    if (!deleted) continue;
    RevokeQuietly(snap.leader.lease, deadline);  // holds no key now
    return Status::OK();
  }
  return Status::Unavailable(
      fmt::format("etcd {}: release by {} in epoch {}: {} kept changing over {} attempts",
                  endpoint_, holder, epoch, leader_key_, kMaxAttempts));
}

}  // namespace

Result<std::unique_ptr<Witness>> OpenEtcdWitness(const EtcdWitnessOptions& options) {
  if (options.endpoint.empty()) {
    return Status::InvalidArgument(
        "etcd witness: endpoint is empty (expected http://HOST:PORT or etcd://HOST:PORT)");
  }
  ARK_ASSIGN_OR_RETURN(std::string endpoint, NormalizeEndpoint(options.endpoint));
  if (options.prefix.empty()) {
    return Status::InvalidArgument(
        "etcd witness: prefix is empty (keys go under it, e.g. /ark/cluster/default)");
  }
  std::string prefix = options.prefix;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (options.timeout_ms == 0)
    return Status::InvalidArgument("etcd witness: timeout_ms must be > 0");
  return std::unique_ptr<Witness>(
      std::make_unique<EtcdWitness>(std::move(endpoint), std::move(prefix), options.timeout_ms));
}

}  // namespace ark::dr
