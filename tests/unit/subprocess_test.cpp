// create_subprocess_exec: exit codes, captured output, input, timeouts, kill-and-reap on cancel.
#include "loopvisor/subprocess.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

TEST(Subprocess, CapturesExitCodeStdoutAndStderr) {
  auto r = run_on_loop([]() -> asio::awaitable<SubprocessResult> {
    std::vector<std::string> argv{"sh", "-c", "echo out; echo err >&2; exit 3"};

    co_return co_await create_subprocess_exec(std::move(argv));
  });
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Subprocess, FeedsInput) {
  auto r = run_on_loop([]() -> asio::awaitable<SubprocessResult> {
    std::vector<std::string> argv{"tr", "a-z", "A-Z"};

    // A named options object: GCC 12 miscompiles an aggregate temporary holding strings
    // inside a co_await expression (see docs/asyncio-to-loopvisor.md).
    SubprocessOptions options;
    options.input = "hello";
    co_return co_await create_subprocess_exec(std::move(argv), options);
  });
  EXPECT_EQ(r.out, "HELLO");
  EXPECT_EQ(r.exit_code, 0);
}

TEST(Subprocess, OutputBeyondTheLimitIsDroppedAndReportedWhileTheChildRunsToTheEnd) {
  auto r = run_on_loop([]() -> asio::awaitable<SubprocessResult> {
    // 1 MiB on stdout, more than a pipe buffers: the child only finishes if we keep reading.
    std::vector<std::string> argv{"sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' x; echo ab >&2; exit 4"};

    SubprocessOptions options;
    options.max_output_bytes = 10;
    co_return co_await create_subprocess_exec(std::move(argv), options);
  });
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.out, std::string(10, 'x'));
  EXPECT_TRUE(r.out_truncated);
  EXPECT_EQ(r.err, "ab\n");
  EXPECT_FALSE(r.err_truncated);
}

TEST(Subprocess, MissingProgramIsAClearError) {
  run_on_loop([]() -> asio::awaitable<void> {
    try {
      std::vector<std::string> argv{"no-such-program-lv"};

      (void)co_await create_subprocess_exec(std::move(argv));
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("no-such-program-lv"), std::string::npos);
    }
  });
}

// True once no child of this process is left, zombie or running.
bool no_children_left() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

TEST(Subprocess, TimeoutKillsAndReapsTheChild) {
  run_on_loop([]() -> asio::awaitable<void> {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> argv{"sleep", "30"};

    SubprocessOptions options;
    options.timeout = 50ms;
    EXPECT_THROW((void)co_await create_subprocess_exec(std::move(argv), options), TimeoutError);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
    EXPECT_TRUE(no_children_left()) << "the killed child was reaped";
  });
}

asio::awaitable<int> run_sleep() {
  std::vector<std::string> argv{"sleep", "30"};
  auto result = co_await create_subprocess_exec(std::move(argv));
  co_return result.exit_code;
}

TEST(Subprocess, CancellingTheTaskKillsAndReapsTheChild) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto task = create_task(run_sleep());
    co_await loopvisor::sleep(50ms);
    task.cancel();
    EXPECT_THROW((void)co_await task.async_wait(), CancelledError);
    EXPECT_TRUE(no_children_left());
  });
}

// Runs `argv` with `options` on a loop and returns the result.
SubprocessResult run(std::vector<std::string> argv, SubprocessOptions options = {}) {
  auto request = std::make_shared<std::pair<std::vector<std::string>, SubprocessOptions>>(std::move(argv),
                                                                                          std::move(options));
  return run_on_loop([request]() -> asio::awaitable<SubprocessResult> {
    co_return co_await create_subprocess_exec(request->first, request->second);
  });
}

// True once `pid` is gone or a zombie (killed; its new parent may not have reaped it yet).
bool not_running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

TEST(Subprocess, AChildThatDoesNotReadItsInputIsReportedNotFatal) {
  // Regression: writing the input to a child that had exited raised SIGPIPE and killed the
  // whole process (seen as the daemon dying with exit 141). 1 MiB: more than any pipe buffers.
  SubprocessOptions options;
  options.input = std::string(1 << 20, 'x');
  const auto r = run({"/bin/true"}, options);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.input_closed);
}

TEST(Subprocess, InputTheChildReadsIsNotReportedClosed) {
  SubprocessOptions options;
  options.input = "abc";
  const auto r = run({"cat"}, options);
  EXPECT_EQ(r.out, "abc");
  EXPECT_FALSE(r.input_closed);
}

