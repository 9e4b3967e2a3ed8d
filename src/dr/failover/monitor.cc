#include "dr/failover/monitor.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "core/position.h"

extern char** environ;

namespace ark::dr {

namespace {

// Past the witness's expiry, so the next read sees the lease ended.
constexpr uint64_t kLeaseExpirySlackMs = 20;
// A repeated event that cannot make progress is logged again after this.
constexpr uint64_t kRepeatEventMs = 30000;

std::string HostOf(const std::string& url) {
  std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  if (!rest.empty() && rest[0] == '[') return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.rfind(':'));
}

}  // namespace

Status MonitorConfig::Validate() const {
  if (data_dir.empty()) return Status::InvalidArgument("monitor: data_dir must not be empty");
  if (nodes.size() < 2) {
    return Status::InvalidArgument(fmt::format(
        "monitor: {} node(s) configured; failover needs at least 2 (a primary and a standby)", nodes.size()));
  }
  std::set<std::string> names;
  for (const auto& n : nodes) {
    LeaderClaim probe{n.name, n.url, 1, 1000};
    if (Status s = ValidateLeaderClaim(probe); !s.ok()) return s.WithContext("monitor node");
    if (!names.insert(n.name).second) return Status::InvalidArgument("monitor: node '" + n.name + "' is listed twice");
    ARK_RETURN_IF_ERROR(ValidateBaseUrl(n.url, "monitor node '" + n.name + "' url"));
  }
  if (check_interval_ms < 50 || check_interval_ms > 600000) {
    return Status::InvalidArgument(fmt::format("monitor: check interval {} ms must be 50 ms..10 min", check_interval_ms));
  }
  if (failures < 1 || failures > 100) {
    return Status::InvalidArgument(fmt::format("monitor: failures {} must be 1..100", failures));
  }
  if (check_timeout_ms < 10 || check_timeout_ms > 60000) {
    return Status::InvalidArgument(fmt::format("monitor: check timeout {} ms must be 10 ms..60 s", check_timeout_ms));
  }
  if (!hook.empty() && ::access(hook.c_str(), X_OK) != 0) {
    return Status::InvalidArgument(fmt::format("monitor: hook '{}' is not an executable file", hook));
  }
  if (dns) ARK_RETURN_IF_ERROR(ValidateDnsUpdateConfig(*dns).WithContext("monitor dns"));
  return Status::OK();
}

Monitor::Monitor(Env* env, Witness* witness, MonitorConfig config)
    : env_(env), witness_(witness), config_(std::move(config)) {}

Monitor::~Monitor() { Stop(); }

Status Monitor::Open() {
  ARK_RETURN_IF_ERROR(config_.Validate());
  ARK_RETURN_IF_ERROR(env_->CreateDirs(config_.data_dir));
  ARK_ASSIGN_OR_RETURN(timeline_file_, env_->NewAppendableFile(JoinPath(config_.data_dir, "timeline.jsonl")));
  Event("monitor-started", {{"nodes", config_.nodes.size()}, {"witness", witness_->Describe()},
                            {"checkIntervalMs", config_.check_interval_ms}, {"failures", config_.failures}});
  return Status::OK();
}

HttpCallOptions Monitor::CallOptions() const {
  HttpCallOptions o;
  o.token = config_.node_token;
  o.ca_file = config_.node_ca_file;
  o.timeout_ms = static_cast<uint32_t>(config_.check_timeout_ms);
  return o;
}

