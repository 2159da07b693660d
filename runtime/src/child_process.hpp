// ChildProcess: one child started by fork/exec in a process group of its own, with its pipes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "loopvisor/subprocess.hpp"

namespace loopvisor::detail {

/// Everything the child needs, prepared before fork (the child only makes system calls).
struct SpawnRequest {
  std::string program;                          ///< a path (PATH already searched)
  std::vector<std::string> argv;                ///< argv[0] first
  std::optional<std::vector<std::string>> env;  ///< "NAME=value" entries; unset: the caller's
  std::string cwd;                              ///< "" for the caller's
  ResourceLimits limits;
};

/// A started child: the leader of process group `pid()`, its stdin/stdout/stderr pipes held
/// here until taken, and (where the kernel has one) a pidfd that turns readable when it exits.
///
/// The child gets SIGKILL if the thread that started it ends first (PR_SET_PDEATHSIG), so it
/// does not outlive a process killed with SIGKILL; its own descendants are only reached
/// through the group (signal_group). It starts with an empty signal mask, default signal dispositions (an
/// ignored SIGPIPE is not inherited), descriptors 0-2 on the pipes and every other descriptor closed on exec,
/// whoever opened it and whether or not they asked for close-on-exec.
///
/// Ownership: this object owns the child until `reap()`; destroying it earlier kills the whole
/// group with SIGKILL and reaps the leader (blocking only for the kernel to finish the kill),
/// so no child outlives an abandoned ChildProcess and no zombie is left.
///
/// Thread safety: one thread at a time (the loop that started it).
class ChildProcess {
 public:
  /// Starts the child. Throws loopvisor::Error naming the program and what failed (fork,
  /// chdir, setrlimit or exec, with errno's message).
  static ChildProcess spawn(const SpawnRequest& request);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const noexcept { return pid_; }
  /// A pidfd (readable once the leader has exited), or -1 where the kernel has none.
  int pidfd() const noexcept { return pidfd_; }
  /// Hand over a pipe end; the caller owns it afterwards. stdin is the write end of a Unix
  /// stream socket pair (write with MSG_NOSIGNAL), stdout and stderr read ends of pipes.
  int take_stdin() noexcept { return take(stdin_); }
  int take_stdout() noexcept { return take(stdout_); }
  int take_stderr() noexcept { return take(stderr_); }

  /// True once the leader has exited; it stays unreaped (a zombie), so its pid and group id
  /// cannot be reused until reap().
  bool exited() const noexcept;
  /// Sends `signal` to every process of the group. Only before reap(): the unreaped leader
  /// keeps the group id from being reused, so the signal cannot reach a stranger.
  void signal_group(int signal) noexcept;
  /// Reaps the leader (waits if it has not exited) and returns its exit code, or minus the
  /// signal that ended it (asyncio's returncode convention).
  int reap() noexcept;

 private:
  ChildProcess() = default;
  static int take(int& fd) noexcept {
    const int out = fd;
    fd = -1;
    return out;
  }

  pid_t pid_ = -1;
  bool reaped_ = true;
  int pidfd_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
};

/// `program` itself if it holds a '/', else the first executable match in `path` (a
/// colon-separated list); "" when there is none.
std::string find_in_path(const std::string& program, std::string_view path);

/// `program` resolved as find_in_path does, in the PATH of `env` (unset: this process's PATH;
/// no PATH: /usr/local/bin:/usr/bin:/bin). Throws loopvisor::Error "`who`: 'program' was not
/// found in PATH".
std::string search_path(const std::string& program, const std::optional<std::vector<std::string>>& env,
                        const char* who);

}  // namespace loopvisor::detail
