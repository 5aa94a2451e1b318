#include "pipeline/process.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

extern char** environ;

namespace cairn::pipeline {
namespace {

class PosixProcessLauncher final : public ProcessLauncher {
 public:
  ~PosixProcessLauncher() override {
    for (auto& [pid, fd] : running_) {
      if (fd >= 0) close(fd);
    }
  }

  StatusOr<int64_t> Start(const ProcessSpec& spec) override {
    if (spec.argv.empty()) return InvalidArgument("empty command");
    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e) {
      std::string kv(*e);
      std::string key = kv.substr(0, kv.find('='));
      if (!spec.env.count(key)) env_storage.push_back(std::move(kv));
    }
    for (const auto& [k, v] : spec.env) env_storage.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_storage) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_storage = spec.argv;
    std::vector<char*> argv;
    for (auto& s : argv_storage) argv.push_back(s.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    // Append mode: a process that also opens its log by name (a built-in step appending to
    // its log path) and writes through fd 1 does not overwrite one with the other.
    constexpr int kLogFlags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND;
    if (!spec.stdout_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, 1, spec.stdout_path.c_str(), kLogFlags, 0644);
    }
    if (!spec.stderr_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, 2, spec.stderr_path.c_str(), kLogFlags, 0644);
    }
    if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc == ENOENT || rc == EACCES || rc == ENOEXEC) {
      return NotFound(fmt::format("command '{}' not found or not executable: {}", spec.argv[0],
                                  std::strerror(rc)));
    }
    if (rc != 0) {
      return Internal(fmt::format("cannot start '{}': {}", spec.argv[0], std::strerror(rc)));
    }
    int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    running_.emplace_back(pid, fd);
    return static_cast<int64_t>(pid);
  }

  std::optional<ProcessExit> WaitAny(int64_t timeout_ms) override {
    if (running_.empty()) return std::nullopt;
    if (auto e = Reap()) return e;
    bool all_pidfd = true;
    std::vector<pollfd> fds;
    for (auto& [pid, fd] : running_) {
      if (fd < 0) all_pidfd = false;
      fds.push_back({fd, POLLIN, 0});
    }
    if (all_pidfd) {
      int n;
      do {
        n = poll(fds.data(), fds.size(), timeout_ms < 0 ? -1 : static_cast<int>(timeout_ms));
      } while (n < 0 && errno == EINTR);
      return Reap();
    }
    // No pidfd support: poll waitpid every millisecond.
    int64_t waited = 0;
    while (timeout_ms < 0 || waited < timeout_ms) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++waited;
      if (auto e = Reap()) return e;
    }
    return std::nullopt;
  }

  void Kill(int64_t pid) override {
    ::kill(-static_cast<pid_t>(pid), SIGKILL);
    ::kill(static_cast<pid_t>(pid), SIGKILL);
  }

 private:
  // Reaps one exited child among ours, without blocking.
  std::optional<ProcessExit> Reap() {
    for (size_t i = 0; i < running_.size(); ++i) {
      int status = 0;
      pid_t r = waitpid(running_[i].first, &status, WNOHANG);
      if (r == running_[i].first || (r < 0 && errno == ECHILD)) {
        ProcessExit e;
        e.pid = running_[i].first;
        if (r > 0 && WIFSIGNALED(status)) {
          e.signaled = true;
          e.signal = WTERMSIG(status);
        } else if (r > 0) {
          e.exit_code = WEXITSTATUS(status);
        } else {
          e.exit_code = 255;  // reaped elsewhere; the status is lost
        }
        if (running_[i].second >= 0) close(running_[i].second);
        running_.erase(running_.begin() + static_cast<long>(i));
        return e;
      }
    }
    return std::nullopt;
  }

  std::vector<std::pair<pid_t, int>> running_;  // pid, pidfd (-1 when unavailable)
};

}  // namespace

std::unique_ptr<ProcessLauncher> NewPosixProcessLauncher() {
  return std::make_unique<PosixProcessLauncher>();
}

}  // namespace cairn::pipeline
