#include "dr/drill/scratch_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "dr/failover/http_json.h"

extern char** environ;

namespace ark::dr {

Result<int> FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::IOError(fmt::format("socket: {}", strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    close(fd);
    return Status::IOError(fmt::format("cannot find a free loopback port: {}", strerror(e)));
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

ScratchServer::~ScratchServer() { (void)Stop(); }

Status ScratchServer::Start(const ScratchServerOptions& options) {
  if (pid_ > 0) return Status::FailedPrecondition("the scratch server is already running");
  options_ = options;
  int port = options.port;
  if (port == 0) {
    ARK_ASSIGN_OR_RETURN(port, FreeLoopbackPort());
  }
  url_ = fmt::format("http://127.0.0.1:{}", port);
  std::vector<std::string> args = {options.ark_binary, options.subcommand, "--data-dir", options.data_dir, "--listen",
                                   fmt::format("127.0.0.1:{}", port)};
  if (options.subcommand == "serve") args.push_back("--no-access-log");
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // Nothing else: started from `ark serve` (a scheduled drill), the child
  // would hold the server's listening and client sockets (cpp-httplib does
  // not set close-on-exec) open until it exits.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, options.ark_binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return Status::IOError(fmt::format("cannot start {} serve: {}", options.ark_binary, strerror(rc)));
  }
  pid_ = pid;
  return Status::OK();
}

std::string ScratchServer::LogTail() const {
  auto f = env_->MapFile(options_.log_file);
  if (!f.ok()) return "(no log: " + f.status().message() + ")";
  std::string_view s = (*f)->data();
  return std::string(s.size() > 1500 ? s.substr(s.size() - 1500) : s);
}

Status ScratchServer::WaitReady(uint64_t timeout_ms) {
  if (pid_ <= 0) return Status::FailedPrecondition("the scratch server is not running");
  const uint64_t deadline = env_->NowMicros() + timeout_ms * 1000;
  HttpCallOptions o;
  o.timeout_ms = 1000;
  std::string last = "no answer yet";
  while (true) {
    int wstatus = 0;
    if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      // A port we picked (bound and released) can be taken by another
      // process before the child binds it; then pick another. The child's
      // exit status does not tell a bind failure apart, its log does.
      if (options_.port == 0 && port_retries_ < kPortRetries &&
          LogTail().find("cannot listen on") != std::string::npos) {
        ++port_retries_;
        ARK_RETURN_IF_ERROR(Start(options_));
        continue;
      }
      return Status::Internal(fmt::format("the scratch server ({}) exited before it was ready ({}); its log ends: {}",
                                          url_, WIFEXITED(wstatus) ? fmt::format("exit {}", WEXITSTATUS(wstatus))
                                                                   : fmt::format("signal {}", WTERMSIG(wstatus)),
                                          LogTail()));
    }
    auto probe = GetProbe(url_, "/readyz", o);
    if (probe.ok() && probe->status == 200) return Status::OK();
    last = probe.ok() ? fmt::format("/readyz {} {}", probe->status, probe->body.dump()) : probe.status().message();
    if (env_->NowMicros() > deadline) {
      return Status::TimedOut(fmt::format("the scratch server ({}) was not ready within {} ms: {}", url_, timeout_ms, last));
    }
    // Polling a child process's readiness: nothing to wait on but the socket.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status ScratchServer::Stop(uint64_t grace_ms) {
  if (pid_ <= 0) return Status::OK();
  kill(pid_, SIGTERM);
  const uint64_t deadline = env_->NowMicros() + grace_ms * 1000;
  int wstatus = 0;
  while (waitpid(pid_, &wstatus, WNOHANG) != pid_) {
    if (env_->NowMicros() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wstatus, 0);
      pid_ = -1;
      return Status::TimedOut(fmt::format("the scratch server ({}) did not stop within {} ms and was killed", url_, grace_ms));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return Status::OK();
}

}  // namespace ark::dr
