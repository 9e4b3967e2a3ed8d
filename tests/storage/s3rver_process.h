// S3rverProcess: a real S3-protocol server (s3rver from npm) on loopback for
// tests, started on a free port in a fresh directory and stopped (SIGTERM,
// then SIGKILL) when the object is destroyed.
//
// s3rver.js is found through, in order: $ARK_S3RVER_JS (the script),
// $ARK_NODE_MODULES (a node_modules directory), or tests/node/node_modules
// next to this file in the source tree. If none exists, Start() returns
// FailedPrecondition: S3 tests must fail, not pass silently, unless the
// caller checks S3TestsSkipped() ($ARK_SKIP_S3 set) first.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "support/test_util.h"

extern char** environ;

namespace ark::testing {

inline bool S3TestsSkipped() {
  const char* v = std::getenv("ARK_SKIP_S3");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

inline std::string FindS3rverScript() {
  auto exists = [](const std::string& p) { return ::access(p.c_str(), R_OK) == 0; };
  if (const char* s = std::getenv("ARK_S3RVER_JS"); s && exists(s)) return s;
  if (const char* d = std::getenv("ARK_NODE_MODULES")) {
    std::string p = std::string(d) + "/s3rver/bin/s3rver.js";
    if (exists(p)) return p;
  }
  std::string here = __FILE__;  // .../tests/storage/s3rver_process.h
  std::string tests = here.substr(0, here.rfind('/'));
  tests = tests.substr(0, tests.rfind('/'));
  std::string p = tests + "/node/node_modules/s3rver/bin/s3rver.js";
  if (exists(p)) return p;
  return "";
}

// A TCP port on 127.0.0.1 that was free a moment ago.
inline int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool PortAcceptsConnections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

class S3rverProcess {
 public:
  static constexpr const char* kBucket = "ark-test";
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  S3rverProcess() = default;
  ~S3rverProcess() { Stop(); }

  Status Start() {
    std::string script = FindS3rverScript();
    if (script.empty()) {
      return Status::FailedPrecondition(
          "s3rver is not installed: run `npm ci` in tests/node (scripts/run-tests.sh does) or "
          "set ARK_NODE_MODULES; set ARK_SKIP_S3=1 to skip the S3 tests on purpose");
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = PickFreePort();
      std::vector<std::string> args = {"node", script, "-d", dir_.path(), "-a", "127.0.0.1",
                                       "-p", std::to_string(port_), "--silent",
                                       "--configure-bucket", kBucket};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      std::vector<std::string> env_strings = {"NODE_OPTIONS=--openssl-legacy-provider"};
      for (char** e = environ; *e != nullptr; ++e) {
        if (std::string(*e).rfind("NODE_OPTIONS=", 0) != 0) env_strings.emplace_back(*e);
      }
      std::vector<char*> envp;
      for (auto& e : env_strings) envp.push_back(e.data());
      envp.push_back(nullptr);
      if (::posix_spawnp(&pid_, "node", nullptr, nullptr, argv.data(), envp.data()) != 0) {
        pid_ = -1;
        return Status::FailedPrecondition("cannot run node (is Node.js installed?)");
      }
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (std::chrono::steady_clock::now() < deadline) {
        int wstatus = 0;
        if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
          pid_ = -1;
          break;  // exited (port taken?): try another port
        }
        if (PortAcceptsConnections(port_)) return Status::OK();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      Stop();
    }
    return Status::Unavailable("s3rver did not start listening on 127.0.0.1");
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 250; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace ark::testing