const MonitorNode* Monitor::FindNode(const std::string& name) const {
  for (const auto& n : config_.nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

void Monitor::Event(const std::string& kind, nlohmann::json details) {
  const uint64_t wall = env_->WallMicros();
  nlohmann::json e = {{"event", kind}, {"atMicros", wall}};
  std::lock_guard<std::mutex> lock(mu_);
  if (incident_start_micros_ != 0) e["sinceFirstFailureMs"] = (wall - incident_start_micros_) / 1000.0;
  for (auto& [k, v] : details.items()) e[k] = v;
  spdlog::info("monitor: {}", e.dump());
  timeline_.push_back(e);
  if (timeline_.size() > 1000) timeline_.erase(timeline_.begin());
  if (timeline_file_) {
    Status s = timeline_file_->Append(e.dump() + "\n");
    if (s.ok()) s = timeline_file_->Sync();
    if (!s.ok()) spdlog::warn("monitor: cannot write the timeline: {}", s.message());
  }
}

void Monitor::CheckOnce() {
  auto rec = witness_->Read();
  if (!rec.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = "witness-unreachable: " + rec.status().message();
    spdlog::warn("monitor: cannot read the witness {}: {}", witness_->Describe(), rec.status().message());
    return;  // nothing is decided without the witness
  }
  if (!rec->exists) {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = "waiting for a primary to claim the lease";
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (rec->holder != leader_name_ || rec->epoch != leader_epoch_) {
      leader_name_ = rec->holder;
      leader_epoch_ = rec->epoch;
      ResetIncidentLocked();
      seen_connected_.clear();
      last_primary_status_ = nullptr;
    }
  }
  std::string url = rec->url;
  if (const MonitorNode* n = FindNode(rec->holder); n != nullptr) url = n->url;
  auto probe = GetProbe(url, "/primary", CallOptions());
  bool healthy = probe.ok() && probe->status == 200;
  if (healthy) {
    // Remember how it replicates while it can say (sync mode limits the
    // choice). Not a health check: a busy primary gets more time.
    HttpCallOptions status_options = CallOptions();
    status_options.timeout_ms = std::max<uint32_t>(status_options.timeout_ms, 2000);
    auto st = PostJson(url, "/ark/v1/replication/status", nlohmann::json::object(), status_options);
    std::lock_guard<std::mutex> lock(mu_);
    if (consecutive_failures_ > 0) spdlog::info("monitor: {} answers again", rec->holder);
    ResetIncidentLocked();
    phase_ = "watching";
    if (st.ok()) {
      last_primary_status_ = *st;
      if (st->contains("standbys") && (*st)["standbys"].is_array()) {
        for (const auto& s : (*st)["standbys"]) {
          if (s.is_object() && s.value("connected", false) && s.contains("name") && s["name"].is_string()) {
            seen_connected_.insert(s["name"].get<std::string>());
          }
        }
      }
    }
    return;
  }
  std::string why = !probe.ok() ? probe.status().message()
                                : fmt::format("/primary answered {}: {}", probe->status, probe->body.dump());
  uint32_t failures;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (consecutive_failures_ == 0) incident_start_micros_ = env_->WallMicros();
    failures = ++consecutive_failures_;
  }
  if (failures <= config_.failures) {
    Event("check-failed", {{"leader", rec->holder}, {"epoch", rec->epoch}, {"failure", failures},
                           {"of", config_.failures}, {"reason", why}});
  }
  if (failures < config_.failures) {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = fmt::format("leader {} failed {}/{} checks", rec->holder, failures, config_.failures);
    return;
  }
  if (!config_.auto_failover) {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = fmt::format("leader {} is down (automatic failover is off)", rec->holder);
    return;
  }
  if (rec->live()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      phase_ = fmt::format("leader {} is down; waiting {} ms for its lease to expire", rec->holder, rec->remaining_ms);
      // Check again just after the lease ends rather than up to an interval later.
      next_check_ms_ = rec->remaining_ms + kLeaseExpirySlackMs;
    }
    if (failures == config_.failures) Event("waiting-for-lease", {{"leader", rec->holder}, {"remainingMs", rec->remaining_ms}});
    return;
  }
  FailOver(*rec);
}

void Monitor::ResetIncidentLocked() {
  consecutive_failures_ = 0;
  incident_start_micros_ = 0;
  lease_expired_logged_ = false;
  last_repeat_event_.clear();
  last_repeat_event_micros_ = 0;
}

void Monitor::RepeatableEvent(const std::string& kind, nlohmann::json details) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string key = kind + details.dump();
    const uint64_t now = env_->NowMicros();
    if (key == last_repeat_event_ && now - last_repeat_event_micros_ < kRepeatEventMs * 1000) return;
    last_repeat_event_ = std::move(key);
    last_repeat_event_micros_ = now;
  }
  Event(kind, std::move(details));
}

uint64_t Monitor::NextCheckDelayMs() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t ms = config_.check_interval_ms;
  if (next_check_ms_ != 0) ms = std::min(ms, next_check_ms_);
  next_check_ms_ = 0;
  return ms;
}

