// create_subprocess_exec: run a child process and await its exit and output (asyncio.subprocess).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loopvisor {

/// Per-child resource limits (setrlimit in the child, soft = hard); unset: inherited.
struct ResourceLimits {
  std::optional<std::uint64_t> cpu_seconds{};          ///< RLIMIT_CPU: SIGXCPU, then SIGKILL
  std::optional<std::uint64_t> address_space_bytes{};  ///< RLIMIT_AS: allocations fail past it
  std::optional<std::uint64_t> open_files{};           ///< RLIMIT_NOFILE
  std::optional<std::uint64_t> processes{};            ///< RLIMIT_NPROC (counted per user)
};

struct SubprocessOptions {
  /// Stop the child's process group and raise TimeoutError if it runs longer.
  std::optional<std::chrono::steady_clock::duration> timeout{};
  /// Written to the child's stdin, which is then closed.
  std::string input{};
  /// Working directory; empty means the caller's.
  std::string cwd{};
  /// Keep at most this many bytes of each of stdout and stderr; the rest is read and
  /// discarded (the child never blocks on a full pipe) and the result says it was cut.
  /// Unset: keep everything.
  std::optional<std::size_t> max_output_bytes{};
  /// The child's whole environment, as "NAME=value" entries; unset: the caller's environment.
  /// PATH is searched in this environment's PATH when it has one.
  std::optional<std::vector<std::string>> env{};
  /// setrlimit in the child before exec.
  ResourceLimits limits{};
  /// On cancellation or timeout the group gets SIGTERM, and SIGKILL after this long.
  std::chrono::steady_clock::duration kill_grace = std::chrono::seconds(1);
  /// After the child has exited and its group is killed, how long to wait for end of file on
  /// stdout/stderr (only a process that left the group can still hold them) before closing
  /// them and returning what was read.
  std::chrono::steady_clock::duration output_grace = std::chrono::milliseconds(500);
};

/// What a finished child left behind.
struct SubprocessResult {
  int exit_code = 0;           ///< the exit status, or minus the signal that killed it
  std::string out;             ///< everything it wrote to stdout
  std::string err;             ///< everything it wrote to stderr
  bool out_truncated = false;  ///< stdout was longer than max_output_bytes
  bool err_truncated = false;  ///< stderr was longer than max_output_bytes
  bool input_closed = false;   ///< the child closed stdin before reading all of `input`
};

/// On a loop: starts `argv[0]` (searched in PATH unless it contains a '/') with the other
/// arguments, feeds it `input`, captures stdout and stderr, and returns when it has exited —
/// asyncio's create_subprocess_exec(...) followed by communicate().
///
/// Containment: the child leads a process group of its own, holds only descriptors 0-2 (every
/// other descriptor of this process is closed at exec, whoever opened it), starts with default
/// signal dispositions and an empty signal mask, and gets `env`, `cwd` and `limits`. The result
/// is judged by the child's own exit: when it has exited, whatever it left running in its
/// group is killed (SIGKILL) and the output read so far is returned, even if a process that
/// left the group still holds the pipes (bounded by `output_grace`). A child that exits
/// without reading its input is not an error: `input_closed` says so.
///
/// Cancelling the awaiting task (or the timeout) sends SIGTERM to the group, SIGKILL after
/// `kill_grace`, and reaps the child before CancelledError (TimeoutError) propagates: no
/// zombie and no descendant in the group is left behind. A program that cannot be found or
/// started raises loopvisor::Error naming it and the step that failed.
///
/// Thread safety: on a loop, from a coroutine. Uses fork/exec and a pidfd, never the
/// io_context's fork notifications (Asio's resolver thread does not survive those).
[[nodiscard]] boost::asio::awaitable<SubprocessResult> create_subprocess_exec(
    std::vector<std::string> argv, const SubprocessOptions& options);
/// The same with default options. (`options` is taken by reference and copied before the
/// call returns, and defaulted by an overload: GCC 12 miscompiles an aggregate passed by value
/// from a coroutine.)
[[nodiscard]] boost::asio::awaitable<SubprocessResult> create_subprocess_exec(std::vector<std::string> argv);

}  // namespace loopvisor
