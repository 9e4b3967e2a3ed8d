// ark monitor: the failover monitor and embedded witness (docs/failover.md).
//
//   ark monitor --node a=http://10.0.0.1:19530 --node b=http://10.0.0.2:19530
//               [--listen 127.0.0.1:19600] [--data-dir ./ark-monitor] [--witness etcd://HOST:PORT]
//               [--check-interval-ms 1000] [--failures 3] [--hook PATH] [--dns-server HOST:PORT ...]
//   ark monitor --config monitor.yaml
//
// It serves the witness routes (/ark/v1/witness/*: the leader lease the
// servers hold, kept in <data-dir>/witness.json) unless etcd is the witness,
// and /ark/v1/monitor/{status,timeline}; it checks the leader and fails over.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "cli/command_registry.h"
#include "dr/failover/failover_config.h"
#include "dr/failover/local_witness.h"
#include "dr/failover/monitor.h"
#include "dr/failover/monitor_witness.h"
#include "server/http_server.h"
#include "server/server_config.h"

namespace ark::cli {
namespace {

struct MonitorFlags {
  std::string config_file;
  std::string listen;
  std::string data_dir;
  std::string witness;
  std::string etcd_prefix;
  std::string token;
  std::string node_token;
  std::vector<std::string> nodes;
  uint64_t check_interval_ms = 0;
  uint32_t failures = 0;
  uint64_t check_timeout_ms = 0;
  bool no_auto_failover = false;
  std::string hook;
  std::string dns_server, dns_zone, dns_name, dns_type, dns_key_file;
  uint32_t dns_ttl = 0;
  std::string log_level = "info";
  // Options given on the command line (numbers override the file only then).
  std::function<bool(const char*)> given = [](const char*) { return false; };
};

struct MonitorSetup {
  std::string host = "127.0.0.1";
  int port = 19600;
  std::string witness;  // empty: this monitor is the witness
  std::string etcd_prefix = "/ark/cluster/default";
  std::string token;
  dr::MonitorConfig monitor;
};

Status ParseNode(const std::string& text, dr::MonitorNode* n) {
  // NAME=URL[@DNS_VALUE]
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument(fmt::format("--node '{}': expected NAME=http://HOST:PORT[@DNS_VALUE]", text));
  }
  n->name = text.substr(0, eq);
  std::string rest = text.substr(eq + 1);
  size_t at = rest.find('@');
  if (at != std::string::npos) {
    n->dns_value = rest.substr(at + 1);
    rest.resize(at);
  }
  n->url = rest;
  return Status::OK();
}

template <typename T>
Status ReadScalar(const YAML::Node& map, const char* key, T* out, const std::string& source) {
  const YAML::Node v = map[key];
  if (!v) return Status::OK();
  try {
    *out = v.as<T>();
  } catch (const YAML::Exception&) {
    return Status::InvalidArgument(fmt::format("monitor config {}: '{}' has the wrong type", source, key));
  }
  return Status::OK();
}

Status CheckKeys(const YAML::Node& map, std::initializer_list<const char*> known, const std::string& where) {
  for (const auto& kv : map) {
    std::string k = kv.first.as<std::string>();
    bool ok = false;
    for (const char* n : known) ok = ok || k == n;
    if (!ok) return Status::InvalidArgument(fmt::format("monitor config {}: unknown key '{}'", where, k));
  }
  return Status::OK();
}

Status LoadYaml(const std::string& path, MonitorSetup* s) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("monitor config {}: {}", path, e.what()));
  }
  if (!root.IsMap()) return Status::InvalidArgument(fmt::format("monitor config {}: not a YAML mapping", path));
  ARK_RETURN_IF_ERROR(CheckKeys(root,
                                {"listen", "data_dir", "witness", "etcd_prefix", "token", "node_token", "nodes",
                                 "check_interval_ms", "failures", "check_timeout_ms", "auto_failover", "hook",
                                 "hook_timeout_ms", "dns"},
                                path));
  std::string listen;
  ARK_RETURN_IF_ERROR(ReadScalar(root, "listen", &listen, path));
  if (!listen.empty()) ARK_RETURN_IF_ERROR(server::ParseListenAddress(listen, &s->host, &s->port));
  dr::MonitorConfig& m = s->monitor;
  ARK_RETURN_IF_ERROR(ReadScalar(root, "data_dir", &m.data_dir, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "witness", &s->witness, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "etcd_prefix", &s->etcd_prefix, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "token", &s->token, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "node_token", &m.node_token, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "check_interval_ms", &m.check_interval_ms, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "failures", &m.failures, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "check_timeout_ms", &m.check_timeout_ms, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "auto_failover", &m.auto_failover, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "hook", &m.hook, path));
  ARK_RETURN_IF_ERROR(ReadScalar(root, "hook_timeout_ms", &m.hook_timeout_ms, path));
  if (const YAML::Node nodes = root["nodes"]) {
    if (!nodes.IsSequence()) return Status::InvalidArgument(fmt::format("monitor config {}: nodes must be a list", path));
    for (const auto& n : nodes) {
      if (!n.IsMap()) return Status::InvalidArgument(fmt::format("monitor config {}: each node is a mapping", path));
      ARK_RETURN_IF_ERROR(CheckKeys(n, {"name", "url", "dns_value"}, path + " nodes"));
      dr::MonitorNode node;
      ARK_RETURN_IF_ERROR(ReadScalar(n, "name", &node.name, path));
      ARK_RETURN_IF_ERROR(ReadScalar(n, "url", &node.url, path));
      ARK_RETURN_IF_ERROR(ReadScalar(n, "dns_value", &node.dns_value, path));
      m.nodes.push_back(node);
    }
  }
  if (const YAML::Node dns = root["dns"]) {
    if (!dns.IsMap()) return Status::InvalidArgument(fmt::format("monitor config {}: dns must be a mapping", path));
    ARK_RETURN_IF_ERROR(CheckKeys(dns, {"server", "zone", "name", "type", "ttl", "key_file", "timeout_ms"}, path + " dns"));
    dr::DnsUpdateConfig d;
    ARK_RETURN_IF_ERROR(ReadScalar(dns, "server", &d.server, path));
    ARK_RETURN_IF_ERROR(ReadScalar(dns, "zone", &d.zone, path));
    ARK_RETURN_IF_ERROR(ReadScalar(dns, "name", &d.name, path));
    ARK_RETURN_IF_ERROR(ReadScalar(dns, "type", &d.type, path));
    ARK_RETURN_IF_ERROR(ReadScalar(dns, "ttl", &d.ttl, path));
    ARK_RETURN_IF_ERROR(ReadScalar(dns, "key_file", &d.tsig_key_file, path));
    ARK_RETURN_IF_ERROR(ReadScalar(dns, "timeout_ms", &d.timeout_ms, path));
    m.dns = d;
  }
  return Status::OK();
}

