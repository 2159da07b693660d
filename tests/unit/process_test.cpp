// Process: streamed stdin/stdout/stderr, wait, communicate, signals, cancellation that leaves
// the child running, destruction that ends it, and misuse.
#include "loopvisor/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "loopvisor/timeout.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

// True when `pid` is gone or a zombie (killed, waiting for whoever reaps orphans).
bool dead(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto close_paren = line.rfind(')');
  return close_paren == std::string::npos || line.substr(close_paren + 2, 1) == "Z";
}

TEST(Process, StreamsStdinAndStdoutLineByLineThenWaits) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> argv{"cat"};
    Process cat = co_await start_process(std::move(argv));
    EXPECT_GT(cat.pid(), 0);
    EXPECT_FALSE(cat.returncode().has_value());
    for (int i = 0; i < 3; ++i) {
      co_await cat.std_in().write("line " + std::to_string(i) + "\n");
      EXPECT_EQ(co_await cat.std_out().readline(), "line " + std::to_string(i) + "\n");
    }
    cat.std_in().write_eof();
    EXPECT_EQ(co_await cat.std_out().read_all(), "");
    EXPECT_EQ(co_await cat.wait(), 0);
    EXPECT_EQ(cat.returncode(), 0);
    EXPECT_EQ(co_await cat.wait(), 0) << "waiting again returns the same code";
  });
}

TEST(Process, CommunicateFeedsInputAndCollectsBothOutputs) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> upper{"tr", "a-z", "A-Z"};
    Process tr = co_await start_process(std::move(upper));
    ProcessOutput got = co_await tr.communicate("hello");
    EXPECT_EQ(got.out, "HELLO");
    EXPECT_EQ(got.exit_code, 0);
    EXPECT_FALSE(got.input_closed);

    std::vector<std::string> failing{"sh", "-c", "echo out; echo oops >&2; exit 3"};
    Process sh = co_await start_process(std::move(failing));
    got = co_await sh.communicate();
    EXPECT_EQ(got.out, "out\n");
    EXPECT_EQ(got.err, "oops\n");
    EXPECT_EQ(got.exit_code, 3);
  });
}

TEST(Process, AChildThatDoesNotReadItsInputIsReportedNotFatal) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> argv{"true"};
    Process p = co_await start_process(std::move(argv));
    ProcessOutput got = co_await p.communicate(std::string(4 << 20, 'x'));
    EXPECT_TRUE(got.input_closed);
    EXPECT_EQ(got.exit_code, 0);
  });
}

TEST(Process, EnvironmentAndWorkingDirectoryAreTheOptions) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> argv{"sh", "-c", "echo \"$FOO\"; pwd"};
    ProcessOptions options;
    options.cwd = "/";
    options.env = std::vector<std::string>{"FOO=bar", "PATH=/usr/bin:/bin"};
    Process p = co_await start_process(std::move(argv), options);
    EXPECT_EQ((co_await p.communicate()).out, "bar\n/\n");
  });
}

TEST(Process, TerminateAndKillReachTheChildAndAreNoOpsAfterTheReap) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> a{"sleep", "30"};
    Process p = co_await start_process(std::move(a));
    p.terminate();
    EXPECT_EQ(co_await p.wait(), -SIGTERM);
    p.kill();  // reaped: nothing to signal, and never a recycled pid
    std::vector<std::string> b{"sleep", "30"};
    Process q = co_await start_process(std::move(b));
    q.kill();
    EXPECT_EQ(co_await q.wait(), -SIGKILL);
    EXPECT_THROW(q.send_signal(0), std::invalid_argument);
    EXPECT_THROW(q.send_signal(100000), std::invalid_argument);
  });
}

TEST(Process, CancellingWaitOrCommunicateLeavesTheChildRunning) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> argv{"sleep", "30"};
    Process p = co_await start_process(std::move(argv));
    {
      auto scope = timeout(20ms);
      EXPECT_THROW((void)co_await scope.run(p.wait()), TimeoutError);
    }
    EXPECT_FALSE(p.returncode().has_value());
    EXPECT_EQ(::kill(p.pid(), 0), 0) << "still running";
    {
      auto scope = timeout(20ms);
      EXPECT_THROW((void)co_await scope.run(p.communicate()), TimeoutError);
    }
    EXPECT_FALSE(dead(p.pid()));
    p.kill();
    EXPECT_EQ(co_await p.wait(), -SIGKILL);
  });
}

TEST(Process, DestroyingAProcessEndsItsWholeGroupAndReapsTheChild) {
  int child = 0;
  int grandchild = 0;
  run_on_loop([&]() -> asio::awaitable<void> {
    std::vector<std::string> argv{"sh", "-c", "sleep 30 & echo $!; wait"};
    Process p = co_await start_process(std::move(argv));
    child = p.pid();
    grandchild = std::stoi(co_await p.std_out().readline());
    EXPECT_FALSE(dead(grandchild));
  });  // the Process went out of scope here, unwaited
  EXPECT_EQ(::waitpid(child, nullptr, WNOHANG), -1) << "reaped already (no zombie left)";
  EXPECT_EQ(errno, ECHILD);
  EXPECT_TRUE(eventually([&] { return dead(grandchild); }));
}

TEST(Process, MisuseIsAClearError) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> missing{"lv-no-such-program"};
    try {
      (void)co_await start_process(std::move(missing));
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("start_process: 'lv-no-such-program' was not found"),
                std::string::npos)
          << e.what();
    }
    EXPECT_THROW((void)co_await start_process(std::vector<std::string>{}), InvalidStateError);
    std::vector<std::string> argv{"true"};
    Process p = co_await start_process(std::move(argv));
    Process moved = std::move(p);
    EXPECT_FALSE(p.valid());  // NOLINT(bugprone-use-after-move): what a moved-from Process says
    EXPECT_THROW((void)p.pid(), InvalidStateError);
    EXPECT_THROW((void)p.wait(), InvalidStateError);
    EXPECT_EQ(co_await moved.wait(), 0);
    EXPECT_THROW(moved.std_out().write_eof(), Error) << "stdout is read-only";
  });
}

TEST(Process, DestroyingItWhileAnotherTaskCommunicatesEndsThatTaskToo) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> argv{"sleep", "30"};
    auto p = std::make_unique<Process>(co_await start_process(std::move(argv)));
    auto talking = create_task([](Process* proc) -> asio::awaitable<ProcessOutput> {
      co_return co_await proc->communicate("ignored");
    }(p.get()));
    co_await yield_now();
    const int pid = p->pid();
    p.reset();  // kills the group, reaps the child, closes the pipes under the readers
    EXPECT_TRUE(dead(pid));
    try {
      const ProcessOutput got = co_await talking.async_wait();
      ADD_FAILURE() << "communicate returned " << got.exit_code;
    } catch (const InvalidStateError& e) {
      EXPECT_NE(std::string(e.what()).find("destroyed"), std::string::npos) << e.what();
    }
  });
}

}  // namespace
}  // namespace loopvisor::test
