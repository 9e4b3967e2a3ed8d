#include "dr/replication/replication_source.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "dr/replication/stream_format.h"
#include "engine/manifest.h"

namespace ark::dr {
namespace {

constexpr size_t kMaxRecordsMessage = 4u << 20;      // bytes of records per RECORDS message
constexpr uint64_t kStatusIntervalMicros = 1'000'000;  // a STATUS at least this often when idle

std::string SlotName(const std::string& standby) { return "repl." + standby; }
std::string PinName(const std::string& standby) { return "replication/" + standby; }

nlohmann::json EpochsJson(const std::vector<EpochStart>& epochs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : epochs) a.push_back({{"epoch", e.epoch}, {"start", e.first.ToString()}});
  return a;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return Status::InvalidArgument("base64 text length is not a multiple of 4");
  std::string out(3 * (text.size() / 4) + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return Status::InvalidArgument("text is not valid base64");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// ---- StreamSession -------------------------------------------------------------

StreamSession::~StreamSession() {
  if (source_) source_->EndSession(this);
}

void StreamSession::Run(const std::function<bool(std::string_view)>& write) {
  ReplicationSource& src = *source_;
  const ReplicationConfig& config = src.config_;
  auto positions = [&] { return src.PositionsJson(); };
  nlohmann::json hello = positions();
  hello["version"] = kReplicationProtocolVersion;
  hello["epochs"] = EpochsJson(src.seam_.EpochHistory());
  hello["mode"] = config.mode;
  hello["periodSeconds"] = config.period_seconds;
  if (!src.Write(this, write, static_cast<int>(StreamMessageType::kHello), hello.dump())) return;
  auto end = [&](int code, const std::string& message, const std::string& action) {
    nlohmann::json e = {{"code", code}, {"message", message}, {"action", action}};
    src.Write(this, write, static_cast<int>(StreamMessageType::kEnd), e.dump());
  };
  const bool periodic = config.mode == "periodic";
  const uint64_t period_micros = static_cast<uint64_t>(config.period_seconds * 1e6);
  uint64_t next_ship = src.env_->NowMicros();
  std::string batch;
  WalRecord record;
  std::string framed;
  while (true) {
    if (!src.SessionCurrent(this)) {
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(src.mu_);
        stopping = src.stopping_;
      }
      end(0, stopping ? "the primary is shutting down" : "a newer stream for standby '" + name_ + "' took over",
          "retry");
      return;
    }
    const uint64_t now = src.env_->NowMicros();
    if (periodic && now < next_ship) {
      // Between bursts: keepalives only.
      {
        std::unique_lock<std::mutex> lock(src.mu_);
        src.cv_.wait_for(lock, std::chrono::microseconds(std::min(next_ship - now, kStatusIntervalMicros)),
                         [&] { return src.stopping_; });
      }
      if (!src.Write(this, write, static_cast<int>(StreamMessageType::kStatus), positions().dump())) return;
      continue;
    }
    auto got = reader_->Next(&record, &framed, kStatusIntervalMicros);
    if (!got.ok()) {
      const Status& s = got.status();
      std::string action = s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kNotFound
                               ? "rebootstrap"
                               : "retry";
      spdlog::warn("replication: stream to standby '{}' ends: {}", name_, s.ToString());
      end(static_cast<int>(s.code()), s.ToString(), action);
      return;
    }
    if (!*got) {
      if (periodic) next_ship = src.env_->NowMicros() + period_micros;
      if (!src.Write(this, write, static_cast<int>(StreamMessageType::kStatus), positions().dump())) return;
      continue;
    }
    batch.clear();
    const uint64_t first_micros = record.timestamp_micros;
    Position last = record.position;
    batch += framed;
    while (batch.size() < kMaxRecordsMessage) {
      auto more = reader_->Next(&record, &framed, 0);
      if (!more.ok() || !*more) break;  // an error shows on the next round
      batch += framed;
      last = record.position;
    }
    {
      std::lock_guard<std::mutex> lock(src.mu_);
      auto& st = src.standbys_[name_];
      st.sent = last;
      st.sent_bytes += batch.size();
      st.in_flight.push_back({last.lsn, first_micros, st.sent_bytes});
    }
    if (!src.Write(this, write, static_cast<int>(StreamMessageType::kRecords), batch)) return;
    if (periodic && reader_->position().lsn >= src.seam_.DurablePosition().lsn) {
      next_ship = src.env_->NowMicros() + period_micros;
    }
  }
}

// ---- ReplicationSource ---------------------------------------------------------

ReplicationSource::ReplicationSource(Env* env, Database* db, ReplicationConfig config)
    : env_(env), db_(db), seam_(db), config_(std::move(config)) {
  // Standbys known from their slots (they survive restarts): shown as
  // disconnected until they reconnect.
  for (const auto& slot : seam_.ListSlots()) {
    if (slot.name.rfind("repl.", 0) != 0) continue;
    auto& st = standbys_[slot.name.substr(5)];
    st.durable = st.written = st.applied = st.sent = slot.restart;
  }
}

ReplicationSource::~ReplicationSource() { Stop(); }

void ReplicationSource::Start() {
  if (config_.mode == "sync") db_->SetCommitGate([this](Position p) { return CommitGate(p); });
}

void ReplicationSource::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  cv_.notify_all();
}

bool ReplicationSource::Write(StreamSession* s, const std::function<bool(std::string_view)>& write, int type,
                              std::string_view payload) {
  std::string message;
  message.reserve(kStreamHeaderBytes + payload.size());
  AppendStreamMessage(static_cast<StreamMessageType>(type), payload, &message);
  if (write(message)) return true;
  spdlog::info("replication: standby '{}' went away", s->name_);
  return false;
}

bool ReplicationSource::SessionCurrent(const StreamSession* s) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = standbys_.find(s->name_);
  return !stopping_ && it != standbys_.end() && it->second.generation == s->generation_;
}

