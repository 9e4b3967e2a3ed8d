#include "server/server_config.h"

#include "dr/backup/backup_state.h"
#include "dr/backup/retention.h"
#include "dr/repository/repository.h"
#include "dr/schedule/cron.h"
#include "storage/env.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ark::server {
namespace {

// Walks one YAML mapping, rejecting keys it was not told about.
class MappingReader {
 public:
  MappingReader(const YAML::Node& node, std::string path, const std::string& source)
      : node_(node), path_(std::move(path)), source_(source) {}

  Status CheckIsMap() const {
    if (!node_ || node_.IsNull()) return Status::OK();
    if (!node_.IsMap()) return Error(path_.empty() ? "(top level)" : path_, "must be a mapping");
    return Status::OK();
  }
  Status Error(const std::string& key, const std::string& what) const {
    return Status::InvalidArgument("config " + source_ + ": " + key + " " + what);
  }
  std::string Key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

  template <typename T>
  Status Read(const std::string& key, T* out, const char* type_name) {
    known_.insert(key);
    if (!node_ || !node_.IsMap() || !node_[key]) return Status::OK();
    const YAML::Node& v = node_[key];
    try {
      if (!v.IsScalar()) return Error(Key(key), std::string("must be ") + type_name);
      *out = v.as<T>();
    } catch (const YAML::Exception&) {
      return Error(Key(key), std::string("must be ") + type_name + ", got '" +
                                 v.as<std::string>("?") + "'");
    }
    return Status::OK();
  }
  YAML::Node Child(const std::string& key) {
    known_.insert(key);
    return node_ && node_.IsMap() ? node_[key] : YAML::Node();
  }
  Status RejectUnknown() const {
    if (!node_ || !node_.IsMap()) return Status::OK();
    for (const auto& kv : node_) {
      auto k = kv.first.as<std::string>("");
      if (!known_.count(k)) return Error(Key(k), "is not a known setting");
    }
    return Status::OK();
  }

