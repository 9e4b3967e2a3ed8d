#include "cli/admin_client.h"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cli/progress_display.h"

namespace ark::cli {
namespace {

// "http://host:port" or "host:port" -> (scheme+host, port) for httplib.
Status SplitServer(const std::string& server, std::string* base) {
  std::string s = server;
  if (s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0) s = "http://" + s;
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.find(':', s.find("//") + 2) == std::string::npos) {
    return Status::InvalidArgument(fmt::format("--server '{}': expected http://HOST:PORT", server));
  }
  *base = s;
  return Status::OK();
}

StatusCode CodeFromName(const std::string& name) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    if (StatusCodeName(static_cast<StatusCode>(c)) == name) return static_cast<StatusCode>(c);
  }
  return StatusCode::kInternal;
}

}  // namespace

Result<nlohmann::json> CallAdmin(const std::string& server, const std::string& token, const std::string& route,
                                 const nlohmann::json& body) {
  std::string base;
  ARK_RETURN_IF_ERROR(SplitServer(server, &base));
  httplib::Client client(base);
  client.set_read_timeout(60, 0);
  httplib::Headers headers;
  std::string credential = token;
  if (credential.empty()) {
    if (const char* t = std::getenv("ARK_ADMIN_TOKEN")) credential = t;
  }
  if (!credential.empty()) headers.emplace("Authorization", "Bearer " + credential);
  auto r = client.Post(("/ark/v1/" + route).c_str(), headers, body.dump(), "application/json");
  if (!r) {
    return Status::Unavailable(fmt::format("cannot reach {}: {}", base, httplib::to_string(r.error())));
  }
  auto reply = nlohmann::json::parse(r->body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("code")) {
    return Status::Unavailable(fmt::format("{} answered HTTP {} without a JSON envelope", base, r->status));
  }
  if (reply["code"] != 0) {
    return Status::FailedPrecondition(fmt::format("{} /ark/v1/{}: code {}: {}", base, route, reply["code"].dump(),
                                                  reply.value("message", std::string("(no message)"))));
  }
  return reply.value("data", nlohmann::json::object());
}

Result<nlohmann::json> RunAdminJob(const std::string& server, const std::string& token, const std::string& route,
                                   const nlohmann::json& body, bool quiet) {
  ARK_ASSIGN_OR_RETURN(nlohmann::json started, CallAdmin(server, token, route, body));
  if (!started.contains("jobId") || !started["jobId"].is_string()) {
    return Status::Internal(fmt::format("/ark/v1/{} answered without a jobId", route));
  }
  const std::string id = started["jobId"];
  dr::Progress progress;
  nlohmann::json job;
  {
    ProgressDisplay display(&progress, id, quiet);
    for (;;) {
      ARK_ASSIGN_OR_RETURN(job, CallAdmin(server, token, "jobs/get", {{"jobId", id}}));
      if (progress.started_micros == 0) progress.started_micros = job.value("startedMicros", uint64_t{0});
      const auto& p = job["progress"];
      progress.files_done = p.value("filesDone", uint64_t{0});
      progress.files_total = p.value("filesTotal", uint64_t{0});
      progress.bytes_done = p.value("bytesDone", uint64_t{0});
      progress.bytes_total = p.value("bytesTotal", uint64_t{0});
      progress.bytes_transferred = p.value("bytesTransferred", uint64_t{0});
      if (job.value("state", std::string()) != "running") break;
      // Polling interval, not synchronisation: the server owns the job's state.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  if (job["state"] != "succeeded") {
    const auto& e = job.value("error", nlohmann::json::object());
    return Status(CodeFromName(e.value("code", std::string("Internal"))),
                  fmt::format("{} {}: {}", id, job.value("state", std::string()), e.value("message", std::string())));
  }
  return job;
}

}  // namespace ark::cli
