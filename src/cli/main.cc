// The `cairn` binary: builds the CLI from every registered subcommand and runs it.
// This is one of the three exception walls (STYLE.md): nothing escapes main.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/command.h"
#include "common/status.h"

namespace cairn::cli {

namespace {
std::vector<AddCommandFn>& Registry() {
  static std::vector<AddCommandFn>* r = new std::vector<AddCommandFn>();
  return *r;
}
int g_exit_code = kExitOk;
}  // namespace

bool RegisterCommand(AddCommandFn fn) {
  Registry().push_back(fn);
  return true;
}
const std::vector<AddCommandFn>& RegisteredCommands() { return Registry(); }
void SetExitCode(int code) { g_exit_code = code; }
int ExitCode() { return g_exit_code; }

}  // namespace cairn::cli

int main(int argc, char** argv) {
  CLI::App app{"cairn: the machine-learning lifecycle after the notebook, in one binary"};
  app.require_subcommand(1);
  app.set_version_flag("--version", CAIRN_VERSION_STRING);
  for (auto fn : cairn::cli::RegisteredCommands()) fn(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : cairn::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn: %s\n", e.what());
    return cairn::cli::kExitFailed;
  }
  return cairn::cli::ExitCode();
}
