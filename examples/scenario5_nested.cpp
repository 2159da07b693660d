// asyncio scenario 5: a main coroutine creates three tasks and awaits them (nested coroutines).
#include <iostream>

#include "loopvisor/loopvisor.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<std::string> func1(int n) {
  co_await loopvisor::sleep(n * 20ms);
  co_return "recv num " + std::to_string(n);
}

asio::awaitable<std::vector<std::string>> main_coroutine() {
  std::vector<loopvisor::Task<std::string>> tasks;
  for (int n : {5, 3, 4}) tasks.push_back(loopvisor::create_task(func1(n)));
  std::vector<std::string> results;
  for (auto& t : tasks) results.push_back(co_await t);
  co_return results;
}

int main() {
  loopvisor::Supervisor runtime(loopvisor::SupervisorOptions{.loops = 1});
  for (const auto& r : runtime.run_coroutine_threadsafe(main_coroutine()).get()) std::cout << r << std::endl;
}
