// Test helpers: run a body on a real loop thread, wait on conditions with a bound.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <thread>

#include "loopvisor/loopvisor.hpp"

/// ASSERT_TRUE for coroutine bodies (gtest's ASSERT_* use `return`, which coroutines forbid).
#define CO_ASSERT_TRUE(cond)                        \
  if (!(cond)) {                                    \
    ADD_FAILURE() << "assertion failed: " << #cond; \
    co_return;                                      \
  }

namespace loopvisor::test {

using namespace std::chrono_literals;
namespace asio = boost::asio;

/// Upper bound for any wait in a test: generous, since sanitizer builds are slow.
inline constexpr auto bound = std::chrono::seconds(20);

/// A stand-alone loop run by its own std::thread for the duration of a test.
class LoopThread {
 public:
  explicit LoopThread(LoopOptions options = {}) : loop_(std::move(options)) {
    thread_ = std::thread([this] { loop_.run_forever(); });
    // Wait until the loop runs a callback: it is then inside run_forever.
    loop_.submit([] {}).get(bound);
  }
  ~LoopThread() {
    loop_.close(1s, 1s);
    if (thread_.joinable()) thread_.join();
  }
  Loop& loop() { return loop_; }
  Loop* operator->() { return &loop_; }

 private:
  Loop loop_;
  std::thread thread_;
};

/// Runs `body()` (returning awaitable<T>) as a task on a fresh loop thread and returns its
/// result; fails the test if it takes longer than `bound`.
template <class F>
auto run_on_loop(F body, LoopOptions options = {}) {
  LoopThread lt(std::move(options));
  auto future = lt->submit(std::move(body));
  return future.get(bound);
}

/// Suspends the calling coroutine for `d` (a timer on the current executor).
inline asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

/// Lets every handler already queued on the loop run, then resumes (asyncio.sleep(0)).
inline asio::awaitable<void> yield_now() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

/// On a loop: yields until `pred()` holds; throws if it does not within `timeout`.
inline asio::awaitable<void> until(std::function<bool()> pred, std::chrono::milliseconds timeout = bound) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("until(): condition not met in time");
    co_await sleep_for(100us);
  }
}

/// A coroutine that sleeps `d`, then returns `v` (the usual child task of these tests).
inline asio::awaitable<int> value_after(std::chrono::milliseconds d, int v) {
  co_await loopvisor::sleep(d);
  co_return v;
}

/// A coroutine that sleeps `d`, then throws std::runtime_error(what). Two overloads, not a
/// default argument: GCC 12 miscompiles defaulted class-type arguments of coroutines.
inline asio::awaitable<int> fail_after(std::chrono::milliseconds d, std::string what) {
  co_await loopvisor::sleep(d);
  throw std::runtime_error(what);
}
inline asio::awaitable<int> fail_after(std::chrono::milliseconds d) { return fail_after(d, "failed"); }

/// Polls `pred` until true or `timeout`; returns its last value. For conditions set by other
/// threads that have no event to wait on (a counter, a state).
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = bound) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// A one-shot flag another thread can wait on with a bound.
class Signal {
 public:
  void set() {
    {
      std::lock_guard g(mu_);
      set_ = true;
    }
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds timeout = bound) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return set_; });
  }
  bool is_set() {
    std::lock_guard g(mu_);
    return set_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

}  // namespace loopvisor::test