void Monitor::FailOver(const LeaderRecord& leader) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first = !lease_expired_logged_;
    lease_expired_logged_ = true;
  }
  if (first) Event("lease-expired", {{"leader", leader.holder}, {"epoch", leader.epoch}});
  bool sync_mode = false;
  std::set<std::string> sync_ok;  // standbys the primary last saw connected and acknowledging
  {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = "failing over";
    const auto& st = last_primary_status_;
    if (st.is_object() && st.contains("mode") && st["mode"] == "sync") {
      sync_mode = !(st.contains("sync") && st["sync"].is_object() && st["sync"].value("degraded", false));
      sync_ok = seen_connected_;
    }
  }
  // The most advanced standby of the leader's history.
  const MonitorNode* best = nullptr;
  Position best_pos;
  uint64_t best_epoch = 0;
  nlohmann::json candidates = nlohmann::json::array();
  for (const auto& n : config_.nodes) {
    if (n.name == leader.holder) continue;
    nlohmann::json c = {{"name", n.name}};
    auto st = PostJson(n.url, "/ark/v1/replication/status", nlohmann::json::object(), CallOptions());
    if (!st.ok()) {
      c["skipped"] = st.status().message();
      candidates.push_back(c);
      continue;
    }
    std::string role = st->contains("role") && (*st)["role"].is_string() ? (*st)["role"].get<std::string>() : "";
    auto pos = Position::Parse(st->contains("lastPosition") && (*st)["lastPosition"].is_string()
                                   ? (*st)["lastPosition"].get<std::string>() : "");
    uint64_t epoch = st->contains("epoch") && (*st)["epoch"].is_number_unsigned() ? (*st)["epoch"].get<uint64_t>() : 0;
    c["role"] = role;
    c["position"] = pos.ok() ? pos->ToString() : "?";
    if (role != "standby") {
      c["skipped"] = "not a standby";
    } else if (!pos.ok()) {
      c["skipped"] = "no position in its status";
    } else if (epoch > leader.epoch) {
      c["skipped"] = fmt::format("it is in epoch {}, past the leader's {}", epoch, leader.epoch);
    } else if (sync_mode && !sync_ok.count(n.name)) {
      c["skipped"] = "sync replication: the primary never reported it connected (it may lack acknowledged writes)";
    } else if (best == nullptr || *pos > best_pos) {
      best = &n;
      best_pos = *pos;
      best_epoch = epoch;
    }
    candidates.push_back(c);
  }
  if (best == nullptr) {
    RepeatableEvent("no-candidate", {{"candidates", candidates}});
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = "leader down; no standby can be promoted";
    return;
  }
  const uint64_t epoch = std::max(leader.epoch, best_epoch) + 1;
  Event("candidate-chosen", {{"name", best->name}, {"position", best_pos.ToString()}, {"candidates", candidates},
                             {"syncMode", sync_mode}});
  auto claim = witness_->Claim(LeaderClaim{best->name, best->url, epoch, leader.ttl_ms ? leader.ttl_ms : 5000});
  if (!claim.ok() || !claim->granted) {
    RepeatableEvent("claim-refused", {{"name", best->name}, {"epoch", epoch},
                                      {"reason", claim.ok() ? LeaderRecordDescription(claim->record) : claim.status().message()}});
    return;  // the old primary renewed in time, or the witness is unreachable: next check decides
  }
  Event("lease-claimed", {{"name", best->name}, {"epoch", epoch}});
  HttpCallOptions promote_options = CallOptions();
  promote_options.timeout_ms = std::max<uint32_t>(promote_options.timeout_ms, 30000);
  auto promoted = PostJson(best->url, "/ark/v1/failover/promote", {{"epoch", epoch}}, promote_options);
  if (!promoted.ok()) {
    Event("promotion-failed", {{"name", best->name}, {"epoch", epoch}, {"reason", promoted.status().message()}});
    return;  // the reserved lease expires; the next check fails over again
  }
  Event("promoted", {{"name", best->name}, {"epoch", epoch}, {"report", *promoted}});
  SwitchTraffic(*best, leader, epoch);
  // Ready: the new primary answers /primary (it holds its lease).
  const uint64_t deadline = env_->NowMicros() + 30'000'000;
  while (env_->NowMicros() < deadline) {
    auto p = GetProbe(best->url, "/primary", CallOptions());
    if (p.ok() && p->status == 200) break;
    std::unique_lock<std::mutex> lock(thread_mu_);
    if (wake_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stop_; })) return;
  }
  nlohmann::json summary;
  {
    std::lock_guard<std::mutex> lock(mu_);
    summary = {{"from", leader.holder}, {"to", best->name}, {"epoch", epoch},
               {"firstFailureMicros", incident_start_micros_}, {"report", *promoted}};
  }
  Event("new-primary-ready", {{"name", best->name}, {"epoch", epoch}});
  std::lock_guard<std::mutex> lock(mu_);
  summary["readyMicros"] = env_->WallMicros();
  summary["rtoSeconds"] = incident_start_micros_ ? (env_->WallMicros() - incident_start_micros_) / 1e6 : 0.0;
  last_failover_ = summary;
  ++failovers_;
  phase_ = "watching";
  consecutive_failures_ = 0;
  incident_start_micros_ = 0;
}

