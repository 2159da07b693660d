// asyncio scenario 7: a loop created on the main thread runs forever on a second thread. The
// main thread hands it plain functions with call_soon_threadsafe (a blocking one holds up the
// loop: 3 + 2 + 6 in sequence) and coroutines with run_coroutine_threadsafe (they run
// concurrently), and returns at once instead of waiting. One "second" is 10 ms here.
#include <iostream>
#include <thread>

#include "loopvisor/loopvisor.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
constexpr auto second = 10ms;

long ms_since(clock_type::time_point t0) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count());
}

asio::awaitable<int> more_work(int n) {
  co_await loopvisor::sleep(n * second);
  co_return n;
}

int main() {
  loopvisor::Loop loop;  // new_event_loop() on the main thread
  std::thread runner([&loop] { loop.run_forever(); });

  auto t0 = clock_type::now();
  for (int n : {3, 2, 6}) {
    loop.call_soon_threadsafe([n] { std::this_thread::sleep_for(n * second); });  // blocking, on purpose
  }
  const bool main_free = ms_since(t0) < 3 * 10;
  auto all_ran = loop.submit([] {});  // FIFO: runs after the three blocking functions
  all_ran.get();
  const long sequential = ms_since(t0);

  t0 = clock_type::now();
  std::vector<loopvisor::ThreadFuture<int>> futures;
  for (int n : {3, 2, 6}) futures.push_back(loop.run_coroutine_threadsafe(more_work(n)));
  const bool returned_at_once = ms_since(t0) < 3 * 10;
  int sum = 0;
  for (auto& f : futures) sum += f.get(5s);
  const long concurrent = ms_since(t0);

  std::cout << "call_soon_threadsafe: main thread free: " << std::boolalpha << main_free
            << ", functions ran in sequence: " << (sequential >= 11 * 10) << std::endl;
  std::cout << "run_coroutine_threadsafe: returned at once: " << returned_at_once
            << ", coroutines ran concurrently: " << (concurrent < 11 * 10) << ", sum " << sum << std::endl;
  loop.stop();
  runner.join();
  loop.close();
}
