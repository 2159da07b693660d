// create_subprocess_exec on Boost.Process v2: pipes read by child tasks, kill-and-reap on cancel.
#include "loopvisor/subprocess.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>
#include <cstdint>

#include "loopvisor/errors.hpp"
#include "loopvisor/gather.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/timeout.hpp"

namespace loopvisor {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// What one output pipe delivered: at most `limit` bytes, and whether there was more.
struct Drained {
  std::string bytes;
  bool truncated = false;
};

asio::awaitable<Drained> drain(asio::readable_pipe* pipe, std::size_t limit) {
  Drained out;
  char chunk[8192];
  for (;;) {
    auto [ec, n] = co_await pipe->async_read_some(asio::buffer(chunk), use_tuple);
    const std::size_t keep = std::min(n, limit - out.bytes.size());
    out.bytes.append(chunk, keep);
    if (keep < n) out.truncated = true;  // read on and drop, so the child never blocks
    if (ec) break;                       // eof: the child closed it (or died)
  }
  co_return out;
}

// `input` lives in the caller's frame, which awaits this task before it ends.
asio::awaitable<void> feed(asio::writable_pipe* pipe, const std::string* input) {
  if (!input->empty()) {
    // A child that exits without reading makes this fail with EPIPE: not our error to report.
    auto [ec, n] = co_await asio::async_write(*pipe, asio::buffer(*input), use_tuple);
    (void)ec;
    (void)n;
  }
  boost::system::error_code ignored;
  pipe->close(ignored);
}

bp::filesystem::path resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  auto found = bp::environment::find_executable(program);
  if (found.empty()) throw Error(fmt::format("create_subprocess_exec: '{}' was not found in PATH", program));
  return found;
}

// What to run. Passed to the coroutines behind a shared_ptr: GCC 12 (seen with -O2 and ASan)
// can leave a std::string coroutine parameter pointing into the caller's frame when the
// argument came from an aggregate the caller received by value; a pointer avoids the copy.
struct ChildRequest {
  std::vector<std::string> argv;
  std::string input;
  std::string cwd;
  std::size_t max_output_bytes = SIZE_MAX;
};

asio::awaitable<SubprocessResult> run_child(std::shared_ptr<ChildRequest> request) {
  auto& argv = request->argv;
  auto& input = request->input;
  auto& cwd = request->cwd;
  if (argv.empty()) throw InvalidStateError("create_subprocess_exec needs a program name (argv is empty)");
  auto executor = co_await asio::this_coro::executor;
  const auto exe = resolve(argv[0]);
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  asio::readable_pipe out(executor), err(executor);
  asio::writable_pipe in(executor);
  boost::system::error_code ec;
  bp::process child(
      executor, exe, args, bp::process_stdio{in, out, err},
      bp::process_start_dir{cwd.empty() ? bp::filesystem::current_path() : bp::filesystem::path(cwd)});
  auto feeding = create_task(feed(&in, &input), "subprocess stdin");
  auto reading_out = create_task(drain(&out, request->max_output_bytes), "subprocess stdout");
  auto reading_err = create_task(drain(&err, request->max_output_bytes), "subprocess stderr");

  std::exception_ptr cancelled;
  SubprocessResult result;
  try {
    auto [wec, code] = co_await child.async_wait(use_tuple);
    if (wec) throw boost::system::system_error(wec, "waiting for the child");
    result.exit_code = code;
  } catch (...) {
    cancelled = std::current_exception();
  }
  if (cancelled) {
    // Kill and reap before letting go: no zombie, and the pipe readers see end of file.
    boost::system::error_code ignored;
    child.terminate(ignored);
    child.wait(ignored);
    co_await asio::this_coro::reset_cancellation_state();
  }
  // The readers end at end of file (the child exited or was killed); their frames reference
  // our pipes, so wait for them before this frame goes.
  // (No structured binding here: GCC 12 misplaces bindings of class type in coroutine frames.)
  auto outcomes = co_await gather(return_exceptions, reading_out, reading_err, feeding);
  if (cancelled) std::rethrow_exception(cancelled);
  auto& out_outcome = std::get<0>(outcomes);
  auto& err_outcome = std::get<1>(outcomes);
  if (out_outcome.ok()) {
    result.out = std::move(out_outcome.value->bytes);
    result.out_truncated = out_outcome.value->truncated;
  }
  if (err_outcome.ok()) {
    result.err = std::move(err_outcome.value->bytes);
    result.err_truncated = err_outcome.value->truncated;
  }
  co_return result;
}

}  // namespace

asio::awaitable<SubprocessResult> run_child_within(std::chrono::steady_clock::duration limit,
                                                   std::shared_ptr<ChildRequest> request) {
  auto scope = timeout(limit);
  co_return co_await scope.run(run_child(std::move(request)));
}

// Not a coroutine itself, so `options` (an aggregate, defaulted in the header) never becomes a
// coroutine parameter; see run_child.
asio::awaitable<SubprocessResult> create_subprocess_exec(std::vector<std::string> argv,
                                                         const SubprocessOptions& options) {
  auto request = std::make_shared<ChildRequest>();
  request->argv = std::move(argv);
  request->input = options.input;
  request->cwd = options.cwd;
  request->max_output_bytes = options.max_output_bytes.value_or(SIZE_MAX);
  if (options.timeout) return run_child_within(*options.timeout, std::move(request));
  return run_child(std::move(request));
}

asio::awaitable<SubprocessResult> create_subprocess_exec(std::vector<std::string> argv) {
  auto request = std::make_shared<ChildRequest>();
  request->argv = std::move(argv);
  return run_child(std::move(request));
}

}  // namespace loopvisor
