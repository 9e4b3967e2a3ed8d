#include "dr/drill/drill_api.h"

#include <fmt/format.h>

#include "dr/drill/probe.h"
#include "dr/failover/http_json.h"

namespace ark::dr {

Result<nlohmann::json> MilvusApi(const std::string& url, const std::string& route, const nlohmann::json& body,
                                 const std::string& token) {
  HttpCallOptions o;
  o.timeout_ms = 60000;
  o.token = token;
  return PostJson(url, "/v2/vectordb/" + route, body, o);
}

Result<nlohmann::json> AdminApi(const std::string& url, const std::string& route, const nlohmann::json& body,
                                const std::string& token, uint32_t timeout_ms) {
  HttpCallOptions o;
  o.timeout_ms = timeout_ms;
  o.token = token;
  return PostJson(url, "/ark/v1/" + route, body, o);
}

std::map<std::string, DrTargets> ReadTargets(const std::string& url, const std::set<std::string>& databases,
                                             DrillReport* report, const std::string& token) {
  std::map<std::string, DrTargets> out;
  for (const auto& db : databases) {
    auto d = MilvusApi(url, "databases/describe", {{"dbName", db}}, token);
    if (!d.ok()) {
      report->Check("tiers", false, fmt::format("database {}: describe failed: {}", db, d.status().message()));
      continue;
    }
    std::map<std::string, std::string> props;
    if ((*d)["properties"].is_array()) {
      for (const auto& p : (*d)["properties"]) {
        if (p.is_object() && p["key"].is_string() && p["value"].is_string()) props[p["key"]] = p["value"];
      }
    }
    auto t = TargetsFromProperties(props);
    if (!t.ok()) {
      report->Check("tiers", false, fmt::format("database {}: {}", db, t.status().message()));
      continue;
    }
    t->source = "database " + db;
    out[db] = *t;
  }
  return out;
}

Status JudgeCollections(const std::string& url, std::optional<uint64_t> rto_ms, std::optional<uint64_t> rpo_ms,
                        DrillReport* report, const std::string& token) {
  ARK_ASSIGN_OR_RETURN(nlohmann::json dbs, MilvusApi(url, "databases/list", nlohmann::json::object(), token));
  std::set<std::string> databases;
  if (dbs.is_array()) {
    for (const auto& d : dbs) {
      if (d.is_string()) databases.insert(d.get<std::string>());
    }
  }
  auto targets = ReadTargets(url, databases, report, token);
  for (const auto& db : databases) {
    ARK_ASSIGN_OR_RETURN(nlohmann::json names, MilvusApi(url, "collections/list", {{"dbName", db}}, token));
    if (!names.is_array()) continue;
    for (const auto& n : names) {
      if (!n.is_string() || n == kProbeCollection) continue;
      nlohmann::json c = {{"database", db}, {"name", n}};
      auto stats = MilvusApi(url, "collections/get_stats", {{"dbName", db}, {"collectionName", n}}, token);
      if (stats.ok() && (*stats)["rowCount"].is_number_unsigned()) c["rows"] = (*stats)["rowCount"];
      auto t = targets.find(db);
      if (t != targets.end() && !t->second.empty()) {
        c["targets"] = t->second.ToJson();
        c["verdict"] = Judge(t->second, rto_ms, rpo_ms).ToJson();
      }
      report->AddCollection(std::move(c));
    }
  }
  return Status::OK();
}

}  // namespace ark::dr
