// An `ark serve` child process on loopback for a drill: the scratch instance
// restore-check recovers into (and later scenarios' fresh instances). It is
// the real server binary, so what the drill measures — start, index load,
// the first correct search — is what an operator's recovery would take.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/env.h"

namespace ark::dr {

struct ScratchServerOptions {
  std::string ark_binary;   // the `ark` executable
  std::string subcommand = "serve";  // or "monitor" (both take --data-dir and --listen)
  int port = 0;             // 0: a free loopback port
  std::string data_dir;
  std::string log_file;     // the child's stdout and stderr
  std::vector<std::string> extra_args;
};

class ScratchServer {
 public:
  // `env`: the clock for timeouts and the door to the log file.
  explicit ScratchServer(Env* env) : env_(env) {}
  ~ScratchServer();  // stops it
  ScratchServer(const ScratchServer&) = delete;
  ScratchServer& operator=(const ScratchServer&) = delete;

  // Starts it on options.port, or a free loopback port.
  Status Start(const ScratchServerOptions& options);
  // Polls /readyz until 200, the child exits (its log's tail is in the
  // error) or timeout_ms passes. On a port Start picked, a child that could
  // not bind it (another process took it meanwhile) is restarted on a new
  // port, up to kPortRetries times; url() follows.
  Status WaitReady(uint64_t timeout_ms);
  // SIGTERM, then SIGKILL after grace_ms; idempotent.
  Status Stop(uint64_t grace_ms = 10000);

  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }

 private:
  std::string LogTail() const;
  Env* env_;
  ScratchServerOptions options_;
  std::string url_;
  pid_t pid_ = -1;
  static constexpr int kPortRetries = 5;
  int port_retries_ = 0;
};

// A TCP port on 127.0.0.1 nothing listens on now (bound and released).
Result<int> FreeLoopbackPort();

}  // namespace ark::dr
