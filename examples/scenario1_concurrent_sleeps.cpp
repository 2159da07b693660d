// asyncio scenario 1: three coroutines func1(n) sleep n "seconds" each and finish together.
//
// Python:  async def func1(n): print(n, "before"); await asyncio.sleep(n); print(n, "after")
//          return f"recv num {n}"     — run with 5, 3, 4: done in about 5, not 12.
// Here one "second" is 100 ms so the test suite stays fast; the shape is the same.
#include <chrono>
#include <iostream>

#include "loopvisor/loopvisor.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
constexpr auto second = 100ms;

asio::awaitable<std::string> func1(int n) {
  std::cout << n << " before" << std::endl;
  co_await loopvisor::sleep(n * second);
  std::cout << n << " after" << std::endl;
  co_return "recv num " + std::to_string(n);
}

asio::awaitable<void> amain() {
  auto [a, b, c] = co_await loopvisor::gather(
      loopvisor::create_task(func1(5)), loopvisor::create_task(func1(3)), loopvisor::create_task(func1(4)));
  std::cout << a << ", " << b << ", " << c << std::endl;
}

int main() {
  loopvisor::Supervisor runtime(loopvisor::SupervisorOptions{.loops = 1});
  const auto start = std::chrono::steady_clock::now();
  runtime.run_coroutine_threadsafe(amain()).get();
  const auto took = std::chrono::steady_clock::now() - start;
  std::cout << "took about " << (took < 9 * second ? "5" : "12") << " seconds" << std::endl;
}
