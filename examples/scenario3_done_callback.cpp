// asyncio scenario 3: a done callback receives the finished task and prints its result.
#include <iostream>

#include "loopvisor/loopvisor.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<std::string> fetch() {
  co_await loopvisor::sleep(20ms);
  co_return "recv num 2";
}

asio::awaitable<void> amain() {
  auto task = loopvisor::create_task(fetch());
  task.add_done_callback(
      [](loopvisor::Task<std::string> done) { std::cout << "callback: " << done.result() << std::endl; });
  co_await task;
  co_await loopvisor::sleep(0ms);  // let the scheduled callback run
  std::cout << "result(): " << task.result() << std::endl;
}

int main() {
  loopvisor::Supervisor runtime(loopvisor::SupervisorOptions{.loops = 1});
  runtime.run_coroutine_threadsafe(amain()).get();
}