TEST(Subprocess, TheChildHoldsOnlyStdinStdoutAndStderr) {
  // Regression: children inherited every descriptor without close-on-exec (listening
  // sockets, other children's pipes). Open some the way careless code would.
  const int file = ::open("/dev/null", O_RDONLY);
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  int pair[2];
  ASSERT_EQ(::pipe(pair), 0);
  ASSERT_GE(file, 3);
  ASSERT_GE(sock, 3);
  std::string script = "for fd in 0 1 2";
  for (int fd : {file, sock, pair[0], pair[1]}) script += " " + std::to_string(fd);
  script += "; do if [ -e /proc/$$/fd/$fd ]; then echo $fd open; else echo $fd closed; fi; done";
  const auto r = run({"sh", "-c", script});
  std::string expected = "0 open\n1 open\n2 open\n";
  for (int fd : {file, sock, pair[0], pair[1]}) expected += std::to_string(fd) + " closed\n";
  EXPECT_EQ(r.out, expected);
  for (int fd : {file, sock, pair[0], pair[1]}) ::close(fd);
}

TEST(Subprocess, TheChildStartsWithDefaultSignalDispositions) {
  // An ignored SIGPIPE (as in loopvisord) must not leak into the child: `yes | head` relies on it.
  auto* previous = std::signal(SIGPIPE, SIG_IGN);
  const auto r = run({"sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status"});
  std::signal(SIGPIPE, previous);
  EXPECT_EQ(r.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST(Subprocess, TheResultIsJudgedByTheChildsExitNotByDescendantsHoldingItsPipes) {
  // Regression: `sleep 30 &` kept stdout open, so the call waited for the grandchild.
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run({"sh", "-c", "sleep 30 & echo $!"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s) << "did not wait for the grandchild";
  EXPECT_EQ(r.exit_code, 0);
  const pid_t grandchild = std::stoi(r.out);
  EXPECT_TRUE(eventually([&] { return not_running(grandchild); })) << "the group was killed with the child";
}

TEST(Subprocess, ATimeoutStopsTheWholeProcessGroup) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> argv{"sh", "-c", "sleep 30 & echo $! > /dev/stderr; sleep 60"};
    SubprocessOptions options;
    options.timeout = 300ms;
    options.kill_grace = 100ms;
    EXPECT_THROW((void)co_await create_subprocess_exec(std::move(argv), options), TimeoutError);
    EXPECT_TRUE(no_children_left());
  });
}

TEST(Subprocess, AChildIgnoringSigtermIsKilledAfterTheGrace) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> argv{"sh", "-c", "trap '' TERM; echo ready; sleep 30"};
    SubprocessOptions options;
    options.timeout = 300ms;
    options.kill_grace = 50ms;
    EXPECT_THROW((void)co_await create_subprocess_exec(std::move(argv), options), TimeoutError);
    EXPECT_TRUE(no_children_left());
  });
}

TEST(Subprocess, TheEnvironmentIsExactlyTheOneGiven) {
  SubprocessOptions options;
  options.env = std::vector<std::string>{"A=1", "B=two words"};
  const auto r = run({"/usr/bin/env"}, options);
  EXPECT_EQ(r.out, "A=1\nB=two words\n");
}

TEST(Subprocess, PathIsSearchedInTheGivenEnvironment) {
  SubprocessOptions options;
  options.env = std::vector<std::string>{"PATH=/nonexistent-lv"};
  try {
    (void)run({"true"}, options);
    ADD_FAILURE() << "expected 'not found'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'true' was not found in PATH"), std::string::npos) << e.what();
  }
}

TEST(Subprocess, WorkingDirectoryAndLimitsApplyToTheChild) {
  SubprocessOptions options;
  options.cwd = "/tmp";
  options.limits.open_files = 37;
  options.limits.cpu_seconds = 55;
  options.limits.address_space_bytes = 1024ull * 1024 * 1024;
  const auto r = run({"sh", "-c", "pwd; ulimit -n; ulimit -t; ulimit -v"}, options);
  EXPECT_EQ(r.out, "/tmp\n37\n55\n1048576\n");
}

TEST(Subprocess, AMissingWorkingDirectoryIsAClearError) {
  SubprocessOptions options;
  options.cwd = "/nonexistent-lv-dir";
  try {
    (void)run({"/bin/true"}, options);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("working directory"), std::string::npos) << what;
    EXPECT_NE(what.find("/nonexistent-lv-dir"), std::string::npos) << what;
  }
  EXPECT_TRUE(no_children_left());
}

TEST(Subprocess, AProgramThatCannotBeExecutedIsAClearError) {
  try {
    (void)run({"/etc/hostname"});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("could not exec"), std::string::npos) << e.what();
  }
}

TEST(Subprocess, ASignalledChildReportsMinusTheSignal) {
  const auto r = run({"sh", "-c", "kill -KILL $$"});
  EXPECT_EQ(r.exit_code, -SIGKILL);
}

}  // namespace
}  // namespace loopvisor::test
