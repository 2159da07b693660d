// Example: a plain multi-threaded C++ program (no coroutines of its own) embedding loopvisor.
//
// Its worker threads stand for an existing server's request threads: each hands work to the
// runtime without blocking, keeps the futures, and collects the results later. The runtime's
// loops do the waiting (here: timers standing in for I/O) concurrently.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loopvisor/loopvisor.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// What the runtime runs for a request: wait for a (simulated) backend, then answer.
asio::awaitable<std::string> lookup(int request_id) {
  asio::steady_timer backend(co_await asio::this_coro::executor, 20ms);
  co_await backend.async_wait(asio::use_awaitable);
  co_return "user-" + std::to_string(request_id);
}

}  // namespace

int main() {
  loopvisor::SupervisorOptions options;
  options.loops = 2;
  loopvisor::Supervisor runtime(options);

  constexpr int threads = 4;
  constexpr int requests_per_thread = 25;
  std::mutex out_mu;
  int total_ok = 0;
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      // Submit everything first: submission never blocks this thread.
      std::vector<loopvisor::ThreadFuture<std::string>> pending;
      for (int i = 0; i < requests_per_thread; ++i) {
        pending.push_back(runtime.run_coroutine_threadsafe(lookup(t * 100 + i)));
      }
      // A fire-and-forget notification, placed by key so one user's events stay in order.
      runtime.loop_for_key("audit").call_soon_threadsafe([] { /* write an audit record */ });
      // Then collect, with a bound.
      int ok = 0;
      for (auto& f : pending) {
        if (f.get(5s).rfind("user-", 0) == 0) ++ok;
      }
      std::lock_guard g(out_mu);
      total_ok += ok;
      std::cout << "worker " << t << ": " << ok << "/" << requests_per_thread << " answers\n";
    });
  }
  for (auto& w : workers) w.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;

  const auto report = runtime.shutdown(2s);
  std::cout << "answers: " << total_ok << "/" << threads * requests_per_thread << "\n";
  // 100 requests of 20 ms each: about 20 ms when concurrent, 2 s when serial.
  std::cout << "requests ran concurrently: " << (elapsed < 1s ? "yes" : "no") << "\n";
  std::cout << "shutdown: " << (report.graceful() ? "graceful" : "forced") << "\n";
  return 0;
}
