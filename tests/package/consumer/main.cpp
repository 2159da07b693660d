// Consumer of the installed loopvisor package: runs a coroutine on a supervisor and prints it.
#include <loopvisor/loopvisor.hpp>

#include <iostream>

int main() {
  loopvisor::Supervisor supervisor(loopvisor::SupervisorOptions{.loops = 1});
  auto answer = supervisor.run_coroutine_threadsafe([]() -> boost::asio::awaitable<int> { co_return 42; }());
  std::cout << "consumer got " << answer.get(std::chrono::seconds(10)) << " from loopvisor "
            << LOOPVISOR_VERSION << "\n";
  return 0;
}
