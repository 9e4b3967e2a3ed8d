#include "dr/replication/standby.h"

#include <httplib.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/hash.h"
#include "dr/jobs/parallel_for.h"
#include "dr/replication/archive_catchup.h"
#include "dr/replication/replication_source.h"
#include "dr/replication/stream_format.h"
#include "engine/dr_seam.h"
#include "engine/manifest.h"
#include "storage/env.h"

namespace ark::dr {

struct Standby::Client {
  httplib::Client http;
  explicit Client(const std::string& base) : http(base) {}
};

namespace {

constexpr uint64_t kFeedbackIntervalMicros = 5'000'000;

std::string MarkerPath(const std::string& dir) { return JoinPath(dir, kStandbyMarkerFile); }

// The `data` of a Milvus envelope, or its error.
Result<nlohmann::json> EnvelopeData(const httplib::Result& r, const std::string& what, std::string* action = nullptr) {
  if (!r) return Status::Unavailable(fmt::format("{}: {}", what, httplib::to_string(r.error())));
  auto body = nlohmann::json::parse(r->body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("code")) {
    return Status::Unavailable(fmt::format("{}: HTTP {} without a JSON envelope", what, r->status));
  }
  if (body["code"] != 0) {
    if (action && body.contains("data") && body["data"].is_object() && body["data"].contains("action")) {
      *action = body["data"]["action"].get<std::string>();
    }
    StatusCode code = r->status == 404 ? StatusCode::kNotFound
                      : r->status == 409 ? StatusCode::kFailedPrecondition
                      : r->status == 400 ? StatusCode::kInvalidArgument
                      : r->status == 401 ? StatusCode::kPermissionDenied
                                         : StatusCode::kUnavailable;
    return Status(code, fmt::format("{}: HTTP {}: {}", what, r->status, body.value("message", body.dump())));
  }
  return body.contains("data") ? body["data"] : nlohmann::json::object();
}

nlohmann::json EpochsJson(const std::vector<EpochStart>& epochs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : epochs) a.push_back({{"epoch", e.epoch}, {"start", e.first.ToString()}});
  return a;
}

}  // namespace

Result<StandbyMarker> ReadStandbyMarker(Env* env, const std::string& data_dir) {
  const std::string path = MarkerPath(data_dir);
  if (!env->FileExists(path)) return Status::NotFound(path + " does not exist");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("primary") || !j["primary"].is_string() ||
      !j.contains("name") || !j["name"].is_string()) {
    return Status::Corruption(fmt::format("{}: not a standby marker (expected JSON with primary and name)", path));
  }
  return StandbyMarker{j["primary"].get<std::string>(), j["name"].get<std::string>()};
}

Standby::Standby(Env* env, std::string data_dir, ReplicationConfig config)
    : env_(env), dir_(std::move(data_dir)), config_(std::move(config)) {}

Standby::~Standby() { Stop(); }

std::unique_ptr<Standby::Client> Standby::NewClient(int read_timeout_seconds) const {
  std::string base = config_.primary;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto c = std::make_unique<Client>(base);
  c->http.set_connection_timeout(5, 0);
  c->http.set_read_timeout(read_timeout_seconds, 0);
  c->http.set_write_timeout(30, 0);
  c->http.set_tcp_nodelay(true);
  c->http.set_keep_alive(true);
  if (!config_.ca_file.empty()) c->http.set_ca_cert_path(config_.ca_file);
  c->http.enable_server_certificate_verification(true);
  if (!config_.token.empty()) c->http.set_bearer_token_auth(config_.token);
  return c;
}

