// Raw Boost.Asio on W1-W6 for bench/compare.py (IMPL `asio`): an io_context per thread, `post`
// for callbacks, `co_spawn` for coroutines, a steady_timer per sleeping coroutine.
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>
#include <vector>

#include "../asio_thread.hpp"
#include "peer_common.hpp"

namespace asio = boost::asio;

namespace {

/// An AsioThread pinned to the `cpu`-th allowed CPU under cross pinning.
AsioThread pinned_thread(bool cross, std::size_t cpu) {
  return AsioThread([=] { peer::pin_self(cross, cpu); });
}

void callbacks(const peer::Args& a, int producers) {
  auto target = pinned_thread(a.cross, 1);
  peer::produce_and_drain(a, producers, [&](auto callback) { asio::post(target.io(), std::move(callback)); });
}

asio::awaitable<int> answer() { co_return 42; }

void round_trips_from_thread(const peer::Args& a) {
  auto target = pinned_thread(a.cross, 1);
  peer::pin_self(a.cross, 0);
  std::vector<double> us;
  us.reserve(peer::w3_round_trips);
  for (int i = 0; i < peer::w3_round_trips; ++i) {
    const auto t0 = peer::Clock::now();
    if (asio::co_spawn(target.io(), answer(), asio::use_future).get() != 42) std::abort();
    us.push_back(peer::micros(peer::Clock::now() - t0));
  }
  peer::print_latency("W3", a.impl, std::move(us));
}

/// Spawns `n` coroutines made by `make` and waits until every one has finished.
template <class Make>
asio::awaitable<void> spawn_all(int n, Make make, long* per_task, long before) {
  auto ex = co_await asio::this_coro::executor;
  int remaining = n;
  asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(ex, make(), [&](std::exception_ptr, auto&&...) {
      if (--remaining == 0) all_done.cancel();
    });
  }
  if (per_task != nullptr) *per_task = (peer::resident_bytes() - before) / n;
  boost::system::error_code ec;
  if (remaining > 0) co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void spawn(const peer::Args& a) {
  auto target = pinned_thread(false, 0);
  const auto start = peer::Clock::now();
  asio::co_spawn(target.io(), spawn_all(peer::w4_tasks, answer, nullptr, 0), asio::use_future).get();
  peer::print_rate("W4", a.impl, "tasks_per_s", peer::w4_tasks / peer::seconds_since(start));
}

asio::awaitable<void> sleeper() {
  asio::steady_timer timer(co_await asio::this_coro::executor, peer::w5_sleep);
  co_await timer.async_wait(asio::use_awaitable);
}

void sleepers(const peer::Args& a) {
  auto target = pinned_thread(false, 0);
  const long before = peer::resident_bytes();
  const auto start = peer::Clock::now();
  long per_task = 0;
  asio::co_spawn(target.io(), spawn_all(peer::w5_tasks, sleeper, &per_task, before), asio::use_future).get();
  std::printf("W5 %s bytes_per_task=%ld wall_s=%.3f\n", a.impl.c_str(), per_task, peer::seconds_since(start));
}

asio::awaitable<std::vector<double>> hops(asio::io_context* b, int n) {
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto t0 = peer::Clock::now();
    (void)co_await asio::co_spawn(*b, answer(), asio::use_awaitable);
    us.push_back(peer::micros(peer::Clock::now() - t0));
  }
  co_return us;
}

void round_trips_between_loops(const peer::Args& a) {
  auto first = pinned_thread(a.cross, 0);
  auto second = pinned_thread(a.cross, 1);
  auto us = asio::co_spawn(first.io(), hops(&second.io(), peer::w6_round_trips), asio::use_future).get();
  peer::print_latency("W6", a.impl, std::move(us), "rt_us");
}

}  // namespace

int main(int argc, char** argv) {
  const auto a = peer::parse(argc, argv);
  if (a.impl != "asio") return 2;
  if (a.workload == "W1")
    callbacks(a, 1);
  else if (a.workload == "W2")
    callbacks(a, 2);
  else if (a.workload == "W3")
    round_trips_from_thread(a);
  else if (a.workload == "W4")
    spawn(a);
  else if (a.workload == "W5")
    sleepers(a);
  else if (a.workload == "W6")
    round_trips_between_loops(a);
  else
    return 2;
  return 0;
}
