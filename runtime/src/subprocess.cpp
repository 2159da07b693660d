// create_subprocess_exec: a contained child (child_process.hpp) whose exit and pipes the loop awaits.
#include "loopvisor/subprocess.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <cstdlib>

#include "child_process.hpp"
#include "exit_watch.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/gather.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/timeout.hpp"
#include "use_tuple.hpp"

namespace loopvisor {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using detail::ExitWatch;
using detail::uncancellable;

namespace {

using detail::use_tuple;

/// What one output pipe delivered: at most `limit` bytes, and whether there was more.
struct Drained {
  std::string bytes;
  bool truncated = false;
};

// The reader task owns its pipe, so the frame that started it may end first (cancelled) and
// a late read never touches freed memory.
asio::awaitable<Drained> drain(std::shared_ptr<asio::readable_pipe> pipe, std::size_t limit) {
  Drained out;
  char chunk[8192];
  for (;;) {
    auto [ec, n] = co_await pipe->async_read_some(asio::buffer(chunk), use_tuple);
    const std::size_t keep = std::min(n, limit - out.bytes.size());
    out.bytes.append(chunk, keep);
    if (keep < n) out.truncated = true;  // read on and drop, so the child never blocks
    if (ec) break;                       // eof: every holder closed it (or we closed ours)
  }
  co_return out;
}

// What to run. Passed to the coroutines behind a shared_ptr: GCC 12 (seen with -O2 and ASan)
// can leave a std::string coroutine parameter pointing into the caller's frame when the
// argument came from an aggregate the caller received by value; a pointer avoids the copy.
struct ChildRequest {
  std::vector<std::string> argv;
  SubprocessOptions options;
};

/// Writes the input and closes stdin; true if the child closed its end first (EPIPE: not an
/// error, the child simply did not read it all). The socket sends with MSG_NOSIGNAL.
asio::awaitable<bool> feed(std::shared_ptr<asio::local::stream_protocol::socket> in,
                           std::shared_ptr<const ChildRequest> request) {
  bool closed = false;
  if (!request->options.input.empty()) {
    auto [ec, n] = co_await asio::async_write(*in, asio::buffer(request->options.input), use_tuple);
    closed = static_cast<bool>(ec) && n < request->options.input.size();
  }
  boost::system::error_code ignored;
  in->close(ignored);
  co_return closed;
}

asio::awaitable<SubprocessResult> run_child(std::shared_ptr<const ChildRequest> request) {
  const auto& argv = request->argv;
  const auto& options = request->options;
  if (argv.empty()) throw InvalidStateError("create_subprocess_exec needs a program name (argv is empty)");
  auto executor = co_await asio::this_coro::executor;

  detail::SpawnRequest spawn;
  spawn.program = detail::search_path(argv[0], options.env, "create_subprocess_exec");
  spawn.argv = argv;
  spawn.env = options.env;
  spawn.cwd = options.cwd;
  spawn.limits = options.limits;
  // Owns the child: if this frame is destroyed before the end, the group is killed and reaped.
  auto child = detail::ChildProcess::spawn(spawn);
  auto in = std::make_shared<asio::local::stream_protocol::socket>(executor, asio::local::stream_protocol(),
                                                                   child.take_stdin());
  auto out = std::make_shared<asio::readable_pipe>(executor, child.take_stdout());
  auto err = std::make_shared<asio::readable_pipe>(executor, child.take_stderr());
  const std::size_t limit = options.max_output_bytes.value_or(SIZE_MAX);
  auto feeding = create_task(feed(in, request), "subprocess stdin");
  auto reading_out = create_task(drain(out, limit), "subprocess stdout");
  auto reading_err = create_task(drain(err, limit), "subprocess stderr");
  ExitWatch watch(executor, child);

  std::exception_ptr stopped;  // the cancellation (or timeout) that ended the wait
  try {
    co_await watch.wait(std::nullopt, true);
  } catch (...) {
    stopped = std::current_exception();
  }
  if (stopped) {
    // Stop the whole group, then reap: nothing of the child outlives the cancellation. The
    // waits below cannot be cancelled again (a second cancel would leave a running child).
    co_await asio::this_coro::reset_cancellation_state();
    co_await asio::this_coro::throw_if_cancelled(false);
    child.signal_group(SIGTERM);
    if (!co_await watch.wait(options.kill_grace, false)) {
      child.signal_group(SIGKILL);
      co_await watch.wait(std::nullopt, false);
    }
  }
  // The child has exited (a zombie still, so its group id is ours): what it left running in
  // its group goes with it, and the job is judged by the child's own exit.
  child.signal_group(SIGKILL);
  SubprocessResult result;
  result.exit_code = child.reap();

  // The readers end at end of file, at once unless a process that left the group holds a
  // pipe: then they get `output_grace`, and we close our ends. The timer's handler owns the
  // pipes, so it closes them even if it runs after this frame has gone.
  asio::steady_timer cutoff(executor, options.output_grace);
  cutoff.async_wait([in, out, err](boost::system::error_code) {
    boost::system::error_code ignored;
    in->close(ignored);
    out->close(ignored);
    err->close(ignored);
  });
  if (stopped) {
    // Already cancelled: wait for the readers without being interrupted, then report it.
    boost::system::error_code ec;
    while (!reading_out.done() || !reading_err.done() || !feeding.done()) {
      asio::steady_timer tick(executor, std::chrono::milliseconds(1));
      co_await tick.async_wait(uncancellable(ec));
    }
    co_await asio::this_coro::throw_if_cancelled(true);
    std::rethrow_exception(stopped);
  }
  // (No structured binding here: GCC 12 misplaces bindings of class type in coroutine frames.)
  auto outcomes = co_await gather(return_exceptions, reading_out, reading_err, feeding);
  cutoff.cancel();
  auto& out_outcome = std::get<0>(outcomes);
  auto& err_outcome = std::get<1>(outcomes);
  auto& in_outcome = std::get<2>(outcomes);
  if (out_outcome.ok()) {
    result.out = std::move(out_outcome.value->bytes);
    result.out_truncated = out_outcome.value->truncated;
  }
  if (err_outcome.ok()) {
    result.err = std::move(err_outcome.value->bytes);
    result.err_truncated = err_outcome.value->truncated;
  }
  if (in_outcome.ok()) result.input_closed = *in_outcome.value;
  co_return result;
}

asio::awaitable<SubprocessResult> run_child_within(Clock::duration limit,
                                                   std::shared_ptr<const ChildRequest> request) {
  auto scope = timeout(limit);
  co_return co_await scope.run(run_child(std::move(request)));
}

}  // namespace

// Not a coroutine itself, so `options` (an aggregate, defaulted in the header) never becomes a
// coroutine parameter; see run_child.
asio::awaitable<SubprocessResult> create_subprocess_exec(std::vector<std::string> argv,
                                                         const SubprocessOptions& options) {
  auto request = std::make_shared<ChildRequest>();
  request->argv = std::move(argv);
  request->options = options;
  if (options.timeout) return run_child_within(*options.timeout, std::move(request));
  return run_child(std::move(request));
}

asio::awaitable<SubprocessResult> create_subprocess_exec(std::vector<std::string> argv) {
  auto request = std::make_shared<ChildRequest>();
  request->argv = std::move(argv);
  return run_child(std::move(request));
}

}  // namespace loopvisor