void ReplicationSource::EndSession(const StreamSession* s) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = standbys_.find(s->name_);
  if (it != standbys_.end() && it->second.generation == s->generation_) {
    it->second.connected = false;
    it->second.generation = 0;
  }
  cv_.notify_all();
}

nlohmann::json ReplicationSource::PositionsJson() const {
  return {{"last", seam_.LastPosition().ToString()},
          {"durable", seam_.DurablePosition().ToString()},
          {"nowMicros", env_->WallMicros()}};
}

Result<nlohmann::json> ReplicationSource::Bootstrap(const std::string& name) {
  ARK_RETURN_IF_ERROR(ValidateStandbyName(name));
  const uint64_t ttl = static_cast<uint64_t>(config_.bootstrap_pin_seconds * 1e6);
  ARK_ASSIGN_OR_RETURN(ConsistentCut cut, seam_.GetConsistentCut(PinName(name), ttl));
  const std::string slot = SlotName(name);
  // A standby bootstrapping again starts over: its old slot (maybe
  // invalidated, maybe far behind) is replaced by one at the new cut.
  if (seam_.GetSlot(slot).ok()) ARK_RETURN_IF_ERROR(seam_.DropSlot(slot));
  ARK_RETURN_IF_ERROR(seam_.CreateSlot(slot, cut.manifest.checkpoint, config_.max_slot_bytes));
  nlohmann::json files = nlohmann::json::array();
  for (const auto& hex : cut.manifest.LiveFiles()) {
    ARK_ASSIGN_OR_RETURN(uint64_t size, seam_.FileSize(hex));
    files.push_back({{"sha256", hex}, {"bytes", size}});
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& st = standbys_[name];
    st.sent = st.written = st.durable = st.applied = cut.manifest.checkpoint;
    st.in_flight.clear();
  }
  spdlog::info("replication: standby '{}' bootstraps from manifest {} (checkpoint {}, {} files)", name,
               cut.manifest.version, cut.manifest.checkpoint.ToString(), files.size());
  return nlohmann::json{{"version", kReplicationProtocolVersion},
                        {"manifest", Base64Encode(EncodeManifest(cut.manifest))},
                        {"checkpoint", cut.manifest.checkpoint.ToString()},
                        {"position", cut.position.ToString()},
                        {"epochs", EpochsJson(cut.manifest.epochs)},
                        {"files", files},
                        {"slot", slot},
                        {"pin", PinName(name)}};
}