 private:
  YAML::Node node_;
  std::string path_;
  const std::string& source_;
  std::set<std::string> known_;
};

Status ReadLimits(const YAML::Node& node, const std::string& source, LimitsConfig* l) {
  MappingReader r(node, "limits", source);
  ARK_RETURN_IF_ERROR(r.CheckIsMap());
  ARK_RETURN_IF_ERROR(r.Read("max_body_bytes", &l->max_body_bytes, "a byte count"));
  ARK_RETURN_IF_ERROR(r.Read("max_rows_per_insert", &l->max_rows_per_insert, "a count"));
  ARK_RETURN_IF_ERROR(r.Read("max_limit_offset", &l->max_limit_offset, "a count"));
  ARK_RETURN_IF_ERROR(r.Read("max_concurrent_requests", &l->max_concurrent_requests, "a count"));
  ARK_RETURN_IF_ERROR(r.Read("request_timeout_seconds", &l->default_request_timeout_seconds,
                             "a number of seconds"));
  ARK_RETURN_IF_ERROR(r.Read("worker_threads", &l->worker_threads, "a count"));
  ARK_RETURN_IF_ERROR(r.Read("keep_alive_max_requests", &l->keep_alive_max_requests, "a count"));
  return r.RejectUnknown();
}

Status ReadAuth(const YAML::Node& node, const std::string& source, AuthConfig* a) {
  MappingReader r(node, "auth", source);
  ARK_RETURN_IF_ERROR(r.CheckIsMap());
  ARK_RETURN_IF_ERROR(r.Read("token", &a->token, "a string"));
  ARK_RETURN_IF_ERROR(r.Read("admin_token", &a->admin_token, "a string"));
  ARK_RETURN_IF_ERROR(r.Read("replication_token", &a->replication_token, "a string"));
  YAML::Node users = r.Child("users");
  if (users && !users.IsNull()) {
    if (!users.IsMap()) return r.Error("auth.users", "must map user names to passwords");
    for (const auto& kv : users) {
      auto name = kv.first.as<std::string>("");
      if (name.empty() || name.find(':') != std::string::npos || !kv.second.IsScalar()) {
        return r.Error("auth.users." + name, "must be a user name without ':' and a password");
      }
      a->users[name] = kv.second.as<std::string>();
    }
  }
  return r.RejectUnknown();
}

Status ReadSchedules(const YAML::Node& node, const std::string& source, std::vector<BackupScheduleConfig>* out) {
  if (!node || node.IsNull()) return Status::OK();
  if (!node.IsSequence()) {
    return Status::InvalidArgument("config " + source + ": schedules must be a list of backup schedules");
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "schedules[" + std::to_string(i) + "]";
    MappingReader r(node[i], path, source);
    ARK_RETURN_IF_ERROR(r.CheckIsMap());
    BackupScheduleConfig s;
    ARK_RETURN_IF_ERROR(r.Read("name", &s.name, "a name"));
    ARK_RETURN_IF_ERROR(r.Read("cron", &s.cron, "a cron expression"));
    ARK_RETURN_IF_ERROR(r.Read("repo", &s.repo, "a repository URL"));
    ARK_RETURN_IF_ERROR(r.Read("key_file", &s.key_file, "a path"));
    ARK_RETURN_IF_ERROR(r.Read("passphrase_file", &s.passphrase_file, "a path"));
    ARK_RETURN_IF_ERROR(r.Read("parallel", &s.parallel, "a count"));
    YAML::Node collections = r.Child("collections");
    if (collections && !collections.IsNull()) {
      if (!collections.IsSequence()) return r.Error(path + ".collections", "must be a list of collection names");
      for (const auto& c : collections) {
        if (!c.IsScalar()) return r.Error(path + ".collections", "must be a list of collection names");
        s.collections.push_back(c.as<std::string>());
      }
    }
    MappingReader k(r.Child("retention"), path + ".retention", source);
    ARK_RETURN_IF_ERROR(k.CheckIsMap());
    ARK_RETURN_IF_ERROR(k.Read("keep_last", &s.keep_last, "a count"));
    ARK_RETURN_IF_ERROR(k.Read("keep_days", &s.keep_days, "a count"));
    ARK_RETURN_IF_ERROR(k.Read("keep_daily", &s.keep_daily, "a count"));
    ARK_RETURN_IF_ERROR(k.Read("keep_weekly", &s.keep_weekly, "a count"));
    ARK_RETURN_IF_ERROR(k.Read("keep_monthly", &s.keep_monthly, "a count"));
    ARK_RETURN_IF_ERROR(k.RejectUnknown());
    ARK_RETURN_IF_ERROR(r.RejectUnknown());
    if (s.name.empty() || s.cron.empty() || s.repo.empty()) {
      return r.Error(path, "needs name, cron and repo");
    }
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status ReadArchive(const YAML::Node& node, const std::string& source, dr::ArchiveConfig* a) {
  MappingReader r(node, "archive", source);
  ARK_RETURN_IF_ERROR(r.CheckIsMap());
  ARK_RETURN_IF_ERROR(r.Read("repo", &a->repo, "a repository URL"));
  ARK_RETURN_IF_ERROR(r.Read("key_file", &a->key_file, "a path"));
  ARK_RETURN_IF_ERROR(r.Read("passphrase_file", &a->passphrase_file, "a path"));
  ARK_RETURN_IF_ERROR(r.Read("interval_seconds", &a->interval_seconds, "a number of seconds"));
  ARK_RETURN_IF_ERROR(r.Read("max_spool_bytes", &a->max_spool_bytes, "a byte count"));
  ARK_RETURN_IF_ERROR(r.Read("on_spool_full", &a->on_spool_full, "invalidate or stop-writes"));
  ARK_RETURN_IF_ERROR(r.Read("max_range_bytes", &a->max_range_bytes, "a byte count"));
  ARK_RETURN_IF_ERROR(r.Read("ship_bytes", &a->ship_bytes, "a byte count"));
  ARK_RETURN_IF_ERROR(r.Read("slot", &a->slot, "a slot name"));
  ARK_RETURN_IF_ERROR(r.RejectUnknown());
  if (node && node.IsMap() && a->repo.empty()) return r.Error("archive.repo", "is required when archive: is given");
  return Status::OK();
}

Status ReadReplication(const YAML::Node& node, const std::string& source, dr::ReplicationConfig* c) {
  MappingReader r(node, "replication", source);
  ARK_RETURN_IF_ERROR(r.CheckIsMap());
  ARK_RETURN_IF_ERROR(r.Read("primary", &c->primary, "a URL"));
  ARK_RETURN_IF_ERROR(r.Read("name", &c->name, "a standby name"));
  ARK_RETURN_IF_ERROR(r.Read("token", &c->token, "a string"));
  ARK_RETURN_IF_ERROR(r.Read("token_file", &c->token_file, "a path"));
  ARK_RETURN_IF_ERROR(r.Read("ca_file", &c->ca_file, "a path"));
  ARK_RETURN_IF_ERROR(r.Read("archive_repo", &c->archive_repo, "a repository URL"));
  ARK_RETURN_IF_ERROR(r.Read("archive_key_file", &c->archive_key_file, "a path"));
  ARK_RETURN_IF_ERROR(r.Read("archive_passphrase_file", &c->archive_passphrase_file, "a path"));
  ARK_RETURN_IF_ERROR(r.Read("mode", &c->mode, "async, sync or periodic"));
  ARK_RETURN_IF_ERROR(r.Read("sync_timeout_ms", &c->sync_timeout_ms, "a number of milliseconds"));
  ARK_RETURN_IF_ERROR(r.Read("sync_policy", &c->sync_policy, "degrade or block"));
  ARK_RETURN_IF_ERROR(r.Read("period_seconds", &c->period_seconds, "a number of seconds"));
  ARK_RETURN_IF_ERROR(r.Read("max_slot_bytes", &c->max_slot_bytes, "a byte count"));
  ARK_RETURN_IF_ERROR(r.Read("bootstrap_pin_seconds", &c->bootstrap_pin_seconds, "a number of seconds"));
  return r.RejectUnknown();
}

Status ReadFailover(const YAML::Node& node, const std::string& source, dr::FailoverConfig* c) {
  MappingReader r(node, "failover", source);
  ARK_RETURN_IF_ERROR(r.CheckIsMap());
  ARK_RETURN_IF_ERROR(r.Read("witness", &c->witness, "a URL (http://MONITOR:PORT or etcd://HOST:PORT)"));
  ARK_RETURN_IF_ERROR(r.Read("name", &c->name, "this server's name"));
  ARK_RETURN_IF_ERROR(r.Read("advertise_url", &c->advertise_url, "a URL"));
  ARK_RETURN_IF_ERROR(r.Read("witness_token", &c->witness_token, "a string"));
  ARK_RETURN_IF_ERROR(r.Read("witness_token_file", &c->witness_token_file, "a path"));
  ARK_RETURN_IF_ERROR(r.Read("witness_ca_file", &c->witness_ca_file, "a path"));
  ARK_RETURN_IF_ERROR(r.Read("etcd_prefix", &c->etcd_prefix, "a key prefix"));
  ARK_RETURN_IF_ERROR(r.Read("lease_ttl_ms", &c->lease_ttl_ms, "a number of milliseconds"));
  ARK_RETURN_IF_ERROR(r.Read("renew_interval_ms", &c->renew_interval_ms, "a number of milliseconds"));
  ARK_RETURN_IF_ERROR(r.Read("margin_ms", &c->margin_ms, "a number of milliseconds"));
  ARK_RETURN_IF_ERROR(r.Read("witness_timeout_ms", &c->witness_timeout_ms, "a number of milliseconds"));
  ARK_RETURN_IF_ERROR(r.Read("rejoin", &c->rejoin, "manual or auto"));
  return r.RejectUnknown();
}

Status ReadDrillSchedules(const YAML::Node& node, const std::string& source, std::vector<DrillScheduleConfig>* out) {
  if (!node || node.IsNull()) return Status::OK();
  if (!node.IsSequence()) {
    return Status::InvalidArgument("config " + source + ": drills.schedules must be a list of drill schedules");
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "drills.schedules[" + std::to_string(i) + "]";
    MappingReader r(node[i], path, source);
    if (!node[i].IsMap()) return r.Error(path, "must be a mapping");
    DrillScheduleConfig s;
    ARK_RETURN_IF_ERROR(r.Read("name", &s.name, "a name"));
    ARK_RETURN_IF_ERROR(r.Read("scenario", &s.scenario, "a drill scenario (restore-check)"));
    ARK_RETURN_IF_ERROR(r.Read("cron", &s.cron, "a cron expression"));
    ARK_RETURN_IF_ERROR(r.Read("repo", &s.repo, "a repository URL"));
    ARK_RETURN_IF_ERROR(r.Read("key_file", &s.key_file, "a path"));
    ARK_RETURN_IF_ERROR(r.Read("passphrase_file", &s.passphrase_file, "a path"));
    ARK_RETURN_IF_ERROR(r.Read("to_latest", &s.to_latest, "true or false"));
    ARK_RETURN_IF_ERROR(r.Read("samples", &s.samples, "a count"));
    ARK_RETURN_IF_ERROR(r.RejectUnknown());
    for (const char* key : {"name", "scenario", "cron", "repo"}) {
      if (!node[i][key]) return r.Error(path, std::string("needs ") + key + " (name, scenario, cron and repo are required)");
    }
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status ReadDrills(const YAML::Node& node, const std::string& source, DrillsConfig* c) {
  MappingReader r(node, "drills", source);
  ARK_RETURN_IF_ERROR(r.CheckIsMap());
  ARK_RETURN_IF_ERROR(r.Read("report_dir", &c->report_dir, "a directory"));
  ARK_RETURN_IF_ERROR(ReadDrillSchedules(r.Child("schedules"), source, &c->schedules));
  ARK_RETURN_IF_ERROR(r.Read("check_interval_seconds", &c->check_interval_seconds, "a number of seconds"));
  ARK_RETURN_IF_ERROR(r.RejectUnknown());
  if (!(c->check_interval_seconds == 0 || (c->check_interval_seconds >= 1 && c->check_interval_seconds <= 86400))) {
    return r.Error("drills.check_interval_seconds",
                   fmt::format("{} must be 0 (off) or 1..86400", c->check_interval_seconds));
  }
  return Status::OK();
}

}  // namespace

std::string ServerConfig::DrillReportDir() const {
  return drills.report_dir.empty() ? JoinPath(data_dir, "drills") : drills.report_dir;
}

Status ParseListenAddress(const std::string& text, std::string* host, int* port) {
  auto colon = text.rfind(':');
  auto bad = [&] {
    return Status::InvalidArgument("listen address '" + text + "' is not HOST:PORT (e.g. 127.0.0.1:19530)");
  };
  if (colon == std::string::npos) return bad();
  std::string h = text.substr(0, colon), p = text.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return bad();
  }
  int n = std::stoi(p);
  if (n < 0 || n > 65535) return bad();
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  *host = h.empty() ? "127.0.0.1" : h;
  *port = n;
  return Status::OK();
}

Result<ServerConfig> ServerConfig::FromYaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config " + source + ": not valid YAML: " + e.what());
  }
  ServerConfig c;
  MappingReader r(root, "", source);
  ARK_RETURN_IF_ERROR(r.CheckIsMap());
  ARK_RETURN_IF_ERROR(r.Read("data_dir", &c.data_dir, "a path"));
  std::string listen;
  ARK_RETURN_IF_ERROR(r.Read("listen", &listen, "HOST:PORT"));
  if (!listen.empty()) {
    ARK_RETURN_IF_ERROR(ParseListenAddress(listen, &c.host, &c.port).WithContext("config " + source));
  }
  ARK_RETURN_IF_ERROR(r.Read("wal_sync", &c.wal_sync, "every_commit, batched or none"));
  ARK_RETURN_IF_ERROR(r.Read("wal_segment_bytes", &c.wal_segment_bytes, "a byte count"));
  ARK_RETURN_IF_ERROR(r.Read("access_log", &c.access_log, "true or false"));
  ARK_RETURN_IF_ERROR(r.Read("log_level", &c.log_level, "a level"));
  ARK_RETURN_IF_ERROR(r.Read("seal_age_seconds", &c.seal_age_seconds, "a number of seconds"));
  {
    MappingReader t(r.Child("tls"), "tls", source);
    ARK_RETURN_IF_ERROR(t.CheckIsMap());
    ARK_RETURN_IF_ERROR(t.Read("cert_file", &c.tls.cert_file, "a path"));
    ARK_RETURN_IF_ERROR(t.Read("key_file", &c.tls.key_file, "a path"));
    ARK_RETURN_IF_ERROR(t.RejectUnknown());
  }
  {
    MappingReader g(r.Child("grpc"), "grpc", source);
    ARK_RETURN_IF_ERROR(g.CheckIsMap());
    ARK_RETURN_IF_ERROR(g.Read("enabled", &c.grpc.enabled, "true or false"));
    ARK_RETURN_IF_ERROR(g.Read("tls_port", &c.grpc.tls_port, "a port number"));
    ARK_RETURN_IF_ERROR(g.RejectUnknown());
  }
  ARK_RETURN_IF_ERROR(ReadAuth(r.Child("auth"), source, &c.auth));
  ARK_RETURN_IF_ERROR(ReadLimits(r.Child("limits"), source, &c.limits));
  // Sections added by later features (backups, replication) are read by
  // their own modules; they are listed here so the top level stays strict.
  ARK_RETURN_IF_ERROR(ReadSchedules(r.Child("schedules"), source, &c.schedules));
  ARK_RETURN_IF_ERROR(ReadArchive(r.Child("archive"), source, &c.archive));
  ARK_RETURN_IF_ERROR(ReadReplication(r.Child("replication"), source, &c.replication));
  ARK_RETURN_IF_ERROR(ReadFailover(r.Child("failover"), source, &c.failover));
  ARK_RETURN_IF_ERROR(ReadDrills(r.Child("drills"), source, &c.drills));
  ARK_RETURN_IF_ERROR(r.RejectUnknown());
  ARK_RETURN_IF_ERROR(c.Validate().WithContext("config " + source));
  return c;
}

Result<ServerConfig> ServerConfig::FromFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
    // An ifstream opens a directory and reads nothing: an empty config.
    return Status::InvalidArgument("config file " + path + " is not a regular file");
  }
  std::ifstream in(path);
  if (!in) return Status::NotFound("config file " + path + " cannot be opened");
  std::stringstream ss;
  ss << in.rdbuf();
  return FromYaml(ss.str(), path);
}

