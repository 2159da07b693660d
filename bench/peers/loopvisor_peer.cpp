// loopvisor on W1-W6 for bench/compare.py. IMPL is `loopvisor` (the defaults),
// `loopvisor+spin50` (a 50 µs spin budget on every loop and waiter) or `loopvisor-nodiag`
// (slow-callback detection off: what the diagnostics cost).
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <thread>
#include <vector>

#include "loopvisor/loopvisor.hpp"
#include "peer_common.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

/// A Loop on its own thread (the second allowed CPU under cross pinning).
class LoopThread {
 public:
  LoopThread(const loopvisor::LoopOptions& options, bool cross, std::size_t cpu)
      : loop_(options), thread_([this, cross, cpu] {
          peer::pin_self(cross, cpu);
          loop_.run_forever();
        }) {
    loop_.submit([] {}).get();
  }
  ~LoopThread() {
    (void)loop_.close(5s, 5s);
    thread_.join();
  }
  loopvisor::Loop& loop() { return loop_; }

 private:
  loopvisor::Loop loop_;
  std::thread thread_;
};

// W1/W2 with the non-throwing submission; a full queue is the loop pushing back, and the
// producer yields and retries.
void callbacks(const peer::Args& a, const loopvisor::LoopOptions& o, int producers) {
  LoopThread target(o, a.cross, 1);
  peer::produce_and_drain(a, producers, [&](auto callback) {
    while (target.loop().try_call_soon_threadsafe(callback) != loopvisor::SubmitStatus::accepted) {
      std::this_thread::yield();
    }
  });
}

asio::awaitable<int> answer() { co_return 42; }

void round_trips_from_thread(const peer::Args& a, const loopvisor::LoopOptions& o) {
  LoopThread target(o, a.cross, 1);
  peer::pin_self(a.cross, 0);
  std::vector<double> us;
  us.reserve(peer::w3_round_trips);
  for (int i = 0; i < peer::w3_round_trips; ++i) {
    const auto t0 = peer::Clock::now();
    if (target.loop().run_coroutine_threadsafe(answer()).get() != 42) std::abort();
    us.push_back(peer::micros(peer::Clock::now() - t0));
  }
  peer::print_latency("W3", a.impl, std::move(us));
}

asio::awaitable<void> spawn_and_await(int n) {
  std::vector<loopvisor::Task<int>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(loopvisor::create_task(answer()));
  for (auto& t : tasks) (void)co_await t;  // a Task is an asynchronous operation: no frame per await
}

void spawn(const peer::Args& a, const loopvisor::LoopOptions& o) {
  LoopThread target(o, false, 0);
  const auto start = peer::Clock::now();
  target.loop().run_coroutine_threadsafe(spawn_and_await(peer::w4_tasks)).get();
  peer::print_rate("W4", a.impl, "tasks_per_s", peer::w4_tasks / peer::seconds_since(start));
}

asio::awaitable<void> sleeper() { co_await loopvisor::sleep(peer::w5_sleep); }

asio::awaitable<long> spawn_sleepers(int n, long before) {
  std::vector<loopvisor::Task<void>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(loopvisor::create_task(sleeper()));
  co_await loopvisor::sleep(0s);  // every task has started and sleeps
  const long per_task = (peer::resident_bytes() - before) / n;
  for (auto& t : tasks) co_await t;
  co_return per_task;
}

void sleepers(const peer::Args& a, const loopvisor::LoopOptions& o) {
  LoopThread target(o, false, 0);
  const long before = peer::resident_bytes();
  const auto start = peer::Clock::now();
  const long per_task = target.loop().run_coroutine_threadsafe(spawn_sleepers(peer::w5_tasks, before)).get();
  std::printf("W5 %s bytes_per_task=%ld wall_s=%.3f\n", a.impl.c_str(), per_task, peer::seconds_since(start));
}

asio::awaitable<std::vector<double>> hops(loopvisor::Loop* b, int n) {
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto t0 = peer::Clock::now();
    (void)co_await b->submit([] { return 1; }).async_wait();
    us.push_back(peer::micros(peer::Clock::now() - t0));
  }
  co_return us;
}

void round_trips_between_loops(const peer::Args& a, const loopvisor::LoopOptions& o) {
  LoopThread first(o, a.cross, 0);
  LoopThread second(o, a.cross, 1);
  auto us = first.loop().run_coroutine_threadsafe(hops(&second.loop(), peer::w6_round_trips)).get();
  peer::print_latency("W6", a.impl, std::move(us), "rt_us");
}

}  // namespace

int main(int argc, char** argv) {
  const auto a = peer::parse(argc, argv);
  loopvisor::LoopOptions o;  // the default queue capacity: W1 must win with it
  if (a.impl == "loopvisor+spin50") {
    o.spin_before_park = 50us;
  } else if (a.impl == "loopvisor-nodiag") {
    o.slow_callback_threshold = 0ms;
  } else if (a.impl != "loopvisor") {
    std::fprintf(stderr, "unknown impl %s\n", a.impl.c_str());
    return 2;
  }
  if (a.workload == "W1")
    callbacks(a, o, 1);
  else if (a.workload == "W2")
    callbacks(a, o, 2);
  else if (a.workload == "W3")
    round_trips_from_thread(a, o);
  else if (a.workload == "W4")
    spawn(a, o);
  else if (a.workload == "W5")
    sleepers(a, o);
  else if (a.workload == "W6")
    round_trips_between_loops(a, o);
  else
    return 2;
  return 0;
}