void Monitor::SwitchTraffic(const MonitorNode& node, const LeaderRecord& old, uint64_t epoch) {
  if (config_.dns) {
    std::string value = node.dns_value.empty() ? HostOf(node.url) : node.dns_value;
    Status s = UpdateDnsRecord(*config_.dns, value);
    if (s.ok()) {
      Event("dns-updated", {{"name", config_.dns->name}, {"value", value}, {"server", config_.dns->server}});
    } else {
      Event("dns-update-failed", {{"name", config_.dns->name}, {"value", value}, {"reason", s.message()}});
    }
  }
  if (!config_.hook.empty()) {
    Status s = RunHook(node, old, epoch);
    if (s.ok()) {
      Event("hook-ran", {{"hook", config_.hook}});
    } else {
      Event("hook-failed", {{"hook", config_.hook}, {"reason", s.message()}});
    }
  }
}

Status Monitor::RunHook(const MonitorNode& node, const LeaderRecord& old, uint64_t epoch) {
  std::string epoch_text = std::to_string(epoch);
  std::vector<std::string> args = {config_.hook, "failover", node.name, node.url, old.holder, old.url, epoch_text};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, config_.hook.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0) return Status::IOError(fmt::format("cannot start hook {}: {}", config_.hook, strerror(rc)));
  const uint64_t deadline = env_->NowMicros() + config_.hook_timeout_ms * 1000;
  int wstatus = 0;
  while (true) {
    pid_t done = waitpid(pid, &wstatus, WNOHANG);
    if (done == pid) break;
    if (done < 0) return Status::IOError(fmt::format("waiting for hook {}: {}", config_.hook, strerror(errno)));
    if (env_->NowMicros() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wstatus, 0);
      return Status::TimedOut(fmt::format("hook {} ran past {} ms and was killed", config_.hook, config_.hook_timeout_ms));
    }
    usleep(5000);  // a child exiting wakes nothing we can wait on portably with a timeout
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return Status::OK();
  if (WIFEXITED(wstatus)) return Status::Internal(fmt::format("hook {} exited with {}", config_.hook, WEXITSTATUS(wstatus)));
  return Status::Internal(fmt::format("hook {} was killed by signal {}", config_.hook, WTERMSIG(wstatus)));
}

void Monitor::Start() {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(thread_mu_);
    while (!stop_) {
      lock.unlock();
      CheckOnce();
      const uint64_t delay_ms = NextCheckDelayMs();
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(delay_ms), [this] { return stop_; });
    }
  });
}

void Monitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

nlohmann::json Monitor::StatusJson() {
  auto rec = witness_->Read();
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : config_.nodes) nodes.push_back({{"name", n.name}, {"url", n.url}});
  nlohmann::json j = {{"phase", phase_},
                      {"witness", witness_->Describe()},
                      {"nodes", nodes},
                      {"checkIntervalMs", config_.check_interval_ms},
                      {"failuresToFailOver", config_.failures},
                      {"consecutiveFailures", consecutive_failures_},
                      {"autoFailover", config_.auto_failover},
                      {"failovers", failovers_},
                      // Sync mode promotes only these: standbys the leader has
                      // reported connected since the monitor started.
                      {"standbysSeenConnected", seen_connected_}};
  if (rec.ok()) {
    j["leader"] = {{"exists", rec->exists}, {"holder", rec->holder}, {"url", rec->url}, {"epoch", rec->epoch},
                   {"remainingMs", rec->remaining_ms}, {"live", rec->live()}};
  } else {
    j["leaderError"] = rec.status().message();
  }
  if (!last_failover_.is_null()) j["lastFailover"] = last_failover_;
  return j;
}

nlohmann::json Monitor::Timeline() {
  std::lock_guard<std::mutex> lock(mu_);
  return timeline_;
}

}  // namespace ark::dr