Status Standby::Prepare() {
  ARK_RETURN_IF_ERROR(config_.Validate());
  if (!config_.token_file.empty()) {
    std::ifstream in(config_.token_file);
    if (!in) return Status::NotFound("replication.token_file " + config_.token_file + " cannot be read");
    std::getline(in, config_.token);
    if (config_.token.empty()) return Status::InvalidArgument("replication.token_file " + config_.token_file + " is empty");
  }
  if (!config_.ca_file.empty() && !env_->FileExists(config_.ca_file)) {
    return Status::NotFound("replication.ca_file " + config_.ca_file + " does not exist");
  }
  ARK_RETURN_IF_ERROR(env_->CreateDirs(dir_));
  auto marker = ReadStandbyMarker(env_, dir_);
  if (marker.ok()) {
    if (marker->name != config_.name) {
      return Status::FailedPrecondition(fmt::format(
          "{} is the data directory of standby '{}' (of {}), not '{}': start it with --standby-name {}", dir_,
          marker->name, marker->primary, config_.name, marker->name));
    }
    if (marker->primary != config_.primary) {
      spdlog::warn("standby '{}' followed {} and now follows {} (the stream checks the histories agree)",
                   config_.name, marker->primary, config_.primary);
    } else {
      return Status::OK();
    }
  } else if (marker.status().code() != StatusCode::kNotFound) {
    return marker.status();
  } else {
    std::string manifest_file;
    if (LoadCurrentManifest(env_, dir_, &manifest_file).ok()) {
      return Status::FailedPrecondition(fmt::format(
          "{} holds a database that is not a standby: a standby starts from an empty directory (it copies the "
          "primary's files); use another --data-dir",
          dir_));
    }
  }
  nlohmann::json j = {{"version", 1}, {"primary", config_.primary}, {"name", config_.name}};
  const std::string tmp = MarkerPath(dir_) + ".tmp";
  ARK_ASSIGN_OR_RETURN(auto f, env_->NewWritableFile(tmp));
  ARK_RETURN_IF_ERROR(f->Append(j.dump() + "\n"));
  ARK_RETURN_IF_ERROR(f->Sync());
  ARK_RETURN_IF_ERROR(f->Close());
  ARK_RETURN_IF_ERROR(env_->RenameFile(tmp, MarkerPath(dir_)));
  return env_->SyncDir(dir_);
}

Status Standby::EnsureBootstrapped(const std::atomic<bool>* stop) {
  std::string manifest_file;
  if (LoadCurrentManifest(env_, dir_, &manifest_file).ok()) return Status::OK();
  SetState("bootstrapping");
  const uint64_t started = env_->NowMicros();
  uint64_t backoff_ms = 200;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++boot_.attempts;
    }
    Status s = BootstrapOnce(stop);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      boot_.done = true;
      boot_.seconds = static_cast<double>(env_->NowMicros() - started) / 1e6;
      return s;
    }
    if (stop && stop->load()) return Status::Cancelled("stopped while bootstrapping");
    if (s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kPermissionDenied ||
        s.code() == StatusCode::kCorruption) {
      return s.WithContext("bootstrap from " + config_.primary);
    }
    spdlog::warn("standby: bootstrap from {} failed ({}); retrying in {} ms (files in place are kept)",
                 config_.primary, s.ToString(), backoff_ms);
    SetState("bootstrapping", s.ToString());
    for (uint64_t waited = 0; waited < backoff_ms && !(stop && stop->load()); waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    backoff_ms = std::min<uint64_t>(backoff_ms * 2, 10'000);
  }
}

Status Standby::DownloadFile(Client& client, const std::string& hex, uint64_t bytes) {
  const std::string dest = DrSeam::FileDestination(dir_, hex);
  const std::string tmp = dest + ".part";
  ARK_ASSIGN_OR_RETURN(auto out, env_->NewWritableFile(tmp));
  Sha256Hasher hasher;
  Status write_error;
  uint64_t got = 0;
  int http_status = 0;
  std::string error_body;
  // httplib hands the body over in 4 KiB pieces: gathered into 1 MiB before
  // hashing and writing, that is 256 times fewer write(2) calls (the
  // bootstrap's largest cost after the network, docs/benchmarks/replication.md).
  constexpr size_t kWriteChunk = 1u << 20;
  std::string pending;
  pending.reserve(kWriteChunk);
  auto drain = [&]() -> bool {
    if (pending.empty()) return true;
    hasher.Update(pending.data(), pending.size());
    write_error = out->Append(pending);
    pending.clear();
    return write_error.ok();
  };
  auto r = client.http.Get(
      "/ark/v1/replication/files/" + hex,
      [&](const httplib::Response& res) {
        http_status = res.status;
        return true;
      },
      [&](const char* data, size_t n) {
        if (http_status != 200) {
          error_body.append(data, std::min<size_t>(n, 4096));
          return true;
        }
        got += n;
        pending.append(data, n);
        return pending.size() < kWriteChunk || drain();
      });
  if (r && write_error.ok()) drain();
  auto cleanup = [&] {
    (void)out->Close();
    (void)env_->RemoveFile(tmp);
  };
  if (!r) {
    cleanup();
    return Status::Unavailable(fmt::format("fetching file {} from {}: {}", hex, config_.primary,
                                           httplib::to_string(r.error())));
  }
  if (!write_error.ok()) {
    cleanup();
    return write_error;
  }
  if (http_status != 200) {
    cleanup();
    return Status(http_status == 404 ? StatusCode::kNotFound : StatusCode::kUnavailable,
                  fmt::format("fetching file {} from {}: HTTP {}: {}", hex, config_.primary, http_status, error_body));
  }
  const std::string actual = ToHex(hasher.Finish());
  if (actual != hex || (bytes != UINT64_MAX && got != bytes)) {
    cleanup();
    return Status::Unavailable(fmt::format("file {} from {} arrived as {} bytes with SHA-256 {}: refused", hex,
                                           config_.primary, got, actual));
  }
  ARK_RETURN_IF_ERROR(out->Sync());
  ARK_RETURN_IF_ERROR(out->Close());
  ARK_RETURN_IF_ERROR(env_->RenameFile(tmp, dest));
  std::lock_guard<std::mutex> lock(mu_);
  ++files_fetched_;
  file_bytes_fetched_ += got;
  return Status::OK();
}

