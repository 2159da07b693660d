// asyncio scenario 2: a coroutine object does nothing until scheduled; its Task reads pending
// before it runs and finished after.
#include <iostream>

#include "loopvisor/loopvisor.hpp"

namespace asio = boost::asio;

asio::awaitable<int> work(bool* ran) {
  *ran = true;
  co_return 42;
}

asio::awaitable<void> amain() {
  bool ran = false;
  auto coroutine = work(&ran);  // a coroutine object: nothing has run
  std::cout << "coroutine created, ran: " << std::boolalpha << ran << std::endl;
  auto task = loopvisor::create_task(std::move(coroutine));
  std::cout << "task state before run: " << loopvisor::to_string(task.status()) << std::endl;
  const int result = co_await task;
  std::cout << "task state after run: " << loopvisor::to_string(task.status()) << ", result " << result
            << ", ran: " << ran << std::endl;
}

int main() {
  loopvisor::Supervisor runtime(loopvisor::SupervisorOptions{.loops = 1});
  runtime.run_coroutine_threadsafe(amain()).get();
}
