// ark: the command-line entry point. Commands register themselves
// (command_registry.h); main only builds the tree and runs it.
#include <cstdio>
#include <map>
#include <vector>

#include "cli/command_registry.h"

namespace ark::cli {
namespace {

struct Entry {
  std::string name;
  Registrar registrar;
};

std::map<std::string, std::vector<Entry>>& Registry() {
  static auto* registry = new std::map<std::string, std::vector<Entry>>();
  return *registry;
}

int g_exit_code = 0;

}  // namespace

bool RegisterCommand(const char* kind, const char* name, Registrar registrar) {
  Registry()[kind].push_back({name, std::move(registrar)});
  return true;
}

void Fail(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
  g_exit_code = status.Is(StatusCode::kInvalidArgument) ? 2 : 1;
}

int ExitCode() { return g_exit_code; }

}  // namespace ark::cli

int main(int argc, char** argv) {
  using namespace ark::cli;
  CLI::App app{"Ark: a vector database that survives disasters"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ark ") + ARK_VERSION);

  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([] { std::printf("ark %s\n", ARK_VERSION); });

  auto* inspect = app.add_subcommand("inspect", "Dump an on-disk file in human-readable form");
  inspect->require_subcommand(1);

  auto sorted = [](std::vector<Entry> v) {
    std::sort(v.begin(), v.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return v;
  };
  for (auto& e : sorted(Registry()["inspect"])) e.registrar(*inspect);
  for (auto& e : sorted(Registry()["top"])) e.registrar(app);

  // CLI11 answers an unknown first word with "A subcommand is required",
  // naming neither the word nor the commands: name it here.
  if (argc > 1) {
    const std::string first = argv[1];
    bool known = first == "-h" || first == "--help" || first == "--version";
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->get_name() == first;
    }
    if (!known) {
      std::fprintf(stderr, "error: %s '%s' (run `ark --help` for the commands)\n",
                   first.rfind('-', 0) == 0 ? "unknown option" : "unknown command", first.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return ExitCode();
}
