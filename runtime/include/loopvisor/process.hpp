// Process: a running child with streamed stdin/stdout/stderr (asyncio.subprocess.Process).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopvisor/streams.hpp"
#include "loopvisor/subprocess.hpp"

namespace loopvisor {

namespace detail {
struct ProcessState;
}  // namespace detail

struct ProcessOptions {
  /// Working directory; empty means the caller's.
  std::string cwd{};
  /// The child's whole environment, as "NAME=value" entries; unset: the caller's environment.
  /// PATH is searched in this environment's PATH when it has one.
  std::optional<std::vector<std::string>> env{};
  /// setrlimit in the child before exec.
  ResourceLimits limits{};
};

/// What `communicate` collected.
struct ProcessOutput {
  int exit_code = 0;          ///< the exit status, or minus the signal that killed it
  std::string out;            ///< everything written to stdout
  std::string err;            ///< everything written to stderr
  bool input_closed = false;  ///< the child closed stdin before reading all of the input
};

/// A started child (asyncio.subprocess.Process), from `start_process`.
///
/// Its stdin, stdout and stderr are Streams (`std_in().write(...)`, `std_out().readline()`,
/// ...): the pipes hold 64 KiB, so a child whose output nobody reads blocks when it is full,
/// as with asyncio's PIPE. Containment is create_subprocess_exec's: the child leads a process
/// group of its own, holds only descriptors 0-2, and gets `env`, `cwd` and `limits`.
///
/// - `wait()` returns the exit code once the child has exited; whatever it left running in
///   its group is killed then (SIGKILL), and the child is reaped. Cancelling `wait()` leaves
///   the child running (asyncio's rule); several coroutines may wait at once.
/// - `send_signal`, `terminate` (SIGTERM) and `kill` (SIGKILL) reach the child's whole
///   process group; after the child was reaped they do nothing (asyncio raises
///   ProcessLookupError; here a signal can never reach a recycled pid).
/// - Destroying a Process whose child has not been reaped kills the group (SIGKILL) and reaps
///   the child, so nothing outlives an abandoned Process and no zombie is left.
///
/// Thread safety: the loop that started it only. Movable; a moved-from Process is empty
/// (`valid()` false; everything else throws InvalidStateError).
class Process {
 public:
  Process(Process&&) noexcept;
  Process& operator=(Process&&) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }
  [[nodiscard]] int pid() const;
  /// The exit code once `wait` (or `communicate`) has seen the child exit; unset before.
  [[nodiscard]] std::optional<int> returncode() const;

  /// The child's stdin (write, write_eof, close), stdout and stderr (the reads).
  [[nodiscard]] Stream& std_in();
  [[nodiscard]] Stream& std_out();
  [[nodiscard]] Stream& std_err();

  /// Waits for the child's exit and returns its exit code (see the class comment).
  [[nodiscard]] boost::asio::awaitable<int> wait();
  /// Writes `input`, closes stdin, reads stdout and stderr to their end and waits for the
  /// exit (asyncio's communicate). Cancelling it leaves the child running; the readers stop.
  [[nodiscard]] boost::asio::awaitable<ProcessOutput> communicate(std::string input);
  [[nodiscard]] boost::asio::awaitable<ProcessOutput> communicate();

  void send_signal(int signal);
  void terminate();
  void kill();

 private:
  friend struct detail::ProcessState;  // makes them
  explicit Process(std::shared_ptr<detail::ProcessState> state);
  detail::ProcessState& live(const char* what) const;

  std::shared_ptr<detail::ProcessState> state_;
};

/// On a loop: starts `argv[0]` (searched in PATH unless it contains a '/') with the other
/// arguments and returns the running Process (asyncio.create_subprocess_exec with
/// stdin/stdout/stderr=PIPE). A program that cannot be found or started raises
/// loopvisor::Error naming it and the step that failed.
[[nodiscard]] boost::asio::awaitable<Process> start_process(std::vector<std::string> argv,
                                                            const ProcessOptions& options);
[[nodiscard]] boost::asio::awaitable<Process> start_process(std::vector<std::string> argv);

}  // namespace loopvisor
