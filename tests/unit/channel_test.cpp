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

}  // namespace
}  // namespace loopvisor::test