Status Standby::BootstrapOnce(const std::atomic<bool>* stop) {
  auto client = NewClient(600);
  const nlohmann::json req = {{"version", kReplicationProtocolVersion}, {"standby", config_.name}};
  ARK_ASSIGN_OR_RETURN(nlohmann::json data,
                       EnvelopeData(client->http.Post("/ark/v1/replication/bootstrap", req.dump(), "application/json"),
                                    "bootstrap from " + config_.primary));
  if (!data.contains("manifest") || !data["manifest"].is_string() || !data.contains("files") ||
      !data["files"].is_array()) {
    return Status::Corruption("bootstrap answer from " + config_.primary + " lacks manifest or files");
  }
  ARK_ASSIGN_OR_RETURN(std::string manifest_bytes, Base64Decode(data["manifest"].get<std::string>()));
  ARK_ASSIGN_OR_RETURN(Manifest manifest, DecodeManifest(manifest_bytes, "the manifest from " + config_.primary));
  ARK_RETURN_IF_ERROR(DrSeam::PrepareDirectory(env_, dir_));
  struct Want {
    std::string hex;
    uint64_t bytes;
  };
  std::vector<Want> wanted;
  uint64_t kept = 0;
  for (const auto& f : data["files"]) {
    if (!f.is_object() || !f.contains("sha256") || !f["sha256"].is_string() || !f.contains("bytes") ||
        !f["bytes"].is_number_unsigned()) {
      return Status::Corruption("bootstrap answer from " + config_.primary + ": a malformed file entry");
    }
    std::string hex = f["sha256"].get<std::string>();
    if (!IsSha256Hex(hex)) return Status::Corruption("bootstrap answer names a file that is not a SHA-256: " + hex);
    uint64_t bytes = f["bytes"].get<uint64_t>();
    auto size = env_->GetFileSize(DrSeam::FileDestination(dir_, hex));
    if (size.ok() && *size == bytes) {
      ++kept;  // written under its hash after a check: complete
      continue;
    }
    wanted.push_back({std::move(hex), bytes});
  }
  for (const auto& hex : manifest.LiveFiles()) {
    bool listed = false;
    for (const auto& f : data["files"]) listed = listed || f["sha256"] == hex;
    if (!listed) return Status::Corruption("bootstrap answer omits file " + hex + " its manifest names");
  }
  spdlog::info("standby: bootstrapping from {} (manifest {}, checkpoint {}): {} files to fetch, {} already here",
               config_.primary, manifest.version, manifest.checkpoint.ToString(), wanted.size(), kept);
  {
    std::lock_guard<std::mutex> lock(mu_);
    boot_.files_total = wanted.size();
    boot_.bytes_total = 0;
    for (const auto& w : wanted) boot_.bytes_total += w.bytes;
    boot_.files_kept = kept;
    boot_.files_done = boot_.bytes_done = 0;
  }
  // One keep-alive connection per worker: a pool the workers take from.
  std::mutex pool_mu;
  std::vector<std::unique_ptr<Client>> pool;
  const int parallel = static_cast<int>(std::min<size_t>(4, std::max<size_t>(1, wanted.size())));
  ARK_RETURN_IF_ERROR(ParallelFor(wanted.size(), parallel, stop, [&](size_t i) -> Status {
    std::unique_ptr<Client> c;
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      if (!pool.empty()) {
        c = std::move(pool.back());
        pool.pop_back();
      }
    }
    if (!c) c = NewClient(600);
    Status s = DownloadFile(*c, wanted[i].hex, wanted[i].bytes);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++boot_.files_done;
      boot_.bytes_done += wanted[i].bytes;
    }
    std::lock_guard<std::mutex> lock(pool_mu);
    pool.push_back(std::move(c));
    return s;
  }));
  // The records between the manifest's checkpoint and the cut: the manifest
  // already reflects some of them (its applied position may be past its
  // checkpoint), so the seeded WAL must hold them, as a restore's does.
  ARK_ASSIGN_OR_RETURN(Position cut, Position::Parse(data.value("position", "")));
  std::vector<WalRecord> tail;
  if (cut.lsn > manifest.checkpoint.lsn) {
    bool fatal = false;
    ARK_RETURN_IF_ERROR(ReadStream(manifest.checkpoint, manifest.epochs, [&](const WalRecord& r) -> Result<bool> {
      tail.push_back(r);
      return r.position.lsn < cut.lsn && !(stop && stop->load());
    }, &fatal));
    if (stop && stop->load()) return Status::Cancelled("stopped while bootstrapping");
  }
  ARK_RETURN_IF_ERROR(DrSeam::SeedDirectory(env_, dir_, manifest, tail));
  auto finished = client->http.Post("/ark/v1/replication/bootstrap/finish", req.dump(), "application/json");
  if (auto f = EnvelopeData(finished, "bootstrap/finish"); !f.ok()) {
    spdlog::warn("standby: {} (the primary's pin expires by itself)", f.status().ToString());
  }
  spdlog::info("standby: bootstrapped from {} at {} (checkpoint {} + {} records)", config_.primary,
               tail.empty() ? manifest.checkpoint.ToString() : tail.back().position.ToString(),
               manifest.checkpoint.ToString(), tail.size());
  return Status::OK();
}

