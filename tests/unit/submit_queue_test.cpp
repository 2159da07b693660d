// detail::SubmitQueue: bounded FIFO, immediate rejection when full, close, multi-producer safety.
#include "submit_queue.hpp"
#include "wakeup.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace loopvisor::detail {
namespace {

using Result = SubmitQueue::PushResult;

Result push(SubmitQueue& q, std::vector<int>& out, int v, std::uint64_t* ticket = nullptr) {
  Callback fn([&out, v] { out.push_back(v); });
  std::uint64_t t = 0;
  auto r = q.try_push(fn, t);
  if (ticket != nullptr) *ticket = t;
  return r;
}

TEST(SubmitQueue, CapacityIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(SubmitQueue(5).capacity(), 8u);
  EXPECT_EQ(SubmitQueue(8).capacity(), 8u);
  EXPECT_EQ(SubmitQueue(0).capacity(), 2u);
}

TEST(SubmitQueue, PopsInFifoOrderWithSequentialTickets) {
  SubmitQueue q(8);
  std::vector<int> out;
  for (int i = 0; i < 5; ++i) {
    std::uint64_t ticket = 99;
    ASSERT_EQ(push(q, out, i, &ticket), Result::ok);
    EXPECT_EQ(ticket, static_cast<std::uint64_t>(i));
  }
  EXPECT_EQ(q.depth(), 5u);
  Callback fn;
  std::uint64_t ticket = 0;
  while (q.pop(fn, ticket)) fn();
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(q.depth(), 5u) << "popped but not retired still counts";
  q.retire(ticket + 1);
  EXPECT_EQ(q.depth(), 0u);
}

TEST(SubmitQueue, FullQueueRejectsWithoutTakingTheCallable) {
  SubmitQueue q(2);
  std::vector<int> out;
  ASSERT_EQ(push(q, out, 1), Result::ok);
  ASSERT_EQ(push(q, out, 2), Result::ok);
  Callback extra([&out] { out.push_back(3); });
  std::uint64_t t = 0;
  EXPECT_EQ(q.try_push(extra, t), Result::full);
  EXPECT_TRUE(extra) << "a rejected callable stays with the caller";
  Callback fn;
  ASSERT_TRUE(q.pop(fn, t));
  EXPECT_EQ(q.try_push(extra, t), Result::ok) << "space again after a pop";
}

TEST(SubmitQueue, CloseRefusesNewPushesAndDrainsWhatWasAccepted) {
  SubmitQueue q(4);
  std::vector<int> out;
  ASSERT_EQ(push(q, out, 1), Result::ok);
  EXPECT_EQ(q.close(), 1u);
  EXPECT_TRUE(q.closed());
  EXPECT_EQ(push(q, out, 2), Result::closed);
  EXPECT_FALSE(q.drained());
  Callback fn;
  std::uint64_t t = 0;
  ASSERT_TRUE(q.pop(fn, t));
  EXPECT_TRUE(q.drained());
}

TEST(SubmitQueue, ManyProducersLoseNothingAndKeepPerProducerOrder) {
  SubmitQueue q(1024);
  constexpr int producers = 4;
  constexpr int per = 50000;
  std::vector<std::vector<int>> seen(producers);
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per;) {
        Callback fn([&seen, p, i] { seen[p].push_back(i); });
        std::uint64_t t = 0;
        if (q.try_push(fn, t) == Result::ok) {
          ++i;
        } else {
          std::this_thread::yield();
        }
      }
      ++finished;
    });
  }
  Callback fn;
  std::uint64_t ticket = 0, expected_ticket = 0;
  int popped = 0;
  while (popped < producers * per) {
    if (q.pop(fn, ticket)) {
      EXPECT_EQ(ticket, expected_ticket++);
      fn();
      ++popped;
    } else {
      std::this_thread::yield();
    }
  }
  for (auto& t : threads) t.join();
  for (int p = 0; p < producers; ++p) {
    ASSERT_EQ(seen[p].size(), static_cast<std::size_t>(per));
    for (int i = 0; i < per; ++i) ASSERT_EQ(seen[p][i], i);
  }
}

// The loop's wake-up protocol without a loop: producers push one item each and wait for it to
// run before the next, so the consumer goes idle (rearm) between nearly every item, racing
// the next push. A lost wake-up leaves a producer waiting: the bounded wait fails the test.
TEST(SubmitQueue, WakeupProtocolLosesNoWakeupWhenTheConsumerKeepsGoingIdle) {
  SubmitQueue q(64);
  Wakeup wakeup;
  constexpr int producers = 2;
  constexpr int rounds = 20000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::mutex mu;
  std::condition_variable cv;
  int drains_posted = 0;  // the loop's posted drain() handlers, guarded by mu
  auto post_drain = [&] {
    {
      std::lock_guard lock(mu);
      ++drains_posted;
    }
    cv.notify_one();
  };
  std::atomic<int> ran[producers] = {};
  std::atomic<bool> lost{false};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < rounds && !lost; ++i) {
        Callback fn([&ran, p] { ran[p].fetch_add(1); });
        std::uint64_t ticket = 0;
        ASSERT_EQ(q.try_push(fn, ticket), Result::ok);
        if (wakeup.needed()) post_drain();
        while (ran[p].load() != i + 1) {
          if (std::chrono::steady_clock::now() > deadline) {
            lost = true;
            return;
          }
          std::this_thread::yield();
        }
      }
    });
  }
  std::thread consumer([&] {
    Callback fn;
    std::uint64_t ticket = 0;
    for (;;) {
      {
        std::unique_lock lock(mu);
        if (!cv.wait_until(lock, deadline, [&] { return drains_posted > 0 || lost; })) return;
        if (lost) return;
        --drains_posted;
      }
      while (q.pop(fn, ticket)) {
        fn();
        fn.reset();
      }
      if (ran[0].load() + ran[1].load() == producers * rounds) return;
      wakeup.rearm();  // what Loop::Impl::drain does when the inbox looks empty
      if (q.claimed_past_head() && wakeup.reclaim()) post_drain();
    }
  });
  for (auto& t : threads) t.join();
  consumer.join();
  EXPECT_FALSE(lost.load()) << "a producer waited 20 s for an item nobody was woken to run";
  for (int p = 0; p < producers; ++p) EXPECT_EQ(ran[p].load(), rounds);
}

}  // namespace
}  // namespace loopvisor::detail