Result<MonitorSetup> Configure(const MonitorFlags& f) {
  MonitorSetup s;
  if (!f.config_file.empty()) ARK_RETURN_IF_ERROR(LoadYaml(f.config_file, &s));
  if (!f.listen.empty()) ARK_RETURN_IF_ERROR(server::ParseListenAddress(f.listen, &s.host, &s.port));
  if (!f.data_dir.empty()) s.monitor.data_dir = f.data_dir;
  if (!f.witness.empty()) s.witness = f.witness;
  if (!f.etcd_prefix.empty()) s.etcd_prefix = f.etcd_prefix;
  if (!f.token.empty()) s.token = f.token;
  if (!f.node_token.empty()) s.monitor.node_token = f.node_token;
  for (const auto& n : f.nodes) {
    dr::MonitorNode node;
    ARK_RETURN_IF_ERROR(ParseNode(n, &node));
    s.monitor.nodes.push_back(node);
  }
  if (f.given("--check-interval-ms")) s.monitor.check_interval_ms = f.check_interval_ms;
  if (f.given("--failures")) s.monitor.failures = f.failures;
  if (f.given("--check-timeout-ms")) s.monitor.check_timeout_ms = f.check_timeout_ms;
  if (f.no_auto_failover) s.monitor.auto_failover = false;
  if (!f.hook.empty()) s.monitor.hook = f.hook;
  if (!f.dns_server.empty() || !f.dns_zone.empty() || !f.dns_name.empty()) {
    dr::DnsUpdateConfig d = s.monitor.dns.value_or(dr::DnsUpdateConfig{});
    if (!f.dns_server.empty()) d.server = f.dns_server;
    if (!f.dns_zone.empty()) d.zone = f.dns_zone;
    if (!f.dns_name.empty()) d.name = f.dns_name;
    if (!f.dns_type.empty()) d.type = f.dns_type;
    if (!f.dns_key_file.empty()) d.tsig_key_file = f.dns_key_file;
    if (f.given("--dns-ttl")) d.ttl = f.dns_ttl;
    s.monitor.dns = d;
  }
  if (s.monitor.check_timeout_ms >= s.monitor.check_interval_ms * 4) {
    return Status::InvalidArgument(fmt::format("monitor: check timeout {} ms is too long for a {} ms check interval",
                                               s.monitor.check_timeout_ms, s.monitor.check_interval_ms));
  }
  ARK_RETURN_IF_ERROR(s.monitor.Validate());
  return s;
}

