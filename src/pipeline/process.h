// ProcessLauncher: how the executor starts and reaps step processes. The POSIX launcher
// spawns each process in its own process group so a timeout can kill everything it started;
// tests pass a fake.
// Thread-safety: a launcher is used from one thread (the executor's loop).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace cairn::pipeline {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::map<std::string, std::string> env;  // added to (and overriding) the parent's environment
  std::string cwd;                // "" = the parent's
  std::string stdout_path;        // files the process's stdout/stderr are written to
  std::string stderr_path;        // (truncated, then opened in append mode)
};

struct ProcessExit {
  int64_t pid = 0;
  int exit_code = 0;  // valid when !signaled
  bool signaled = false;
  int signal = 0;
  bool ok() const { return !signaled && exit_code == 0; }
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Starts a process; returns its id. NotFound when argv[0] does not exist or is not
  // executable; Internal for other spawn failures (the output files cannot be opened, ...).
  virtual StatusOr<int64_t> Start(const ProcessSpec& spec) = 0;
  // Waits up to timeout_ms (-1 = forever) for any started, unreaped process to exit and reaps
  // it. nullopt when none exited in time or none are running.
  virtual std::optional<ProcessExit> WaitAny(int64_t timeout_ms) = 0;
  // Kills the process and its whole process group (SIGKILL). The exit is still reported by
  // WaitAny.
  virtual void Kill(int64_t pid) = 0;
};

// The real launcher: posix_spawn with a new process group, pidfd-based waiting.
std::unique_ptr<ProcessLauncher> NewPosixProcessLauncher();

}  // namespace cairn::pipeline
