// create_subprocess_exec: run a child process and await its exit and output (asyncio.subprocess).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace loopvisor {

struct SubprocessOptions {
  /// Kill the child and raise TimeoutError if it runs longer.
  std::optional<std::chrono::steady_clock::duration> timeout;
  /// Written to the child's stdin, which is then closed.
  std::string input;
  /// Working directory; empty means the caller's.
  std::string cwd;
  /// Keep at most this many bytes of each of stdout and stderr; the rest is read and
  /// discarded (the child never blocks on a full pipe) and the result says it was cut.
  /// Unset: keep everything.
  std::optional<std::size_t> max_output_bytes;
};

/// What a finished child left behind.
struct SubprocessResult {
  int exit_code = 0;
  std::string out;             ///< everything it wrote to stdout
  std::string err;             ///< everything it wrote to stderr
  bool out_truncated = false;  ///< stdout was longer than max_output_bytes
  bool err_truncated = false;  ///< stderr was longer than max_output_bytes
};

/// On a loop: starts `argv[0]` (searched in PATH unless it contains a '/') with the other
/// arguments, feeds it `input`, captures stdout and stderr, and returns when it has exited —
/// asyncio's create_subprocess_exec(...) followed by communicate().
///
/// Cancelling the awaiting task (or the timeout) kills the child with SIGKILL and reaps it
/// before CancelledError (TimeoutError) propagates: no zombie is left behind. A program that
/// cannot be found or started raises loopvisor::Error naming it.
///
/// Thread safety: on a loop, from a coroutine. Built on Boost.Process v2.
[[nodiscard]] boost::asio::awaitable<SubprocessResult> create_subprocess_exec(
    std::vector<std::string> argv, const SubprocessOptions& options);
/// The same with default options. (`options` is taken by reference and copied before the
/// call returns, and defaulted by an overload: GCC 12 miscompiles an aggregate passed by value
/// from a coroutine.)
[[nodiscard]] boost::asio::awaitable<SubprocessResult> create_subprocess_exec(std::vector<std::string> argv);

}  // namespace loopvisor