Status ReplicationSource::FinishBootstrap(const std::string& name) {
  ARK_RETURN_IF_ERROR(ValidateStandbyName(name));
  Status s = seam_.ReleasePin(PinName(name));
  if (s.code() == StatusCode::kNotFound) return Status::OK();  // expired or released already
  return s;
}

std::unique_ptr<StreamSession> ReplicationSource::OpenStream(const std::string& name, Position after,
                                                              const std::vector<EpochStart>& standby_epochs,
                                                              StreamRefusal* refusal) {
  auto refuse = [&](int http, std::string action, Status s) -> std::unique_ptr<StreamSession> {
    *refusal = {http, std::move(action), std::move(s)};
    return nullptr;
  };
  if (Status s = ValidateStandbyName(name); !s.ok()) return refuse(400, "", s);
  const std::string slot = SlotName(name);
  auto info = seam_.GetSlot(slot);
  if (!info.ok()) {
    return refuse(404, "bootstrap",
                  Status::NotFound(fmt::format("the primary has no slot for standby '{}': bootstrap it first", name)));
  }
  // The standby's history must be a prefix of ours: an epoch we do not
  // have, or one that began elsewhere, means it forked (it was promoted, or
  // wrote on its own).
  const std::vector<EpochStart> ours = seam_.EpochHistory();
  for (size_t i = 0; i < standby_epochs.size(); ++i) {
    const EpochStart& e = standby_epochs[i];
    bool known = false;
    for (const auto& o : ours) known = known || (o.epoch == e.epoch && o.first == e.first);
    // The first epoch of a seeded standby may begin later than ours (its
    // log starts at the checkpoint), so only its epoch number must match.
    if (!known && i == 0) {
      for (const auto& o : ours) known = known || o.epoch == e.epoch;
    }
    if (!known) {
      return refuse(409, "rebootstrap",
                    Status::FailedPrecondition(fmt::format(
                        "standby '{}' has forked: its epoch {} starting at {} is not on the primary's history; "
                        "it must re-bootstrap (rewind comes with failback)",
                        name, e.epoch, e.first.ToString())));
    }
  }
  if (info->invalidated) {
    // Its slot gave up holding WAL for it. If the records after its position
    // are still here (it caught up from the WAL archive meanwhile), the slot
    // is armed again there; otherwise it must catch up from the archive or
    // re-bootstrap.
    const uint64_t oldest = seam_.OldestRetainedLsn();
    if (after.lsn + 1 < oldest) {
      return refuse(409, "rebootstrap",
                    Status::FailedPrecondition(fmt::format(
                        "standby '{}' is behind the retained WAL: it asks for the records after {}, the oldest "
                        "kept is lsn {} ({}); it must catch up from the WAL archive (replication.archive_repo) "
                        "or re-bootstrap",
                        name, after.ToString(), oldest, info->invalidated_reason)));
    }
    Status rearmed = seam_.DropSlot(slot);
    if (rearmed.ok()) rearmed = seam_.CreateSlot(slot, after, config_.max_slot_bytes);
    if (!rearmed.ok()) {
      return refuse(409, "rebootstrap",
                    Status::FailedPrecondition(fmt::format("standby '{}' must re-bootstrap: its slot was invalidated "
                                                           "({}) and cannot be armed again at {}: {}",
                                                           name, info->invalidated_reason, after.ToString(),
                                                           rearmed.ToString())));
    }
    spdlog::warn("replication: standby '{}' is back within the retained WAL at {}: its invalidated slot is armed again",
                 name, after.ToString());
    info = seam_.GetSlot(slot);
    if (!info.ok()) return refuse(503, "retry", info.status());
  }
  if (after < info->restart) {
    // The standby is behind its slot (it lost its own WAL?): the records it
    // needs may be gone.
    spdlog::warn("replication: standby '{}' asks from {}, behind its slot at {}", name, after.ToString(),
                 info->restart.ToString());
  }
  auto reader = seam_.OpenTailReader(after, slot);
  if (!reader.ok()) {
    const Status& s = reader.status();
    if (s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kNotFound) {
      return refuse(409, "rebootstrap", s);
    }
    return refuse(503, "retry", s);
  }
  auto session = std::unique_ptr<StreamSession>(new StreamSession());
  session->source_ = this;
  session->name_ = name;
  session->reader_ = std::move(*reader);
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    session->source_ = nullptr;
    return refuse(503, "retry", Status::Unavailable("the primary is shutting down"));
  }
  auto& st = standbys_[name];
  session->generation_ = next_generation_++;
  st.generation = session->generation_;  // an older session for the name sees it is superseded
  st.connected = true;
  st.connected_micros = env_->WallMicros();
  st.sent = after;
  if (st.durable < after) st.durable = st.written = st.applied = after;
  st.in_flight.clear();
  st.sent_bytes = st.acked_bytes = 0;
  spdlog::info("replication: standby '{}' streams after {}", name, after.ToString());
  return session;
}

