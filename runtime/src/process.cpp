// Process: a running child whose pipes are Streams and whose exit a coroutine awaits.
#include "loopvisor/process.hpp"

#include <signal.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include "child_process.hpp"
#include "exit_watch.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/gather.hpp"
#include "loopvisor/loop.hpp"
#include "pipe_transport.hpp"

namespace loopvisor {

namespace asio = boost::asio;

// Shared by the Process and the coroutines working for it (wait, communicate's readers), so
// none of them outlives what it uses; ~Process ends the child whoever still holds this.
struct detail::ProcessState {
  ProcessState(const asio::any_io_executor& executor, ChildProcess started, const std::string& program)
      : child(std::move(started)),
        watch(executor, child),
        in(asio::local::stream_protocol::socket(executor, asio::local::stream_protocol(),
                                                child.take_stdin())),
        out(std::make_unique<PipeTransport>(asio::posix::stream_descriptor(executor, child.take_stdout()),
                                            fmt::format("stdout of '{}' (pid {})", program, child.pid()))),
        err(std::make_unique<PipeTransport>(asio::posix::stream_descriptor(executor, child.take_stderr()),
                                            fmt::format("stderr of '{}' (pid {})", program, child.pid()))) {}

  static Process make_process(std::shared_ptr<ProcessState> state) { return Process(std::move(state)); }

  // Kills what is left of the group and reaps the child, once; the exit code after.
  int finish() noexcept {
    if (!returncode) {
      child.signal_group(SIGKILL);
      returncode = child.reap();
    }
    return *returncode;
  }

  ChildProcess child;  // (declared before `watch`, which refers to it)
  ExitWatch watch;
  Stream in;
  Stream out;
  Stream err;
  std::optional<int> returncode;
  bool destroyed = false;  // ~Process ran: the child was killed, its pipes closed
};

namespace {

// What to start, behind a pointer: see ChildRequest in subprocess.cpp for the GCC 12 defect.
struct StartRequest {
  std::vector<std::string> argv;
  ProcessOptions options;
};

asio::awaitable<int> wait_for_exit(std::shared_ptr<detail::ProcessState> state) {
  if (!state->returncode) co_await state->watch.wait(std::nullopt, true);
  co_return state->finish();
}

// True if the child closed its stdin before taking all of `input` (not an error).
asio::awaitable<bool> feed(std::shared_ptr<detail::ProcessState> state, std::string input) {
  bool closed = false;
  if (!input.empty()) {
    try {
      co_await state->in.write(input);
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::broken_pipe && e.code() != asio::error::connection_reset) throw;
      closed = true;
    }
  }
  state->in.close();
  co_return closed;
}

asio::awaitable<std::string> read_out(std::shared_ptr<detail::ProcessState> state) {
  co_return co_await state->out.read_all();
}

asio::awaitable<std::string> read_err(std::shared_ptr<detail::ProcessState> state) {
  co_return co_await state->err.read_all();
}

asio::awaitable<ProcessOutput> communicate_with(std::shared_ptr<detail::ProcessState> state,
                                                std::string input) {
  // Cancelling communicate cancels the three (gather's rule); the child keeps running.
  auto outcomes = co_await gather(
      return_exceptions, create_task(feed(state, std::move(input)), "process stdin"),
      create_task(read_out(state), "process stdout"), create_task(read_err(state), "process stderr"));
  if (state->destroyed) {
    throw InvalidStateError(
        "Process::communicate: the Process was destroyed meanwhile (its child was killed)");
  }
  ProcessOutput output;
  output.input_closed = std::get<0>(outcomes).get();
  output.out = std::get<1>(outcomes).get();
  output.err = std::get<2>(outcomes).get();
  output.exit_code = co_await wait_for_exit(state);
  co_return output;
}

asio::awaitable<Process> start(std::shared_ptr<const StartRequest> request) {
  const auto& argv = request->argv;
  if (argv.empty()) throw InvalidStateError("start_process needs a program name (argv is empty)");
  auto executor = co_await asio::this_coro::executor;
  detail::SpawnRequest spawn;
  spawn.program = detail::search_path(argv[0], request->options.env, "start_process");
  spawn.argv = argv;
  spawn.env = request->options.env;
  spawn.cwd = request->options.cwd;
  spawn.limits = request->options.limits;
  auto state = std::make_shared<detail::ProcessState>(executor, detail::ChildProcess::spawn(spawn), argv[0]);
  co_return detail::ProcessState::make_process(std::move(state));
}

}  // namespace

Process::Process(std::shared_ptr<detail::ProcessState> state) : state_(std::move(state)) {}
Process::Process(Process&&) noexcept = default;

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    Process old(std::move(*this));  // ends our child, as destruction would
    state_ = std::move(other.state_);
  }
  return *this;
}

Process::~Process() {
  if (!state_) return;
  // Coroutines still working for this Process (a cancelled communicate's readers) may hold the
  // state a little longer: end the child now and close its pipes, so they finish at once.
  state_->destroyed = true;
  (void)state_->finish();
  state_->in.close();
  state_->out.close();
  state_->err.close();
}

detail::ProcessState& Process::live(const char* what) const {
  if (!state_) throw InvalidStateError(fmt::format("Process::{}: the process was moved from", what));
  return *state_;
}

int Process::pid() const { return live("pid").child.pid(); }
std::optional<int> Process::returncode() const { return live("returncode").returncode; }
Stream& Process::std_in() { return live("std_in").in; }
Stream& Process::std_out() { return live("std_out").out; }
Stream& Process::std_err() { return live("std_err").err; }

asio::awaitable<int> Process::wait() {
  live("wait");
  return wait_for_exit(state_);
}

asio::awaitable<ProcessOutput> Process::communicate(std::string input) {
  live("communicate");
  return communicate_with(state_, std::move(input));
}

asio::awaitable<ProcessOutput> Process::communicate() { return communicate(std::string()); }

void Process::send_signal(int signal) {
  auto& state = live("send_signal");
  if (signal <= 0 || signal >= NSIG)
    throw std::invalid_argument(fmt::format("Process::send_signal: {} is not a signal", signal));
  if (!state.returncode) state.child.signal_group(signal);  // never after the reap: the pid may be reused
}

void Process::terminate() { send_signal(SIGTERM); }
void Process::kill() { send_signal(SIGKILL); }

asio::awaitable<Process> start_process(std::vector<std::string> argv, const ProcessOptions& options) {
  auto request = std::make_shared<StartRequest>();
  request->argv = std::move(argv);
  request->options = options;
  return start(std::move(request));
}

asio::awaitable<Process> start_process(std::vector<std::string> argv) {
  static const ProcessOptions defaults;
  return start_process(std::move(argv), defaults);
}

}  // namespace loopvisor
