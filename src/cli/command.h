// Subcommand registration for the `cairn` binary.
//
// Each subcommand lives in its own src/cli/<name>_command.cc and registers itself with
//   CAIRN_REGISTER_COMMAND(AddMonitorCommand);
// where `void AddMonitorCommand(CLI::App& app)` adds a subcommand with its options and a
// callback. The callback reports its exit code with SetExitCode(); it must not call exit().
// main() builds the app from every registered command, so adding a command never touches
// main.cc. These files are compiled into the executable itself (not a static library), so
// the registrations are never dropped by the linker.
#pragma once

#include <functional>
#include <vector>

namespace CLI {
class App;
}

namespace cairn::cli {

using AddCommandFn = void (*)(CLI::App& app);

// Registers a command adder; returns true so it can initialise a static.
bool RegisterCommand(AddCommandFn fn);
// All registered adders, in registration order.
const std::vector<AddCommandFn>& RegisteredCommands();

// The process exit code the running subcommand wants (default 0).
void SetExitCode(int code);
int ExitCode();

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command could not do its work
inline constexpr int kExitUsage = 2;   // bad flags or arguments

}  // namespace cairn::cli

#define CAIRN_REGISTER_COMMAND(fn) \
  static const bool CAIRN_CONCAT(cairn_cmd_registered_, __LINE__) = ::cairn::cli::RegisterCommand(fn)