Result<std::string> Standby::FetchFile(const std::string& sha256_hex) {
  if (!IsSha256Hex(sha256_hex)) return Status::InvalidArgument("not a SHA-256 name: " + sha256_hex);
  auto client = NewClient(600);
  std::string content;
  int http_status = 0;
  auto r = client->http.Get(
      "/ark/v1/replication/files/" + sha256_hex,
      [&](const httplib::Response& res) {
        http_status = res.status;
        return true;
      },
      [&](const char* data, size_t n) {
        content.append(data, n);
        return true;
      });
  Status failed;
  if (!r) {
    failed = Status::Unavailable(fmt::format("fetching file {} from {}: {}", sha256_hex, config_.primary,
                                             httplib::to_string(r.error())));
  } else if (http_status != 200) {
    failed = Status::Unavailable(fmt::format("fetching file {} from {}: HTTP {}: {}", sha256_hex, config_.primary,
                                             http_status, content.substr(0, 4096)));
  }
  if (!failed.ok()) {
    // The primary may have dropped a file an old record names (a standby
    // catching up from the archive): the archive holds every file its
    // ranges add, by the same hash.
    if (config_.archive_repo.empty()) return failed;
    auto repo = ArchiveRepository();
    if (!repo.ok()) return failed.WithContext(repo.status().ToString());
    auto blob = (*repo)->GetBlob(sha256_hex);
    if (!blob.ok()) {
      return Status::Unavailable(fmt::format("{}; and from the archive {}: {}", failed.message(), config_.archive_repo,
                                             blob.status().ToString()));
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++archive_files_;
    return std::move(*blob);
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++files_fetched_;
  file_bytes_fetched_ += content.size();
  return content;  // the Database checks the hash
}

void Standby::SetState(const std::string& state, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = state;
  reason_ = reason;
}

void Standby::Start(Database* db) {
  db_ = db;
  {
    std::lock_guard<std::mutex> lock(mu_);
    applied_ = fed_back_ = db_->wal()->DurablePosition();
  }
  stop_.store(false);
  stream_thread_ = std::thread([this] { StreamLoop(); });
  feedback_thread_ = std::thread([this] { FeedbackLoop(); });
}

void Standby::Stop() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(stream_client_mu_);
    if (stream_client_ != nullptr) stream_client_->http.stop();
    if (feedback_client_ != nullptr) feedback_client_->http.stop();
  }
  if (stream_thread_.joinable()) stream_thread_.join();
  if (feedback_thread_.joinable()) feedback_thread_.join();
}

