// ThreadFuture<T>: blocking get with and without timeout, cancel, done callbacks, cross-loop await.
#include "loopvisor/thread_future.hpp"

#include <gtest/gtest.h>

#include <string>

#include <atomic>
#include <thread>

#include "loopvisor/loop.hpp"
#include "loopvisor/sleep.hpp"
#include "loopvisor/supervisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

TEST(ThreadFuture, GetBlocksUntilTheCoroutineReturns) {
  LoopThread lt;
  auto f = lt->run_coroutine_threadsafe(value_after(5ms, 11));
  EXPECT_EQ(f.get(), 11);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.get(), 11) << "a copyable result can be read again";
}

TEST(ThreadFuture, FreeFunctionFormMatchesAsyncio) {
  LoopThread lt;
  EXPECT_EQ(run_coroutine_threadsafe(value_after(1ms, 4), lt.loop()).get(bound), 4);
  Supervisor sup(SupervisorOptions{.loops = 1});
  EXPECT_EQ(run_coroutine_threadsafe(value_after(1ms, 5), sup).get(bound), 5);
}

TEST(ThreadFuture, GetWithTimeoutThrowsTimeoutErrorWhileStillRunning) {
  LoopThread lt;
  auto f = lt->run_coroutine_threadsafe(value_after(10s, 1));
  EXPECT_THROW((void)f.get(10ms), TimeoutError);
  EXPECT_FALSE(f.wait_for(1ms));
  EXPECT_FALSE(f.done());
  EXPECT_TRUE(f.cancel());
}

TEST(ThreadFuture, CancelCancelsTheTaskOnItsLoop) {
  LoopThread lt;
  Signal started;
  std::atomic<bool> unwound{false};
  auto f = lt->run_coroutine_threadsafe([](Signal* s, std::atomic<bool>* u) -> asio::awaitable<int> {
    s->set();
    try {
      co_await sleep_for(10s);
    } catch (...) {
      *u = true;
      throw;
    }
    co_return 1;
  }(&started, &unwound));
  ASSERT_TRUE(started.wait());
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.cancelled());
  EXPECT_THROW((void)f.get(), CancelledError);
  EXPECT_TRUE(eventually([&] { return unwound.load(); })) << "the task itself was cancelled and unwound";
  EXPECT_TRUE(eventually([&] { return lt->stats().tasks_cancelled == 1; }));
  EXPECT_FALSE(f.cancel()) << "cancel of a cancelled future is false";
}

TEST(ThreadFuture, CancelBeforeTheLoopStartsTheCoroutineMeansItNeverRuns) {
  Loop loop;  // not running yet
  std::atomic<bool> ran{false};
  auto f = loop.run_coroutine_threadsafe([](std::atomic<bool>* r) -> asio::awaitable<void> {
    *r = true;
    co_return;
  }(&ran));
  EXPECT_TRUE(f.cancel());
  loop.close(1s, 1s);
  EXPECT_FALSE(ran.load());
  EXPECT_THROW(f.get(), CancelledError);
}

TEST(ThreadFuture, ExceptionIsRethrownByGet) {
  LoopThread lt;
  auto f = lt->submit([]() -> int { throw std::invalid_argument("nope"); });
  EXPECT_THROW((void)f.get(bound), std::invalid_argument);
  EXPECT_NE(f.exception(), nullptr);
}

TEST(ThreadFuture, DoneCallbackRunsOnceWhenDoneAndAtOnceIfAddedAfter) {
  LoopThread lt;
  Signal go;
  auto f = lt->submit([&go] {
    go.wait();
    return 3;
  });
  std::atomic<int> calls{0};
  std::atomic<int> seen{0};
  f.add_done_callback([&](ThreadFuture<int> done) {
    seen = done.get();
    ++calls;
  });
  EXPECT_EQ(calls.load(), 0);
  go.set();
  (void)f.get(bound);
  EXPECT_TRUE(eventually([&] { return calls.load() == 1; }));
  EXPECT_EQ(seen.load(), 3);
  bool inline_call = false;
  f.add_done_callback([&](ThreadFuture<int>) { inline_call = true; });
  EXPECT_TRUE(inline_call);
}

TEST(ThreadFuture, AThrowingDoneCallbackDoesNotStopTheOthersOrTheLoop) {
  LoopThread lt;
  auto f = lt->submit([] { return 4; });
  std::atomic<int> calls{0};
  f.add_done_callback([&](ThreadFuture<int>) {
    ++calls;
    throw std::runtime_error("done callback failed");
  });
  f.add_done_callback([&](ThreadFuture<int>) { ++calls; });
  EXPECT_EQ(f.get(bound), 4);
  EXPECT_TRUE(eventually([&] { return calls.load() == 2; }));
  EXPECT_EQ(lt->submit([] { return 5; }).get(bound), 5) << "the loop survived";
}

TEST(ThreadFuture, CoAwaitFromAnotherLoopResumesOnTheAwaitingLoop) {
  LoopThread a;
  LoopThread b;
  Loop* loop_b = &b.loop();
  auto result = a->run_coroutine_threadsafe([](Loop* other) -> asio::awaitable<std::pair<int, bool>> {
    Loop* home = &Loop::current();
    auto remote = other->run_coroutine_threadsafe([]() -> asio::awaitable<int> {
      co_await sleep_for(2ms);
      co_return 21 * 2;
    }());
    const int v = co_await remote.async_wait();
    co_return std::make_pair(v, &Loop::current() == home);
  }(loop_b));
  const auto [value, same_loop] = result.get(bound);
  EXPECT_EQ(value, 42);
  EXPECT_TRUE(same_loop);
}

