// Self-registering CLI commands: each command lives in its own file in cli/
// and registers itself, so adding a command never edits main.cc.
//
//   ARK_CLI_COMMAND(objectstore) { auto* cmd = app.add_subcommand(...); ... }
//   ARK_CLI_INSPECT(wal)         { auto* cmd = inspect.add_subcommand("wal", ...); ... }
//
// A command's callback sets the process exit code through ExitWith().
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "core/status.h"

namespace ark::cli {

using Registrar = std::function<void(CLI::App&)>;

// kind: "top" for `ark NAME`, "inspect" for `ark inspect NAME`.
bool RegisterCommand(const char* kind, const char* name, Registrar registrar);

// Prints "error: <message>" to stderr and records exit code 1 (2 for invalid arguments).
void Fail(const Status& status);
int ExitCode();

}  // namespace ark::cli

#define ARK_CLI_REGISTER_(kind, name)                                            \
  static void ark_cli_##kind##_##name(CLI::App&);                                \
  static const bool ark_cli_##kind##_##name##_registered =                       \
      ::ark::cli::RegisterCommand(#kind, #name, &ark_cli_##kind##_##name);       \
  static void ark_cli_##kind##_##name

#define ARK_CLI_COMMAND(name) ARK_CLI_REGISTER_(top, name)(CLI::App & app)
#define ARK_CLI_INSPECT(name) ARK_CLI_REGISTER_(inspect, name)(CLI::App & inspect)