Result<nlohmann::json> ReplicationSource::Feedback(const std::string& name, Position written, Position durable,
                                                   Position applied) {
  ARK_RETURN_IF_ERROR(ValidateStandbyName(name));
  const Position last = seam_.LastPosition();
  if (durable.lsn > last.lsn || written.lsn > last.lsn || applied.lsn > last.lsn) {
    return Status::InvalidArgument(fmt::format(
        "standby '{}' reports positions past the primary's last record {} (written {}, durable {}, applied {})",
        name, last.ToString(), written.ToString(), durable.ToString(), applied.ToString()));
  }
  if (!seam_.GetSlot(SlotName(name)).ok()) {
    return Status::NotFound(fmt::format("the primary has no slot for standby '{}': bootstrap it first", name));
  }
  Status advanced = seam_.AdvanceSlot(SlotName(name), durable);
  if (!advanced.ok()) return advanced;
  std::lock_guard<std::mutex> lock(mu_);
  auto& st = standbys_[name];
  if (st.durable < durable) st.durable = durable;
  if (st.written < written) st.written = written;
  if (st.applied < applied) st.applied = applied;
  st.feedback_micros = env_->WallMicros();
  while (!st.in_flight.empty() && st.in_flight.front().lsn <= st.durable.lsn) {
    st.acked_bytes = st.in_flight.front().cumulative_bytes;
    st.in_flight.pop_front();
  }
  if (degraded_ && st.durable.lsn >= seam_.DurablePosition().lsn) {
    degraded_ = false;
    spdlog::info("replication: standby '{}' caught up at {}: sync mode again", name, st.durable.ToString());
  }
  cv_.notify_all();
  return PositionsJson();
}

Status ReplicationSource::CommitGate(Position pos) {
  std::unique_lock<std::mutex> lock(mu_);
  auto covered = [&] {
    for (const auto& [name, st] : standbys_) {
      if (st.durable.lsn >= pos.lsn) return true;
    }
    return false;
  };
  if (degraded_ || covered()) return Status::OK();
  ++sync_waits_;
  const auto timeout = std::chrono::milliseconds(config_.sync_timeout_ms);
  while (true) {
    if (cv_.wait_for(lock, timeout, [&] { return stopping_ || degraded_ || covered(); })) {
      if (covered() || degraded_) return Status::OK();
      return Status::Unavailable(fmt::format(
          "the write at {} is durable on the primary but no standby acknowledged it before shutdown", pos.ToString()));
    }
    ++sync_timeouts_;
    if (config_.sync_policy == "degrade") {
      if (!degraded_) {
        degraded_ = true;
        degraded_since_ = env_->WallMicros();
        spdlog::warn("replication: no standby acknowledged {} within {} ms: degraded to async until one catches up",
                     pos.ToString(), config_.sync_timeout_ms);
      }
      return Status::OK();
    }
    spdlog::warn("replication: the write at {} still waits for a standby (sync_policy block)", pos.ToString());
  }
}

