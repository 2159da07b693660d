// asyncio scenario 4: gather keeps argument order, wait gives (done, pending), as_completed
// gives completion order (3, 4, 5).
#include <iostream>

#include "loopvisor/loopvisor.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<int> func(int n) {
  co_await loopvisor::sleep(n * 20ms);
  co_return n;
}

std::vector<loopvisor::Task<int>> start() {
  return {loopvisor::create_task(func(5)), loopvisor::create_task(func(3)), loopvisor::create_task(func(4))};
}

asio::awaitable<void> amain() {
  auto gathered = co_await loopvisor::gather(start());
  std::cout << "gather:";
  for (int v : gathered) std::cout << " " << v;
  std::cout << std::endl;

  auto [done, pending] = co_await loopvisor::wait(start(), loopvisor::ReturnWhen::first_completed);
  std::cout << "wait(first_completed): done " << done.size() << " (" << done[0].result() << "), pending "
            << pending.size() << std::endl;
  for (auto& t : pending) co_await t;

  auto in_order = loopvisor::as_completed(start());
  std::cout << "as_completed:";
  while (!in_order.empty()) std::cout << " " << co_await in_order.next();
  std::cout << std::endl;
}

int main() {
  loopvisor::Supervisor runtime(loopvisor::SupervisorOptions{.loops = 1});
  runtime.run_coroutine_threadsafe(amain()).get();
}