Status ServerConfig::Validate() const {
  if (data_dir.empty()) return Status::InvalidArgument("data_dir must not be empty");
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument("port " + std::to_string(port) + " is outside 0..65535");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return Status::InvalidArgument("tls needs both cert_file and key_file");
  }
  if (grpc.tls_port < 0 || grpc.tls_port > 65535) {
    return Status::InvalidArgument("grpc.tls_port " + std::to_string(grpc.tls_port) + " is outside 0..65535");
  }
  if (wal_sync != "every_commit" && wal_sync != "batched" && wal_sync != "none") {
    return Status::InvalidArgument("wal_sync '" + wal_sync +
                                   "' is not one of every_commit, batched, none");
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!kLevels.count(log_level)) {
    return Status::InvalidArgument("log_level '" + log_level +
                                   "' is not one of trace, debug, info, warn, error, critical, off");
  }
  for (const auto& [key, value] : {std::pair<const char*, uint32_t>{"max_concurrent_requests", limits.max_concurrent_requests},
                                    {"worker_threads", limits.worker_threads},
                                    {"keep_alive_max_requests", limits.keep_alive_max_requests}}) {
    if (value == 0) return Status::InvalidArgument(std::string("limits.") + key + " must be > 0, got 0");
  }
  if (limits.max_body_bytes < 1024) {
    return Status::InvalidArgument("limits.max_body_bytes must be at least 1024");
  }
  if (wal_segment_bytes < (1u << 20) || wal_segment_bytes > (1ull << 30)) {
    return Status::InvalidArgument("wal_segment_bytes must be 1 MiB..1 GiB (1048576..1073741824), got " +
                                   std::to_string(wal_segment_bytes));
  }
  if (!(seal_age_seconds > 0) || seal_age_seconds > 365.0 * 86400) {
    return Status::InvalidArgument("seal_age_seconds must be > 0 and at most a year (" +
                                   std::to_string(365 * 86400) + "), got " + std::to_string(seal_age_seconds));
  }
  if (!(limits.default_request_timeout_seconds > 0)) {
    return Status::InvalidArgument("limits.request_timeout_seconds must be > 0");
  }
  ARK_RETURN_IF_ERROR(archive.Validate());
  ARK_RETURN_IF_ERROR(replication.Validate());
  ARK_RETURN_IF_ERROR(failover.Validate());
  std::set<std::string> schedule_names;
  for (const auto& s : schedules) {
    const std::string where = "schedule '" + s.name + "'";
    // Backups of a schedule are named "<name>-YYYYMMDD-HHMMSS" (16 more characters).
    if (Status n = dr::ValidateBackupName(s.name); !n.ok() || s.name.size() > 100) {
      return Status::InvalidArgument(where + ": the name must be 1..100 characters of A-Z a-z 0-9 . _ -");
    }
    if (!schedule_names.insert(s.name).second) return Status::InvalidArgument(where + " is defined twice");
    if (auto c = dr::CronSchedule::Parse(s.cron); !c.ok()) return c.status().WithContext(where);
    if (s.parallel < 1 || s.parallel > 64) return Status::InvalidArgument(where + ": parallel must be 1..64");
    for (const auto& c : s.collections) {
      if (auto n = dr::ParseCollectionName(c); !n.ok()) return n.status().WithContext(where);
    }
    dr::RetentionPolicy p{s.keep_last, s.keep_days, s.keep_daily, s.keep_weekly, s.keep_monthly};
    if (!p.empty()) {
      if (auto d = dr::DecideRetention(p, {}, 0); !d.ok()) return d.status().WithContext(where + " retention");
    }
  }
  std::set<std::string> drill_names;
  for (size_t i = 0; i < drills.schedules.size(); ++i) {
    const DrillScheduleConfig& s = drills.schedules[i];
    const std::string where = "drills.schedules[" + std::to_string(i) + "]";
    ARK_RETURN_IF_ERROR(dr::ValidateDrillSchedule(s, where));
    if (!drill_names.insert(s.name).second) {
      return Status::InvalidArgument(where + ".name '" + s.name + "' is defined twice");
    }
  }
  return Status::OK();
}

}  // namespace ark::server
