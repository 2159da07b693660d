// create_subprocess_exec: exit codes, captured output, input, timeouts, kill-and-reap on cancel.
#include "loopvisor/subprocess.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace loopvisor::test
