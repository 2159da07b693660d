// Queue<T>: FIFO, bounds, nowait errors, task_done/join, shutdown, cancellation safety.
#include "loopvisor/sync/queue.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<int> get_one(Queue<int>* q) { co_return co_await q->get(); }

TEST(Queue, ItemsComeOutInOrderAndGetWaitsForAPut) {
  run_on_loop([]() -> asio::awaitable<void> {
    Queue<int> q;
    auto getter = create_task(get_one(&q));
    co_await loopvisor::sleep(1ms);
    EXPECT_FALSE(getter.done());
    co_await q.put(1);
    q.put_nowait(2);
    EXPECT_EQ(co_await getter.async_wait(), 1);
    EXPECT_EQ(co_await q.get(), 2);
  });
}

asio::awaitable<void> put_one(Queue<int>* q, int v) { co_await q->put(v); }

TEST(Queue, PutWaitsWhileFullAndNowaitFormsRaise) {
  run_on_loop([]() -> asio::awaitable<void> {
    Queue<int> q(1);
    q.put_nowait(1);
    EXPECT_TRUE(q.full());
    EXPECT_THROW(q.put_nowait(2), QueueFull);
    auto putter = create_task(put_one(&q, 2));
    co_await loopvisor::sleep(1ms);
    EXPECT_FALSE(putter.done());
    EXPECT_EQ(q.get_nowait(), 1);
    co_await putter.async_wait();
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_THROW((void)q.get_nowait(), QueueEmpty);
  });
}

TEST(Queue, CancelledGetterNeverSwallowsAnItem) {
  run_on_loop([]() -> asio::awaitable<void> {
    Queue<int> q;
    auto first = create_task(get_one(&q));
    auto second = create_task(get_one(&q));
    co_await loopvisor::sleep(1ms);
    first.cancel();
    EXPECT_THROW((void)co_await first.async_wait(), CancelledError);
    q.put_nowait(42);
    EXPECT_EQ(co_await second.async_wait(), 42);
    EXPECT_TRUE(q.empty());
  });
}

TEST(Queue, CancelledPutterTakesNoSlotAndTheNextPutterGetsIt) {
  run_on_loop([]() -> asio::awaitable<void> {
    Queue<int> q(1);
    q.put_nowait(0);
    auto first = create_task(put_one(&q, 1));
    auto second = create_task(put_one(&q, 2));
    co_await loopvisor::sleep(1ms);
    first.cancel();
    EXPECT_THROW(co_await first.async_wait(), CancelledError);
    EXPECT_EQ(q.get_nowait(), 0);
    co_await second.async_wait();
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_TRUE(q.empty());
  });
}

asio::awaitable<void> consume(Queue<int>* q, int* sum) {
  for (;;) {
    *sum += co_await q->get();
    q->task_done();
  }
}

TEST(Queue, JoinWaitsUntilEveryItemIsDone) {
  run_on_loop([]() -> asio::awaitable<void> {
    Queue<int> q;
    int sum = 0;
    auto worker = create_task(consume(&q, &sum));
    for (int i = 1; i <= 10; ++i) q.put_nowait(i);
    co_await q.join();
    EXPECT_EQ(sum, 55);
    worker.cancel();
    EXPECT_THROW(q.task_done(), InvalidStateError);
  });
}

TEST(Queue, ShutdownDrainsThenRaisesAndWakesBlockedGetters) {
  run_on_loop([]() -> asio::awaitable<void> {
    Queue<int> q;
    auto blocked = create_task(get_one(&q));
    co_await loopvisor::sleep(1ms);
    q.shutdown();
    EXPECT_THROW((void)co_await blocked.async_wait(), QueueShutDown);
    EXPECT_THROW(q.put_nowait(1), QueueShutDown);

    Queue<int> q2;
    q2.put_nowait(7);
    q2.shutdown();
    EXPECT_EQ(co_await q2.get(), 7) << "a graceful shutdown drains what was queued";
    EXPECT_THROW((void)co_await q2.get(), QueueShutDown);

    Queue<int> q3;
    q3.put_nowait(8);
    q3.shutdown(true);
    EXPECT_TRUE(q3.empty());
    co_await q3.join();  // immediate shutdown counts dropped items as done
  });
}

TEST(Queue, ANegativeMaxsizeIsUnboundedAsInAsyncio) {
  Queue<int> q(-1);
  EXPECT_EQ(q.maxsize(), 0u);
  for (int i = 0; i < 100; ++i) q.put_nowait(i);
  EXPECT_FALSE(q.full());
}

TEST(LifoQueue, TheLastItemPutComesOutFirst) {
  LifoQueue<int> q;
  for (int i : {1, 2, 3}) q.put_nowait(i);
  EXPECT_EQ(q.get_nowait(), 3);
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_THROW((void)q.get_nowait(), QueueEmpty);
}

TEST(PriorityQueue, TheLowestItemComesOutFirst) {
  PriorityQueue<std::pair<int, std::string>> q;
  q.put_nowait({3, "c"});
  q.put_nowait({1, "a"});
  q.put_nowait({2, "b"});
  EXPECT_EQ(q.get_nowait().second, "a");
  EXPECT_EQ(q.get_nowait().second, "b");
  EXPECT_EQ(q.get_nowait().second, "c");
}

TEST(PriorityQueue, ABoundedPriorityQueueWakesAWaitingGetterAndRespectsMaxsize) {
  run_on_loop([]() -> asio::awaitable<void> {
    PriorityQueue<int, std::greater<int>> q(2);  // highest first with std::greater
    auto getter = create_task([](PriorityQueue<int, std::greater<int>>* queue) -> asio::awaitable<int> {
      co_return co_await queue->get();
    }(&q));
    co_await yield_now();
    co_await q.put(5);
    EXPECT_EQ(co_await getter.async_wait(), 5);
    q.put_nowait(1);
    q.put_nowait(9);
    EXPECT_THROW(q.put_nowait(4), QueueFull);
    EXPECT_EQ(co_await q.get(), 9);
  });
}

}  // namespace
}  // namespace loopvisor::test
