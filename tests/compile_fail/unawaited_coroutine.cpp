// Must NOT compile with -Werror=unused-result: a task or future nobody keeps or awaits is
// the C++ twin of asyncio's "coroutine was never awaited".
#include <loopvisor/loopvisor.hpp>

boost::asio::awaitable<int> work() { co_return 1; }

boost::asio::awaitable<void> forgetful(loopvisor::Loop& loop) {
  loopvisor::create_task(work());             // warning: ignoring returned Task
  loop.run_coroutine_threadsafe(work());      // warning: ignoring returned ThreadFuture
  loopvisor::sleep(std::chrono::seconds(1));  // warning: ignoring returned Sleep
  co_return;
}
