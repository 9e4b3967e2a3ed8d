// `ark demo dr` (docs/drills.md, "The demo"): the seed's enterprise knowledge
// base on a loopback cluster, and a drill that measures it.
#pragma once

#include <CLI/CLI.hpp>

namespace ark::cli {

// Adds the `dr` subcommand to `ark demo`.
void AddDemoDrCommand(CLI::App* demo);

}  // namespace ark::cli