void Standby::StreamLoop() {
  uint64_t backoff_ms = 200;
  while (!stop_.load()) {
    bool fatal = false;
    uint64_t hello_before;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hello_before = connected_micros_;
    }
    Status s = StreamOnce(&fatal);
    bool was_streaming;
    {
      std::lock_guard<std::mutex> lock(mu_);
      was_streaming = connected_micros_ != hello_before;  // the primary accepted it (HELLO)
    }
    if (stop_.load()) break;
    // A connection the primary accepted starts the backoff over: a cut link
    // is retried quickly however many cuts came before.
    if (was_streaming && !fatal) backoff_ms = 200;
    if (fatal && !config_.archive_repo.empty()) {
      std::string why;
      if (TryArchiveCatchUp(&why)) {
        backoff_ms = 200;  // stream again at once, from where the archive ended
        continue;
      }
      s = Status(s.code(), s.message() + "; " + why);
    }
    if (fatal) {
      spdlog::error("standby: {}", s.ToString());
      SetState("needs-rebootstrap", s.ToString());
      // Stays up serving what it has; the operator re-bootstraps (a new data
      // directory). Checked again rarely in case the primary changes.
      backoff_ms = 30'000;
    } else {
      spdlog::warn("standby: stream from {} ended: {}; reconnecting in {} ms", config_.primary, s.ToString(),
                   backoff_ms);
      SetState("reconnecting", s.ToString());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++reconnects_;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return stop_.load(); });
    if (!fatal) backoff_ms = std::min<uint64_t>(backoff_ms * 2, 10'000);
  }
}

Status Standby::StreamOnce(bool* fatal) {
  const Position after = db_->wal()->DurablePosition();
  return ReadStream(after, db_->EpochHistory(), [&](const WalRecord& record) -> Result<bool> {
    ARK_RETURN_IF_ERROR(db_->AppendReplicated(record).status());
    std::lock_guard<std::mutex> lock(mu_);
    applied_ = record.position;
    ++records_applied_;
    if (applied_.lsn >= primary_durable_.lsn) behind_since_micros_ = 0;
    cv_.notify_all();  // feedback
    return !stop_.load();
  }, fatal);
}

