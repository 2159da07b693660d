// BlockingPool, to_thread, run_in_executor: off-loop work, bounds, cancellation, shutdown.
#include "loopvisor/blocking_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "loopvisor/sleep.hpp"
#include "loopvisor/supervisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

TEST(ToThread, RunsOffTheLoopAndTheLoopKeepsRunning) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  auto f = sup.run_coroutine_threadsafe([]() -> asio::awaitable<bool> {
    const auto loop_thread = std::this_thread::get_id();
    Signal release;
    auto blocked = create_task(to_thread([&release, loop_thread] {
      EXPECT_NE(std::this_thread::get_id(), loop_thread);
      return release.wait();  // blocks a pool thread, not the loop
    }));
    int ticks = 0;
    while (ticks < 3) {
      co_await loopvisor::sleep(1ms);
      ++ticks;  // the loop is free while the blocking call waits
    }
    release.set();
    co_return co_await blocked.async_wait();
  }());
  EXPECT_TRUE(f.get(bound));
}

TEST(ToThread, ExceptionsComeBackToTheAwaiter) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  auto f = sup.run_coroutine_threadsafe([]() -> asio::awaitable<void> {
    EXPECT_THROW(co_await to_thread([] { throw std::runtime_error("disk on fire"); }), std::runtime_error);
  }());
  f.get(bound);
}

TEST(BlockingPool, FullPoolRejectsAtOnceAndCancelledQueuedJobsNeverRun) {
  BlockingPool pool(BlockingPoolOptions{.threads = 1, .max_pending = 2});
  Signal release;
  std::atomic<bool> second_ran{false};
  auto first = pool.submit([&] { release.wait(); });
  auto second = pool.submit([&] { second_ran = true; });
  EXPECT_THROW((void)pool.submit([] {}), SubmissionRejected);
  EXPECT_TRUE(second.cancel());
  release.set();
  first.get(bound);
  pool.shutdown();
  EXPECT_FALSE(second_ran.load());
  EXPECT_THROW((void)pool.submit([] {}), RuntimeClosed);
}

TEST(BlockingPool, ShutdownRunsEveryAcceptedJob) {
  std::atomic<int> ran{0};
  {
    BlockingPool pool(BlockingPoolOptions{.threads = 2});
    for (int i = 0; i < 50; ++i) (void)pool.submit([&] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 50);
}

TEST(RunInExecutor, UsesTheGivenPool) {
  BlockingPool pool(BlockingPoolOptions{.threads = 1, .thread_name_prefix = "custom-"});
  LoopThread lt;
  auto name = lt->run_coroutine_threadsafe([](BlockingPool* p) -> asio::awaitable<std::string> {
    co_return co_await run_in_executor(*p, [] {
      char buf[32] = {};
      pthread_getname_np(pthread_self(), buf, sizeof buf);
      return std::string(buf);
    });
  }(&pool));
  EXPECT_EQ(name.get(bound), "custom-0");
}

TEST(ToThread, StandaloneLoopUsesItsOwnPool) {
  LoopThread lt;
  auto v = lt->run_coroutine_threadsafe(
      []() -> asio::awaitable<int> { co_return co_await to_thread([] { return 6; }); }());
  EXPECT_EQ(v.get(bound), 6);
}

TEST(BlockingPool, ABoundedShutdownReturnsAndCountsTheJobsStillRunning) {
  auto release = std::make_shared<Signal>();
  auto pool = std::make_unique<BlockingPool>();
  auto started = std::make_shared<Signal>();
  auto stuck = pool->submit([started, release] {
    started->set();
    release->wait();
  });
  ASSERT_TRUE(started->wait());
  EXPECT_EQ(pool->shutdown(std::chrono::milliseconds(20)), 1u);
  pool.reset();  // the stuck job belongs to a background joiner now: no wait here
  release->set();
  EXPECT_NO_THROW(stuck.get(bound)) << "the accepted job still ran to its end";
}

TEST(Supervisor, ShutdownWithABlockingJoinBoundReportsWhatWasStillRunning) {
  auto release = std::make_shared<Signal>();
  auto started = std::make_shared<Signal>();
  SupervisorOptions options;
  options.loops = 1;
  Supervisor sup(options);
  auto job = sup.loop(0).blocking_pool().submit([started, release] {
    started->set();
    release->wait();
  });
  ASSERT_TRUE(started->wait());
  const auto report = sup.shutdown(std::chrono::milliseconds(100), std::chrono::milliseconds(20));
  EXPECT_EQ(report.blocking_jobs_unfinished, 1u);
  EXPECT_NE(report.to_string().find("blocking_jobs_unfinished=1"), std::string::npos) << report.to_string();
  release->set();
  EXPECT_NO_THROW(job.get(bound));
}

TEST(BlockingPool, DestroyedByItsOwnJobIsReportedNotFatal) {
  auto pool = std::make_shared<BlockingPool>();
  auto done = std::make_shared<Signal>();
  // The job holds the last reference: the pool's destructor runs on the pool's own thread.
  auto* raw = pool.get();
  (void)raw->submit([keep = std::move(pool), done]() mutable {
    keep.reset();
    done->set();
  });
  EXPECT_TRUE(done->wait())
      << "the job could not finish (destroying its pool from inside it hung or crashed)";
}

}  // namespace
}  // namespace loopvisor::test