TEST(ThreadFuture, CoAwaitOfTheFutureItselfFromAnotherLoopYieldsTheValueOrRethrows) {
  LoopThread a;
  LoopThread b;
  Loop* loop_b = &b.loop();
  auto result = a->run_coroutine_threadsafe([loop_b]() -> asio::awaitable<int> {
    auto remote = loop_b->run_coroutine_threadsafe(value_after(1ms, 40));
    const int v = co_await remote;
    auto failing = loop_b->run_coroutine_threadsafe(fail_after(1ms, "remote"));
    bool threw = false;
    try {
      co_await failing;
    } catch (const std::runtime_error&) {
      threw = true;
    }
    co_return v + (threw ? 2 : 0);
  });
  EXPECT_EQ(result.get(bound), 42);
}

TEST(ThreadFuture, CancellingTheAwaiterCancelsTheRemoteTask) {
  LoopThread a;
  LoopThread b;
  Loop* loop_b = &b.loop();
  auto outer = a->run_coroutine_threadsafe([](Loop* other) -> asio::awaitable<void> {
    auto remote = other->run_coroutine_threadsafe(sleep_for(10s));
    co_await remote.async_wait();
  }(loop_b));
  ASSERT_TRUE(eventually([&] { return b->stats().tasks_active == 1; }));
  EXPECT_TRUE(outer.cancel());
  EXPECT_TRUE(eventually([&] { return b->stats().tasks_cancelled == 1; }));
}

TEST(ThreadFuture, BlockingOnTheProducingLoopIsAClearError) {
  LoopThread lt;
  auto f = lt->submit([&lt] {
    auto inner = lt->submit([] { return 1; });
    try {
      (void)inner.get();
    } catch (const WrongThreadError&) {
      return true;
    }
    return false;
  });
  EXPECT_TRUE(f.get(bound));
}

TEST(ThreadFuture, DefaultConstructedHasNoStateAndSaysSo) {
  ThreadFuture<int> f;
  EXPECT_FALSE(f.valid());
  EXPECT_THROW((void)f.done(), InvalidStateError);
}

TEST(ThreadFuture, MoveOnlyResultIsMovedOutOnce) {
  LoopThread lt;
  auto f = lt->submit([] { return std::make_unique<int>(9); });
  auto p = f.get(bound);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 9);
  EXPECT_THROW((void)f.get(), InvalidStateError);
}

TEST(ThreadFuture, AnExceptionOfAFutureDroppedUnreadIsReportedAsNeverRetrieved) {
  std::atomic<int> reports{0};
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext& c) {
    EXPECT_NE(c.message.find("never retrieved"), std::string::npos) << c.message;
    ++reports;
  };
  LoopThread lt(options);
  {
    auto f = lt->run_coroutine_threadsafe(fail_after(0ms, "nobody reads me"));
    EXPECT_TRUE(f.wait_for(bound));
  }
  EXPECT_TRUE(eventually([&] { return reports.load() == 1; }));
  {
    auto read = lt->run_coroutine_threadsafe(fail_after(0ms, "read"));
    EXPECT_THROW(read.get(bound), std::runtime_error);
  }
  lt->submit([] {}).get(bound);
  EXPECT_EQ(reports.load(), 1) << "a future whose exception was read is not reported";
}

TEST(ThreadFuture, TheCallableFormKeepsTheLambdaAndItsCapturesAliveAcrossAwaits) {
  LoopThread lt;
  ThreadFuture<std::size_t> f;
  {
    std::string text = "captured by copy";
    // The lambda is a temporary: the callable overload keeps it (and `text`'s copy) alive.
    f = run_coroutine_threadsafe(lt.loop(), [text]() -> asio::awaitable<std::size_t> {
      co_await loopvisor::sleep(1ms);
      co_return text.size();
    });
  }
  EXPECT_EQ(f.get(bound), std::string("captured by copy").size());
}

// Regression (TSan, seen in CI as a race in Tls.AHostNameTheCertificateDoesNotNameIsRefused): the
// exception a future rethrows was owned by the task's state too. When the task's state was the
// last owner and went on the loop thread after the reader had read the exception on its own,
// TSan saw the read and the free unordered (the exception's reference count lives in libsupc++,
// which it does not instrument). Here the task's state outlives the reader's use of the
// exception (a callback of its loop holds it), and is released once the reader has let go,
// ordered only by a relaxed flag. TSan reports the old layout every time; every build checks
// the message.
TEST(ThreadFuture, AnExceptionReadOffTheLoopIsNotAlsoOwnedByTheTaskLeftOnTheLoop) {
  LoopThread lt;
  std::atomic<bool> reader_done{false};  // relaxed on both sides: no happens-before from it
  std::atomic<bool> timed_out{false};
  auto body = [&]() -> asio::awaitable<int> {
    Loop::current().call_soon([&, task = current_task()]() mutable {
      const auto give_up = std::chrono::steady_clock::now() + bound;
      while (!reader_done.load(std::memory_order_relaxed)) {
        if (std::chrono::steady_clock::now() > give_up) {
          timed_out = true;
          break;
        }
        std::this_thread::yield();
      }
      task = AnyTask();  // the task's state goes here, on the loop
    });
    throw std::runtime_error("a message read on the caller's thread");
    co_return 0;
  };
  std::string message;
  try {
    (void)lt->run_coroutine_threadsafe(body).get(bound);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  reader_done.store(true, std::memory_order_relaxed);
  lt->submit([] {}).get(bound);  // the callback above has run
  EXPECT_EQ(message, "a message read on the caller's thread");
  EXPECT_FALSE(timed_out.load());
}

}  // namespace
}  // namespace loopvisor::test