Status Standby::ReadStream(Position after, const std::vector<EpochStart>& epochs,
                           const std::function<Result<bool>(const WalRecord&)>& on_record, bool* fatal) {
  auto client = NewClient(10);  // the primary sends a STATUS every second
  {
    std::lock_guard<std::mutex> lock(stream_client_mu_);
    if (stop_.load()) return Status::Cancelled("standby stopping");
    stream_client_ = client.get();
  }
  struct Unregister {
    Standby* self;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(self->stream_client_mu_);
      self->stream_client_ = nullptr;
    }
  } unregister{this};
  nlohmann::json body = {{"version", kReplicationProtocolVersion},
                         {"standby", config_.name},
                         {"after", after.ToString()},
                         {"epochs", EpochsJson(epochs)}};
  StreamParser parser;
  Status failure;
  bool done = false;  // on_record said enough
  int http_status = 0;
  std::string error_body;
  uint64_t expect_lsn = after.lsn + 1;
  auto handle = [&](const StreamMessage& m) -> Status {
    switch (m.type) {
      case StreamMessageType::kHello:
      case StreamMessageType::kStatus: {
        ARK_ASSIGN_OR_RETURN(StreamPositions p, DecodeStreamPositions(m.type, m.payload));
        std::lock_guard<std::mutex> lock(mu_);
        primary_last_ = p.last;
        primary_durable_ = p.durable;
        primary_now_micros_ = p.now_micros;
        if (applied_.lsn >= primary_durable_.lsn) {
          behind_since_micros_ = 0;
        } else if (behind_since_micros_ == 0) {
          behind_since_micros_ = env_->WallMicros();
        }
        if (m.type == StreamMessageType::kHello && db_ != nullptr) {
          state_ = "streaming";
          reason_.clear();
          connected_micros_ = env_->WallMicros();
          spdlog::info("standby: streaming from {} after {} (primary at {}, mode {})", config_.primary,
                       after.ToString(), p.last.ToString(), p.mode.empty() ? "?" : p.mode);
        }
        return Status::OK();
      }
      case StreamMessageType::kRecords: {
        ARK_RETURN_IF_ERROR(DecodeRecordsPayload(m.payload, &expect_lsn, [&](const WalRecord& record) -> Result<bool> {
          ARK_ASSIGN_OR_RETURN(bool more, on_record(record));
          done = !more;
          return more;
        }));
        std::lock_guard<std::mutex> lock(mu_);
        bytes_received_ += m.payload.size();
        return Status::OK();
      }
      case StreamMessageType::kEnd: {
        StreamEnd e = DecodeStreamEnd(m.payload);
        if (e.action == "rebootstrap" || e.action == "bootstrap") *fatal = true;
        return Status::Unavailable(fmt::format("the primary ended the stream: {} (action: {})", e.message,
                                               e.action.empty() ? "retry" : e.action));
      }
    }
    return Status::Corruption("unknown message");
  };
  httplib::Request req;
  req.method = "POST";
  req.path = "/ark/v1/replication/stream";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.response_handler = [&](const httplib::Response& res) {
    http_status = res.status;
    return true;
  };
  // Stop() cannot interrupt a blocking read; the receiver checks stop_ on
  // every chunk (a STATUS arrives each second).
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (http_status != 200) {
      if (error_body.size() < 65536) error_body.append(data, n);
      return true;
    }
    parser.Feed(std::string_view(data, n));
    StreamMessage m;
    while (!done) {
      auto got = parser.Next(&m);
      if (!got.ok()) {
        failure = got.status();
        return false;
      }
      if (!*got) break;
      Status s = handle(m);
      if (!s.ok()) {
        failure = s;
        return false;
      }
    }
    return !done && !stop_.load();
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  bool sent = client->http.send(req, res, error);
  if (!failure.ok()) return failure;
  if (done) return Status::OK();
  if (stop_.load()) return Status::Cancelled("stopping");
  if (http_status != 0 && http_status != 200) {
    auto j = nlohmann::json::parse(error_body, nullptr, false);
    std::string message = j.is_object() ? j.value("message", error_body) : error_body;
    std::string action;
    if (j.is_object() && j.contains("data") && j["data"].is_object()) action = j["data"].value("action", "");
    if (action == "rebootstrap" || action == "bootstrap" || http_status == 400 || http_status == 401) *fatal = true;
    return Status(http_status == 401 ? StatusCode::kPermissionDenied : StatusCode::kUnavailable,
                  fmt::format("the primary refused the stream: HTTP {}: {}{}", http_status, message,
                              action.empty() ? "" : " (action: " + action + ")"));
  }
  if (!sent) return Status::Unavailable(fmt::format("stream from {}: {}", config_.primary, httplib::to_string(error)));
  return Status::Unavailable("the primary closed the stream");
}

Status Standby::PostFeedback(Client& client) {
  Position applied;
  {
    std::lock_guard<std::mutex> lock(mu_);
    applied = applied_;
  }
  nlohmann::json body = {{"version", kReplicationProtocolVersion},
                         {"standby", config_.name},
                         {"written", applied.ToString()},
                         {"durable", applied.ToString()},
                         {"applied", applied.ToString()},
                         {"nowMicros", env_->WallMicros()}};
  ARK_RETURN_IF_ERROR(
      EnvelopeData(client.http.Post("/ark/v1/replication/feedback", body.dump(), "application/json"), "feedback")
          .status());
  std::lock_guard<std::mutex> lock(mu_);
  fed_back_ = applied;
  return Status::OK();
}

void Standby::FeedbackLoop() {
  auto client = NewClient(10);
  {
    std::lock_guard<std::mutex> lock(stream_client_mu_);
    feedback_client_ = client.get();
  }
  struct Unregister {
    Standby* self;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(self->stream_client_mu_);
      self->feedback_client_ = nullptr;
    }
  } unregister{this};
  uint64_t last_sent = 0;
  while (!stop_.load()) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::microseconds(kFeedbackIntervalMicros),
                   [&] { return stop_.load() || applied_ != fed_back_; });
      if (stop_.load()) break;
      const bool due = env_->NowMicros() - last_sent >= kFeedbackIntervalMicros;
      if (applied_ == fed_back_ && !due) continue;
      if (state_ != "streaming" && !due) continue;
    }
    last_sent = env_->NowMicros();
    if (Status s = PostFeedback(*client); !s.ok()) {
      spdlog::debug("standby: feedback failed: {}", s.ToString());
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stop_.load(); });
    }
  }
}

bool Standby::promoted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !promotion_.is_null();
}

