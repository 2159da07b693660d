// Benchmarks of workloads W1-W4 and W6 (docs/benchmarks.md): loopvisor next to raw Asio in one run.
#include <benchmark/benchmark.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "asio_thread.hpp"
#include "loopvisor/loopvisor.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// A loopvisor Loop on its own thread.
class LoopThread {
 public:
  explicit LoopThread(std::size_t capacity = 1 << 16, std::chrono::microseconds spin = {})
      : loop_(options(capacity, spin)), thread_([this] { loop_.run_forever(); }) {
    loop_.submit([] {}).get();  // running before any measurement (and before any close)
  }
  ~LoopThread() {
    (void)loop_.close(5s, 5s);
    thread_.join();
  }
  loopvisor::Loop& loop() { return loop_; }

 private:
  static loopvisor::LoopOptions options(std::size_t capacity, std::chrono::microseconds spin) {
    loopvisor::LoopOptions o;
    o.submit_queue_capacity = capacity;
    o.spin_before_park = spin;
    return o;
  }
  loopvisor::Loop loop_;
  std::thread thread_;
};

// Posts until accepted: a full queue is the runtime pushing back, and the producer waits.
void submit_until_accepted(loopvisor::Loop& loop, std::atomic<std::uint64_t>& ran, std::uint64_t& rejected) {
  for (;;) {
    try {
      (void)loop.call_soon_threadsafe([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
      return;
    } catch (const loopvisor::SubmissionRejected&) {
      ++rejected;
      std::this_thread::yield();
    }
  }
}

// W1/W2: plain threads post no-op callbacks to one loop; callbacks per second.
void BM_W1_loopvisor_call_soon_threadsafe(benchmark::State& state) {
  static std::unique_ptr<LoopThread> target;
  static std::atomic<std::uint64_t> ran{0};
  if (state.thread_index() == 0) {
    target = std::make_unique<LoopThread>();
    ran = 0;
  }
  std::uint64_t rejected = 0;
  std::uint64_t sent = 0;
  for (auto _ : state) {
    submit_until_accepted(target->loop(), ran, rejected);
    ++sent;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
  state.counters["rejected_retries"] =
      benchmark::Counter(static_cast<double>(rejected), benchmark::Counter::kAvgThreads);
  if (state.thread_index() == 0) target.reset();  // close() drains: every accepted callback runs
}
BENCHMARK(BM_W1_loopvisor_call_soon_threadsafe)->Threads(1)->Threads(2)->UseRealTime();

// W1/W2 with the non-throwing form: a full queue costs a status, not an exception, and no
// Handle is made.
void BM_W1_loopvisor_try_call_soon_threadsafe(benchmark::State& state) {
  static std::unique_ptr<LoopThread> target;
  static std::atomic<std::uint64_t> ran{0};
  if (state.thread_index() == 0) {
    target = std::make_unique<LoopThread>();
    ran = 0;
  }
  std::uint64_t rejected = 0;
  std::uint64_t sent = 0;
  for (auto _ : state) {
    while (target->loop().try_call_soon_threadsafe([] { ran.fetch_add(1, std::memory_order_relaxed); }) !=
           loopvisor::SubmitStatus::accepted) {
      ++rejected;
      std::this_thread::yield();
    }
    ++sent;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
  state.counters["rejected_retries"] =
      benchmark::Counter(static_cast<double>(rejected), benchmark::Counter::kAvgThreads);
  if (state.thread_index() == 0) target.reset();
}
BENCHMARK(BM_W1_loopvisor_try_call_soon_threadsafe)->Threads(1)->Threads(2)->UseRealTime();

void BM_W1_asio_post(benchmark::State& state) {
  static std::unique_ptr<AsioThread> target;
  static std::atomic<std::uint64_t> ran{0};
  if (state.thread_index() == 0) {
    target = std::make_unique<AsioThread>();
    ran = 0;
  }
  std::uint64_t sent = 0;
  for (auto _ : state) {
    asio::post(target->io(), [] { ran.fetch_add(1, std::memory_order_relaxed); });
    ++sent;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
  if (state.thread_index() == 0) target.reset();
}
BENCHMARK(BM_W1_asio_post)->Threads(1)->Threads(2)->UseRealTime();

asio::awaitable<int> answer() { co_return 42; }

// W3: a plain thread submits a coroutine returning an int and blocks for the result.
// The argument is the loop's spin_before_park in microseconds (0: off).
void BM_W3_loopvisor_run_coroutine_threadsafe(benchmark::State& state) {
  LoopThread target(1 << 16, std::chrono::microseconds(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(target.loop().run_coroutine_threadsafe(answer()).get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_W3_loopvisor_run_coroutine_threadsafe)->Arg(0)->Arg(50)->UseRealTime();

void BM_W3_asio_co_spawn_use_future(benchmark::State& state) {
  AsioThread target;
  for (auto _ : state) {
    benchmark::DoNotOptimize(asio::co_spawn(target.io(), answer(), asio::use_future).get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_W3_asio_co_spawn_use_future)->UseRealTime();

// W4: on a loop, spawn N tasks that return at once and await them all.
asio::awaitable<void> spawn_and_await_loopvisor(int n) {
  std::vector<loopvisor::Task<int>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(loopvisor::create_task(answer()));
  for (auto& t : tasks) benchmark::DoNotOptimize(co_await t.async_wait());
}

void BM_W4_loopvisor_create_task(benchmark::State& state) {
  LoopThread target;
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) target.loop().run_coroutine_threadsafe(spawn_and_await_loopvisor(n)).get();
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_W4_loopvisor_create_task)->Arg(100000)->UseRealTime()->Unit(benchmark::kMillisecond);

asio::awaitable<void> spawn_and_await_asio(int n) {
  auto ex = co_await asio::this_coro::executor;
  int remaining = n;
  asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(ex, answer(), [&](std::exception_ptr, int) {
      if (--remaining == 0) all_done.cancel();
    });
  }
  boost::system::error_code ec;
  if (remaining > 0) co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void BM_W4_asio_co_spawn(benchmark::State& state) {
  AsioThread target;
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) asio::co_spawn(target.io(), spawn_and_await_asio(n), asio::use_future).get();
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_W4_asio_co_spawn)->Arg(100000)->UseRealTime()->Unit(benchmark::kMillisecond);

// W6: a message hops loop A -> loop B -> loop A.
asio::awaitable<void> hop_loopvisor(loopvisor::Loop* b, int hops) {
  for (int i = 0; i < hops; ++i) {
    co_await b->submit([] { return 1; }).async_wait();
  }
}

void BM_W6_loopvisor_round_trip(benchmark::State& state) {
  const std::chrono::microseconds spin(state.range(0));  // spin_before_park of both loops
  LoopThread a(1 << 16, spin);
  LoopThread b(1 << 16, spin);
  constexpr int hops = 1000;
  for (auto _ : state) a.loop().run_coroutine_threadsafe(hop_loopvisor(&b.loop(), hops)).get();
  state.SetItemsProcessed(state.iterations() * hops);
}
BENCHMARK(BM_W6_loopvisor_round_trip)->Arg(0)->Arg(50)->UseRealTime();

asio::awaitable<void> hop_asio(asio::io_context* b, int hops) {
  for (int i = 0; i < hops; ++i) {
    co_await asio::co_spawn(*b, answer(), asio::use_awaitable);
  }
}

void BM_W6_asio_round_trip(benchmark::State& state) {
  AsioThread a;
  AsioThread b;
  constexpr int hops = 1000;
  for (auto _ : state) asio::co_spawn(a.io(), hop_asio(&b.io(), hops), asio::use_future).get();
  state.SetItemsProcessed(state.iterations() * hops);
}
BENCHMARK(BM_W6_asio_round_trip)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
