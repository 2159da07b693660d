// Channel<T>: any-thread producers, loop receivers, bounds, close-and-drain, cancel safety.
#include "loopvisor/channel.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <stdexcept>
#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

TEST(Channel, ProducersOnManyThreadsDeliverEveryValueToTheLoop) {
  LoopThread lt;
  Channel<int> channel(lt.loop(), 64);
  constexpr int producers = 4, per = 5000;
  auto sum = lt->run_coroutine_threadsafe([](Channel<int>* ch) -> asio::awaitable<long> {
    long total = 0;
    while (auto v = co_await ch->receive()) total += *v;
    co_return total;
  }(&channel));
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&channel] {
      for (int i = 1; i <= per; ++i) {
        int v = i;
        while (channel.try_send(v) == SendStatus::full) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();
  channel.close();
  EXPECT_EQ(sum.get(bound), long{producers} * per * (per + 1) / 2);
}

TEST(Channel, FullAndClosedAreRefusedAtOnceAndTheValueStaysWithTheCaller) {
  Loop loop;
  Channel<std::string> channel(loop, 1);
  EXPECT_EQ(channel.try_send(std::string("a")), SendStatus::sent);
  std::string b = "b";
  EXPECT_EQ(channel.try_send(b), SendStatus::full);
  EXPECT_EQ(b, "b");
  EXPECT_THROW(channel.send("c"), SubmissionRejected);
  channel.close();
  EXPECT_EQ(channel.try_send(b), SendStatus::closed);
  EXPECT_THROW(channel.send("d"), RuntimeClosed);
}

TEST(Channel, CloseDrainsWhatWasSentThenEndsReceivers) {
  LoopThread lt;
  Channel<int> channel(lt.loop(), 8);
  channel.send(1);
  channel.send(2);
  channel.close();
  auto got = lt->run_coroutine_threadsafe([](Channel<int>* ch) -> asio::awaitable<std::vector<int>> {
    std::vector<int> out;
    while (auto v = co_await ch->receive()) out.push_back(*v);
    co_return out;
  }(&channel));
  EXPECT_EQ(got.get(bound), (std::vector<int>{1, 2}));
}

asio::awaitable<int> receive_one(Channel<int>* ch) { co_return (co_await ch->receive()).value_or(-1); }

TEST(Channel, CancelledReceiverNeverSwallowsAValue) {
  LoopThread lt;
  Channel<int> channel(lt.loop(), 8);
  auto result = lt->run_coroutine_threadsafe([](Channel<int>* ch) -> asio::awaitable<int> {
    auto first = create_task(receive_one(ch));
    auto second = create_task(receive_one(ch));
    co_await loopvisor::sleep(2ms);
    first.cancel();
    EXPECT_THROW((void)co_await first.async_wait(), CancelledError);
    co_return co_await second.async_wait();
  }(&channel));
  ASSERT_TRUE(eventually([&] { return lt->stats().tasks_cancelled == 1; }));
  channel.send(5);
  EXPECT_EQ(result.get(bound), 5);
}

TEST(Channel, ACapacityOutOfRangeIsInvalidArgument) {
  LoopThread lt;
  EXPECT_THROW(Channel<int>(lt.loop(), 0), std::invalid_argument);
  EXPECT_THROW(Channel<int>(lt.loop(), -1), std::invalid_argument);
  EXPECT_THROW(Channel<int>(lt.loop(), std::int64_t{1} << 40), std::invalid_argument);
}

TEST(Channel, AsyncSendWaitsForSpaceFromAnotherLoopAndLosesNothing) {
  LoopThread home;
  LoopThread producer_loop;
  Channel<int> channel(home.loop(), 2);
  static constexpr int n = 500;
  auto produced = producer_loop->run_coroutine_threadsafe([&channel]() -> asio::awaitable<int> {
    for (int i = 1; i <= n; ++i) co_await channel.async_send(i);  // far more than the capacity
    co_return n;
  });
  auto sum = home->run_coroutine_threadsafe([&channel]() -> asio::awaitable<long> {
    long total = 0;
    for (int i = 0; i < n; ++i) total += (co_await channel.receive()).value_or(0);
    co_return total;
  });
  EXPECT_EQ(produced.get(bound), n);
  EXPECT_EQ(sum.get(bound), long{n} * (n + 1) / 2);
}

TEST(Channel, AWaitingAsyncSendIsWokenByCloseWithRuntimeClosed) {
  LoopThread home;
  LoopThread producer_loop;
  Channel<int> channel(home.loop(), 1);
  channel.send(1);
  auto blocked = producer_loop->run_coroutine_threadsafe(
      [&channel]() -> asio::awaitable<void> { co_await channel.async_send(2); });
  EXPECT_FALSE(blocked.wait_for(20ms)) << "full: the sender waits";
  channel.close();
  EXPECT_THROW(blocked.get(bound), RuntimeClosed);
  EXPECT_EQ(channel.size(), 1u) << "what was sent before the close stays for the receiver";
}

TEST(Channel, CancellingAWaitingSenderLeavesTheOthersWaking) {
  LoopThread home;
  LoopThread producer_loop;
  Channel<int> channel(home.loop(), 1);
  channel.send(0);
  auto cancelled = producer_loop->run_coroutine_threadsafe(
      [&channel]() -> asio::awaitable<void> { co_await channel.async_send(-1); });
  auto patient = producer_loop->run_coroutine_threadsafe(
      [&channel]() -> asio::awaitable<void> { co_await channel.async_send(7); });
  ASSERT_TRUE(eventually([&] { return producer_loop->stats().tasks_active == 2; }));
  EXPECT_TRUE(cancelled.cancel());
  EXPECT_THROW(cancelled.get(bound), CancelledError);
  auto got = home->run_coroutine_threadsafe([&channel]() -> asio::awaitable<std::vector<int>> {
    std::vector<int> out;
    out.push_back((co_await channel.receive()).value_or(-2));
    out.push_back((co_await channel.receive()).value_or(-2));
    co_return out;
  });
  EXPECT_EQ(got.get(bound), (std::vector<int>{0, 7}));
  patient.get(bound);
}

TEST(Channel, SendForBlocksAPlainThreadUntilSpaceOrTimeout) {
  LoopThread home;
  Channel<int> channel(home.loop(), 1);
  EXPECT_EQ(channel.send_for(1, 1s), SendStatus::sent);
  int two = 2;
  EXPECT_EQ(channel.send_for(two, 10ms), SendStatus::full) << "still full when the timeout passed";
  EXPECT_EQ(two, 2) << "the refused value stays with the caller";
  std::thread sender([&] { EXPECT_EQ(channel.send_for(3, bound), SendStatus::sent); });
  auto first = home->run_coroutine_threadsafe([&channel]() -> asio::awaitable<int> {
    const int a = (co_await channel.receive()).value_or(-1);
    const int b = (co_await channel.receive()).value_or(-1);
    co_return a * 10 + b;
  });
  EXPECT_EQ(first.get(bound), 13);
  sender.join();
  std::thread closer([&] { channel.close(); });
  closer.join();
  EXPECT_EQ(channel.send_for(4, 1s), SendStatus::closed);
  auto on_loop = home->submit([&channel] {
    try {
      (void)channel.send_for(5, 1s);
      return false;
    } catch (const WrongThreadError&) {
      return true;
    }
  });
  EXPECT_TRUE(on_loop.get(bound)) << "blocking on the channel's own loop would wait for itself";
}

TEST(Channel, TheLastSenderGoingAwayEndsTheReceiver) {
  LoopThread lt;
  auto [tx, rx] = make_channel<int>(lt.loop(), 8);
  auto received = lt->run_coroutine_threadsafe([rx = std::move(rx)]() mutable -> asio::awaitable<int> {
    int count = 0;
    while (co_await rx.receive()) ++count;
    co_return count;
  });
  {
    auto tx2 = tx;
    tx.send(1);
    tx2.send(2);
    { auto drop = std::move(tx); }
    EXPECT_FALSE(tx2.closed()) << "one sender is left";
    tx2.send(3);
  }
  EXPECT_EQ(received.get(bound), 3) << "drained, then ended: every sender is gone";
}

TEST(Channel, TheReceiverGoingAwayReleasesWaitingAndFutureSenders) {
  LoopThread home;
  LoopThread producer_loop;
  auto [tx, rx] = make_channel<int>(home.loop(), 1);
  tx.send(1);
  auto blocked = producer_loop->run_coroutine_threadsafe(
      [tx = tx]() mutable -> asio::awaitable<void> { co_await tx.async_send(2); });
  std::thread plain([tx = tx]() mutable { EXPECT_EQ(tx.send_for(3, bound), SendStatus::closed); });
  EXPECT_FALSE(blocked.wait_for(20ms));
  { auto gone = std::move(rx); }  // a consumer that failed and dropped its end
  EXPECT_THROW(blocked.get(bound), RuntimeClosed);
  plain.join();
  EXPECT_EQ(tx.try_send(4), SendStatus::closed) << "nobody spins on a full channel nobody drains";
  EXPECT_THROW((void)rx.receive(), InvalidStateError) << "a moved-from receiver says so";
}

}  // namespace
}  // namespace loopvisor::test