Result<nlohmann::json> Standby::Promote(bool force, uint64_t epoch,
                                        const std::function<Status(uint64_t epoch)>& claim_lease) {
  std::lock_guard<std::mutex> one(promote_mu_);
  if (db_ == nullptr) return Status::FailedPrecondition("this standby has not opened its database yet");
  if (promoted()) return Status::FailedPrecondition("this server was promoted already: it is a primary");
  uint64_t last_contact = 0;
  std::string state;
  Position primary_durable;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state = state_;
    last_contact = primary_now_micros_;
    primary_durable = primary_durable_;
  }
  if (epoch == 0) epoch = db_->CurrentEpoch() + 1;
  if (epoch <= db_->CurrentEpoch()) {
    return Status::FailedPrecondition(
        fmt::format("epoch {} is not above this server's current epoch {}", epoch, db_->CurrentEpoch()));
  }
  if (claim_lease) {
    ARK_RETURN_IF_ERROR(claim_lease(epoch));
  } else if (state == "streaming" && !force) {
    return Status::FailedPrecondition(fmt::format(
        "the primary {} is alive and streaming to this standby: promoting it now would make two primaries that "
        "both take writes. Stop the primary first (or fence it), or pass force to promote anyway",
        config_.primary));
  }
  Stop();  // no record from the old primary after this point
  const Position applied = db_->wal()->DurablePosition();
  ARK_ASSIGN_OR_RETURN(Position started, db_->Promote(epoch));
  const uint64_t now = env_->WallMicros();
  // Records the old primary had durably by its last word here and this
  // server lacks: an async failover loses them unless they come back by
  // failback's rewind (they are not applied anywhere else).
  const uint64_t missing =
      primary_durable.epoch == applied.epoch && primary_durable.lsn > applied.lsn ? primary_durable.lsn - applied.lsn : 0;
  nlohmann::json report = {{"epoch", started.epoch},
                           {"forkPosition", applied.ToString()},
                           {"firstPosition", started.ToString()},
                           {"formerPrimary", config_.primary},
                           {"formerPrimaryDurable", primary_durable.ToString()},
                           {"formerPrimaryLastStatusMicros", last_contact},  // its clock, in its last STATUS
                           {"recordsKnownMissing", missing},
                           {"forced", force},
                           {"leaseClaimed", static_cast<bool>(claim_lease)},
                           {"promotedMicros", now},
                           {"stateBefore", state}};
  // The marker goes (a restart must open it as the primary it now is); the
  // record of the promotion stays beside the data.
  const std::string record = JoinPath(dir_, "PROMOTED");
  ARK_ASSIGN_OR_RETURN(auto f, env_->NewWritableFile(record + ".tmp"));
  ARK_RETURN_IF_ERROR(f->Append(report.dump(2) + "\n"));
  ARK_RETURN_IF_ERROR(f->Sync());
  ARK_RETURN_IF_ERROR(f->Close());
  ARK_RETURN_IF_ERROR(env_->RenameFile(record + ".tmp", record));
  ARK_RETURN_IF_ERROR(env_->RemoveFile(MarkerPath(dir_)));
  ARK_RETURN_IF_ERROR(env_->SyncDir(dir_));
  spdlog::warn("standby '{}' promoted: epoch {} from {} (fork at {}; the former primary {} had {} durable when last "
               "heard, {} records this server lacks{})",
               config_.name, started.epoch, started.ToString(), applied.ToString(), config_.primary,
               primary_durable.ToString(), missing, force ? "; forced" : "");
  std::lock_guard<std::mutex> lock(mu_);
  promotion_ = report;
  state_ = "promoted";
  reason_.clear();
  return report;
}

Result<Repository*> Standby::ArchiveRepository() {
  std::lock_guard<std::mutex> lock(archive_mu_);
  if (!archive_.repo) {
    ARK_ASSIGN_OR_RETURN(EncryptionKey key,
                         KeyFromOptions(env_, config_.archive_key_file, config_.archive_passphrase_file));
    ARK_ASSIGN_OR_RETURN(archive_, OpenRepositoryUrl(env_, config_.archive_repo, key, /*create=*/false));
  }
  return archive_.repo.get();
}