int g_monitor_stop[2] = {-1, -1};

void OnMonitorSignal(int sig) {
  int saved = errno;
  (void)!::write(g_monitor_stop[1], &sig, sizeof(sig));
  errno = saved;
}

Status RunMonitor(const MonitorFlags& flags) {
  ARK_ASSIGN_OR_RETURN(MonitorSetup setup, Configure(flags));
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!kLevels.count(flags.log_level)) {
    return Status::InvalidArgument("--log-level '" + flags.log_level + "' is not one of trace, debug, info, warn, error, critical, off");
  }
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  Env* env = Env::Default();
  ARK_RETURN_IF_ERROR(env->CreateDirs(setup.monitor.data_dir));

  std::unique_ptr<dr::LocalWitness> local;
  std::unique_ptr<dr::Witness> remote;
  dr::Witness* witness = nullptr;
  if (setup.witness.empty()) {
    ARK_ASSIGN_OR_RETURN(local, dr::LocalWitness::Open(env, JoinPath(setup.monitor.data_dir, "witness.json")));
    witness = local.get();
  } else {
    dr::FailoverConfig fc;
    fc.witness = setup.witness;
    fc.name = "monitor";
    fc.etcd_prefix = setup.etcd_prefix;
    ARK_ASSIGN_OR_RETURN(remote, dr::OpenWitness(fc));
    witness = remote.get();
  }

  dr::Monitor monitor(env, witness, setup.monitor);
  ARK_RETURN_IF_ERROR(monitor.Open());

  server::ServerConfig sc;
  sc.host = setup.host;
  sc.port = setup.port;
  sc.auth.admin_token = setup.token;
  sc.access_log = false;
  sc.limits.max_body_bytes = 64 * 1024;
  MetricsRegistry metrics;
  server::HttpServer http(sc, &metrics);
  if (local) {
    dr::LocalWitness* w = local.get();
    http.RegisterAdmin("witness/claim", [w](server::RequestContext& ctx) -> Result<nlohmann::json> {
      ARK_ASSIGN_OR_RETURN(dr::LeaderClaim claim, dr::LeaderClaimFromJson(ctx.body));
      ARK_ASSIGN_OR_RETURN(dr::ClaimAnswer answer, w->Claim(claim));
      return dr::ClaimAnswerToJson(answer);
    });
    http.RegisterAdmin("witness/leader", [w](server::RequestContext&) -> Result<nlohmann::json> {
      ARK_ASSIGN_OR_RETURN(dr::LeaderRecord r, w->Read());
      return dr::LeaderRecordToJson(r);
    });
    http.RegisterAdmin("witness/release", [w](server::RequestContext& ctx) -> Result<nlohmann::json> {
      const auto& b = ctx.body;
      if (!b.contains("holder") || !b["holder"].is_string() || !b.contains("epoch") || !b["epoch"].is_number_unsigned()) {
        return Status::InvalidArgument("witness/release: 'holder' (a string) and 'epoch' (an integer) are required");
      }
      ARK_RETURN_IF_ERROR(w->Release(b["holder"].get<std::string>(), b["epoch"].get<uint64_t>()));
      return nlohmann::json::object();
    });
  }
  http.RegisterAdmin("monitor/status", [&monitor](server::RequestContext&) -> Result<nlohmann::json> {
    return monitor.StatusJson();
  });
  http.RegisterAdmin("monitor/timeline", [&monitor](server::RequestContext&) -> Result<nlohmann::json> {
    return nlohmann::json{{"events", monitor.Timeline()}};
  });
  ARK_RETURN_IF_ERROR(http.Bind());
  http.SetReady(true);

  if (::pipe(g_monitor_stop) != 0) return Status::IOError("pipe for signal handling failed");
  struct sigaction sa {};
  sa.sa_handler = OnMonitorSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  std::atomic<bool> finished{false};
  std::thread waiter([&] {
    int sig = 0;
    while (::read(g_monitor_stop[0], &sig, sizeof(sig)) < 0 && errno == EINTR) {
    }
    if (finished.load()) return;
    spdlog::info("monitor: received {}, stopping", strsignal(sig));
    monitor.Stop();
    http.Stop();
  });
  monitor.Start();
  spdlog::info("ark monitor on http://{}:{} (witness {}, {} nodes, check every {} ms, fail over after {} failures)",
               setup.host, http.port(), witness->Describe(), setup.monitor.nodes.size(),
               setup.monitor.check_interval_ms, setup.monitor.failures);
  Status served = http.Serve();
  finished.store(true);
  int wake = 0;
  (void)!::write(g_monitor_stop[1], &wake, sizeof(wake));
  waiter.join();
  monitor.Stop();
  return served;
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_COMMAND(monitor) {
  using namespace ark::cli;
  auto f = std::make_shared<MonitorFlags>();
  auto* cmd = app.add_subcommand(
      "monitor", "Failover monitor and witness: checks the primary, fails over to the most advanced standby");
  cmd->add_option("--config", f->config_file, "YAML configuration file (docs/failover.md)");
  cmd->add_option("--listen", f->listen, "HOST:PORT to serve the witness and status on (default 127.0.0.1:19600)");
  cmd->add_option("--data-dir", f->data_dir, "Where the lease record and timeline are kept (default ./ark-monitor)");
  cmd->add_option("--node", f->nodes, "A server: NAME=http://HOST:PORT[@DNS_VALUE] (repeat; its failover.name)");
  cmd->add_option("--witness", f->witness, "Use etcd as the witness (etcd://HOST:PORT) instead of this monitor");
  cmd->add_option("--etcd-prefix", f->etcd_prefix, "etcd key prefix (default /ark/cluster/default)");
  cmd->add_option("--token", f->token, "Credential servers and operators present to this monitor");
  cmd->add_option("--node-token", f->node_token, "Admin credential this monitor presents to the servers");
  cmd->add_option("--check-interval-ms", f->check_interval_ms, "Health check interval (default 1000)");
  cmd->add_option("--failures", f->failures, "Consecutive failed checks before failing over (default 3)");
  cmd->add_option("--check-timeout-ms", f->check_timeout_ms, "One health check's timeout (default 1000)");
  cmd->add_flag("--no-auto-failover", f->no_auto_failover, "Detect and report, but do not promote");
  cmd->add_option("--hook", f->hook, "Run after a promotion: HOOK failover NEW_NAME NEW_URL OLD_NAME OLD_URL EPOCH");
  cmd->add_option("--dns-server", f->dns_server, "DNS server for the RFC 2136 update (HOST:PORT)");
  cmd->add_option("--dns-zone", f->dns_zone, "Zone of the record");
  cmd->add_option("--dns-name", f->dns_name, "The record that names the primary (e.g. db.example.com)");
  cmd->add_option("--dns-type", f->dns_type, "A (default), AAAA or CNAME");
  cmd->add_option("--dns-ttl", f->dns_ttl, "TTL of the record (default 30)");
  cmd->add_option("--dns-key-file", f->dns_key_file, "TSIG key file (tsig-keygen's format)");
  cmd->add_option("--log-level", f->log_level, "trace | debug | info | warn | error");
  f->given = [cmd](const char* name) { return cmd->count(name) > 0; };
  cmd->callback([f] {
    if (auto s = RunMonitor(*f); !s.ok()) Fail(s);
  });
}