double ReplicationSource::LagSecondsLocked(const StandbyState& st, uint64_t now_micros) const {
  if (!st.in_flight.empty()) {
    return now_micros > st.in_flight.front().first_micros
               ? static_cast<double>(now_micros - st.in_flight.front().first_micros) / 1e6
               : 0.0;
  }
  return 0.0;
}

nlohmann::json ReplicationSource::GetStatus() const {
  const Position last = seam_.LastPosition();
  const uint64_t now = env_->WallMicros();
  nlohmann::json standbys = nlohmann::json::array();
  std::map<std::string, WalSlotInfo> slots;
  for (auto& s : seam_.ListSlots()) slots[s.name] = s;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, st] : standbys_) {
    nlohmann::json j = {{"name", name},
                        {"connected", st.connected},
                        {"sent", st.sent.ToString()},
                        {"written", st.written.ToString()},
                        {"durable", st.durable.ToString()},
                        {"applied", st.applied.ToString()},
                        {"lagRecords", last.lsn > st.durable.lsn ? last.lsn - st.durable.lsn : 0},
                        {"lagBytes", st.sent_bytes - st.acked_bytes},
                        {"lagSeconds", LagSecondsLocked(st, now)},
                        {"lastFeedbackMicros", st.feedback_micros}};
    if (auto it = slots.find(SlotName(name)); it != slots.end()) {
      j["slot"] = {{"name", it->first},
                   {"restart", it->second.restart.ToString()},
                   {"retainedBytes", it->second.retained_bytes},
                   {"maxRetainedBytes", it->second.max_retained_bytes},
                   {"invalidated", it->second.invalidated}};
      if (it->second.invalidated) j["slot"]["invalidatedReason"] = it->second.invalidated_reason;
    }
    standbys.push_back(std::move(j));
  }
  nlohmann::json sync = {{"waits", sync_waits_}, {"timeouts", sync_timeouts_}, {"degraded", degraded_}};
  if (degraded_) sync["degradedSinceMicros"] = degraded_since_;
  return {{"mode", config_.mode},
          {"syncPolicy", config_.sync_policy},
          {"syncTimeoutMs", config_.sync_timeout_ms},
          {"periodSeconds", config_.period_seconds},
          {"last", last.ToString()},
          {"durable", seam_.DurablePosition().ToString()},
          {"epoch", seam_.CurrentEpoch()},
          {"sync", sync},
          {"standbys", standbys}};
}

void ReplicationSource::AddMetrics(MetricsRegistry* metrics) {
  metrics->Describe("ark_replication_standby_connected", "1 while the standby's stream is connected");
  metrics->Describe("ark_replication_standby_lag_records", "WAL records the standby does not have durably yet");
  metrics->Describe("ark_replication_standby_lag_bytes", "Bytes sent to the standby and not yet durable there");
  metrics->Describe("ark_replication_standby_lag_seconds", "Age of the oldest record sent and not yet durable on the standby");
  metrics->Describe("ark_replication_sync_degraded", "1 while sync replication has degraded to async");
  metrics->Describe("ark_replication_sync_timeouts_total", "Sync-mode writes that timed out waiting for a standby");
  metrics->AddCollector([this](MetricsRegistry& m) {
    const Position last = seam_.LastPosition();
    const uint64_t now = env_->WallMicros();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, st] : standbys_) {
      MetricLabels l{{"standby", name}};
      m.SetGauge("ark_replication_standby_connected", l, st.connected ? 1 : 0);
      m.SetGauge("ark_replication_standby_lag_records", l,
                 static_cast<double>(last.lsn > st.durable.lsn ? last.lsn - st.durable.lsn : 0));
      m.SetGauge("ark_replication_standby_lag_bytes", l, static_cast<double>(st.sent_bytes - st.acked_bytes));
      m.SetGauge("ark_replication_standby_lag_seconds", l, LagSecondsLocked(st, now));
    }
    m.SetGauge("ark_replication_sync_degraded", {}, degraded_ ? 1 : 0);
    m.SetGauge("ark_replication_sync_timeouts_total", {}, static_cast<double>(sync_timeouts_));
  });
}

}  // namespace ark::dr