bool Standby::TryArchiveCatchUp(std::string* why) {
  SetState("archive-catch-up", "behind the primary's retained WAL: reading " + config_.archive_repo);
  auto repo = ArchiveRepository();
  Result<ArchiveCatchUpReport> report =
      repo.ok() ? CatchUpFromArchive(*repo, db_, &stop_) : Result<ArchiveCatchUpReport>(repo.status());
  std::lock_guard<std::mutex> lock(mu_);
  ++archive_catchups_;
  applied_ = db_->wal()->DurablePosition();  // what it applied is durable, even if it then failed
  cv_.notify_all();                           // feedback
  if (!report.ok()) {
    *why = "catching up from the archive " + config_.archive_repo + " failed: " + report.status().ToString();
    archive_last_ = *why;
    spdlog::error("standby: {}", *why);
    return false;
  }
  archive_records_ += report->records;
  records_applied_ += report->records;
  archive_last_ = fmt::format("{} records from {} to {} ({} ranges; the archive ends at {}{})", report->records,
                              report->from.ToString(), report->reached.ToString(), report->ranges,
                              report->archive_end.ToString(), report->gap.empty() ? "" : "; gap " + report->gap);
  if (report->records == 0) {
    *why = fmt::format("the archive {} holds nothing after this standby's {} (it ends at {}{})", config_.archive_repo,
                       report->from.ToString(), report->archive_end.ToString(),
                       report->gap.empty() ? "" : ", gap " + report->gap);
    return false;
  }
  return true;
}

nlohmann::json Standby::GetStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  double lag_seconds =
      behind_since_micros_ == 0 ? 0.0 : static_cast<double>(env_->WallMicros() - behind_since_micros_) / 1e6;
  nlohmann::json j = {{"primary", config_.primary},
                      {"name", config_.name},
                      {"state", state_},
                      {"applied", applied_.ToString()},
                      {"durable", applied_.ToString()},
                      {"written", applied_.ToString()},
                      {"acknowledged", fed_back_.ToString()},
                      {"primaryLast", primary_last_.ToString()},
                      {"primaryDurable", primary_durable_.ToString()},
                      {"lagRecords", primary_durable_.lsn > applied_.lsn ? primary_durable_.lsn - applied_.lsn : 0},
                      {"lagSeconds", lag_seconds},
                      {"recordsApplied", records_applied_},
                      {"bytesReceived", bytes_received_},
                      {"filesFetched", files_fetched_},
                      {"fileBytesFetched", file_bytes_fetched_},
                      {"reconnects", reconnects_}};
  if (!reason_.empty()) j["reason"] = reason_;
  if (!promotion_.is_null()) j["promotion"] = promotion_;
  if (boot_.attempts > 0) {
    // This process's bootstrap: progress while it runs, its time once done
    // (files fetched, checked and synced; "filesKept" were already in place).
    j["bootstrap"] = {{"done", boot_.done},
                      {"attempts", boot_.attempts},
                      {"filesTotal", boot_.files_total},
                      {"filesDone", boot_.files_done},
                      {"filesKept", boot_.files_kept},
                      {"bytesTotal", boot_.bytes_total},
                      {"bytesDone", boot_.bytes_done}};
    if (boot_.done) j["bootstrap"]["seconds"] = boot_.seconds;
  }
  if (!config_.archive_repo.empty()) {
    j["archive"] = {{"repo", config_.archive_repo},
                    {"catchUps", archive_catchups_},
                    {"records", archive_records_},
                    {"files", archive_files_},
                    {"last", archive_last_}};
  }
  return j;
}

void Standby::AddMetrics(MetricsRegistry* metrics) {
  metrics->Describe("ark_standby_streaming", "1 while the standby streams from its primary");
  metrics->Describe("ark_standby_lag_records", "Records durable on the primary and not yet applied here");
  metrics->Describe("ark_standby_lag_seconds", "Seconds since the standby was last caught up (0 when it is)");
  metrics->Describe("ark_standby_records_applied_total", "WAL records applied from the primary since start");
  metrics->Describe("ark_standby_reconnects_total", "Stream reconnections since start");
  metrics->AddCollector([this](MetricsRegistry& m) {
    nlohmann::json s = GetStatus();
    m.SetGauge("ark_standby_streaming", {}, s["state"] == "streaming" ? 1 : 0);
    m.SetGauge("ark_standby_lag_records", {}, s["lagRecords"].get<double>());
    m.SetGauge("ark_standby_lag_seconds", {}, s["lagSeconds"].get<double>());
    m.SetGauge("ark_standby_records_applied_total", {}, s["recordsApplied"].get<double>());
    m.SetGauge("ark_standby_reconnects_total", {}, s["reconnects"].get<double>());
  });
}

}  // namespace ark::dr
