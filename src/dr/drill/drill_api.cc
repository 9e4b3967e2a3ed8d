#include "dr/drill/drill_api.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "dr/drill/probe.h"
#include "dr/failover/http_json.h"

extern char** environ;

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

namespace {

// The {key, value} list of a describe answer as a map (other entries ignored).
std::map<std::string, std::string> PropertiesOf(const nlohmann::json& describe) {
  std::map<std::string, std::string> props;
  if (describe.is_object() && describe["properties"].is_array()) {
    for (const auto& p : describe["properties"]) {
      if (p.is_object() && p["key"].is_string() && p["value"].is_string()) props[p["key"]] = p["value"];
    }
  }
  return props;
}

}  // namespace

DrTargets CollectionTargets(const std::string& url, const std::string& database_name, const std::string& name,
                            const DrTargets& database, DrillReport* report, const std::string& token) {
  auto d = MilvusApi(url, "collections/describe", {{"dbName", database_name}, {"collectionName", name}}, token);
  if (!d.ok()) {
    report->Check("tiers", false,
                  fmt::format("collection {}.{}: describe failed: {}", database_name, name, d.status().message()));
    return database;
  }
  auto t = TargetsFromProperties(PropertiesOf(*d));
  if (!t.ok()) {
    report->Check("tiers", false, fmt::format("collection {}.{}: {}", database_name, name, t.status().message()));
    return database;
  }
  t->source = fmt::format("collection {}.{}", database_name, name);
  return MergeTargets(database, *t);
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
    auto t = TargetsFromProperties(PropertiesOf(*d));
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
                        DrillReport* report, const std::string& token,
                        const std::map<std::pair<std::string, std::string>, nlohmann::json>* extra) {
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
      const DrTargets merged =
          CollectionTargets(url, db, n.get<std::string>(), t != targets.end() ? t->second : DrTargets{}, report, token);
      if (!merged.empty()) {
        c["targets"] = merged.ToJson();
        c["verdict"] = Judge(merged, rto_ms, rpo_ms).ToJson();
      }
      if (extra != nullptr) {
        auto found = extra->find({db, n.get<std::string>()});
        if (found != extra->end()) c.update(found->second);
      }
      report->AddCollection(std::move(c));
    }
  }
  return Status::OK();
}

bool WaitFor(Env* env, uint64_t timeout_ms, const std::function<bool()>& done) {
  const uint64_t deadline = env->NowMicros() + timeout_ms * 1000;
  while (!done()) {
    if (env->NowMicros() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

Result<std::string> FindPrimary(const std::vector<std::string>& endpoints, const std::string& admin_token) {
  std::vector<std::string> primaries;
  std::string seen;
  for (const auto& e : endpoints) {
    auto st = AdminApi(e, "replication/status", nlohmann::json::object(), admin_token, 3000);
    if (!st.ok()) {
      seen += fmt::format(" {}: {};", e, st.status().message());
      continue;
    }
    const std::string role = (*st)["role"].is_string() ? (*st)["role"].get<std::string>() : "?";
    bool fenced = false;
    if ((*st)["lease"].is_object() && (*st)["lease"]["state"].is_string()) {
      fenced = (*st)["lease"]["state"] != "held";
    }
    seen += fmt::format(" {}: {}{};", e, role, fenced ? " (without its lease)" : "");
    if (role == "primary" && !fenced) primaries.push_back(e);
  }
  if (primaries.size() != 1) {
    return Status::FailedPrecondition(
        fmt::format("a drill needs exactly one primary among the endpoints, found {}:{}", primaries.size(), seen));
  }
  return primaries[0];
}

Status RunShell(Env* env, const std::string& command, const std::string& primary, uint64_t timeout_ms) {
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  envs.push_back("ARK_DRILL_PRIMARY=" + primary);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::IOError(fmt::format("cannot run the kill command: {}", strerror(rc)));
  int wstatus = 0;
  bool exited = WaitFor(env, timeout_ms, [&] { return waitpid(pid, &wstatus, WNOHANG) == pid; });
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &wstatus, 0);
    return Status::TimedOut(fmt::format("the kill command '{}' ran past {} ms", command, timeout_ms));
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Status::Internal(fmt::format("the kill command '{}' failed ({})", command,
                                        WIFEXITED(wstatus) ? fmt::format("exit {}", WEXITSTATUS(wstatus))
                                                           : fmt::format("signal {}", WTERMSIG(wstatus))));
  }
  return Status::OK();
}

}  // namespace ark::dr
