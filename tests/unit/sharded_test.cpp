// Sharded<S>: one instance per loop, started on its loop, stopped in reverse order.
#include "loopvisor/sharded.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "test_support.hpp"

namespace loopvisor::test {
namespace {

struct Journal {
  std::mutex mu;
  std::vector<std::string> lines;
  void add(std::string s) {
    std::lock_guard g(mu);
    lines.push_back(std::move(s));
  }
};

class Counter {
 public:
  Counter(Journal* journal, std::string tag) : journal_(journal), tag_(std::move(tag)) {}
  void start() {
    home_ = &Loop::current();
    journal_->add("start " + tag_ + std::to_string(home_->index()));
  }
  void stop() { journal_->add("stop " + tag_ + std::to_string(Loop::current().index())); }
  int bump() {
    EXPECT_EQ(&Loop::current(), home_) << "an instance is only used on its own loop";
    return ++count_;
  }

 private:
  Journal* journal_;
  std::string tag_;
  Loop* home_ = nullptr;
  int count_ = 0;
};

TEST(Sharded, OneInstancePerLoopStartedOnItsOwnLoop) {
  Journal journal;
  Supervisor sup(SupervisorOptions{.loops = 3});
  Sharded<Counter> counters(sup, &journal, std::string("c"));
  EXPECT_EQ(counters.size(), 3u);
  EXPECT_EQ(journal.lines, (std::vector<std::string>{"start c0", "start c1", "start c2"}));
  EXPECT_EQ(counters.invoke_on(1, [](Counter& c) { return c.bump(); }).get(bound), 1);
  EXPECT_EQ(counters.invoke_on(1, [](Counter& c) { return c.bump(); }).get(bound), 2);
  EXPECT_EQ(counters.invoke_on(0, [](Counter& c) { return c.bump(); }).get(bound), 1);
  counters.invoke_on_all([](Counter& c) { c.bump(); }).get(bound);
  EXPECT_EQ(counters.invoke_on(1, [](Counter& c) { return c.bump(); }).get(bound), 4);
}

TEST(Sharded, LocalGivesTheInstanceOfTheCurrentLoop) {
  Journal journal;
  Supervisor sup(SupervisorOptions{.loops = 2});
  Sharded<Counter> counters(sup, &journal, std::string("c"));
  auto v = sup.loop(1).submit([&counters] { return counters.local().bump(); }).get(bound);
  EXPECT_EQ(v, 1);
  EXPECT_THROW((void)counters.local(), WrongThreadError);
}

TEST(Sharded, InvokeOnAcceptsCoroutines) {
  Journal journal;
  Supervisor sup(SupervisorOptions{.loops = 2});
  Sharded<Counter> counters(sup, &journal, std::string("c"));
  auto f = counters.invoke_on(0, [](Counter& c) -> asio::awaitable<int> {
    co_await sleep_for(1ms);
    co_return c.bump() * 10;
  });
  EXPECT_EQ(f.get(bound), 10);
}

TEST(Sharded, SupervisorShutdownStopsServicesInReverseOrder) {
  Journal journal;
  Supervisor sup(SupervisorOptions{.loops = 2});
  Sharded<Counter> first(sup, &journal, std::string("a"));
  Sharded<Counter> second(sup, &journal, std::string("b"));
  sup.shutdown(1s);
  EXPECT_EQ(journal.lines, (std::vector<std::string>{"start a0", "start a1", "start b0", "start b1",
                                                     "stop b1", "stop b0", "stop a1", "stop a0"}));
}

struct FailsToStart {
  void start() {
    if (Loop::current().index() == 1) throw std::runtime_error("no database");
  }
};

TEST(Sharded, StartFailureIsThrownToTheConstructor) {
  Supervisor sup(SupervisorOptions{.loops = 2});
  EXPECT_THROW(Sharded<FailsToStart>{sup}, std::runtime_error);
}

}  // namespace
}  // namespace loopvisor::test
