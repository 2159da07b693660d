// asyncio scenario 6: Ctrl-C while tasks sleep. Every task is cancelled (cancel() returns
// true), unwinds, and the program ends early instead of after 5 "seconds", with no "Task was
// destroyed but it is pending!". The program sends itself SIGINT at 2.5 "seconds".
#include <csignal>
#include <iostream>

#include <boost/asio/signal_set.hpp>
#include <memory>

#include "loopvisor/loopvisor.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
constexpr auto second = 100ms;

asio::awaitable<int> func1(int n) {
  co_await loopvisor::sleep(n * second);
  co_return n;
}

int main() {
  loopvisor::SupervisorOptions options;
  options.loops = 1;
  options.exception_handler = [](const loopvisor::ExceptionContext& c) {
    std::cout << c.message << std::endl;
  };
  loopvisor::Supervisor runtime(options);
  loopvisor::Loop& loop = runtime.loop(0);
  const auto start = std::chrono::steady_clock::now();
  auto tasks = loop.submit([] {
                     std::vector<loopvisor::AnyTask> out;
                     for (int n : {5, 3, 4}) out.emplace_back(loopvisor::create_task(func1(n)));
                     return out;
                   })
                   .get();

  // The Ctrl-C handler, installed on the loop like asyncio's add_signal_handler.
  std::unique_ptr<asio::signal_set> signals;
  loop.submit([&] {
        signals = std::make_unique<asio::signal_set>(loop.context(), SIGINT);
        signals->async_wait([&](const boost::system::error_code& ec, int) {
          if (ec) return;
          for (auto& t : tasks) std::cout << "cancel: " << (t.cancel() ? "True" : "False") << std::endl;
        });
        loop.call_later(25 * second / 10, [] { std::raise(SIGINT); });  // "the user presses Ctrl-C"
      })
      .get();

  const auto report = runtime.shutdown(10 * second);  // lets the cancellations unwind
  const auto took = std::chrono::steady_clock::now() - start;
  for (auto& t : tasks) std::cout << "task state: " << loopvisor::to_string(t.status()) << std::endl;
  std::cout << "cancelled " << report.tasks_cancelled << ", completed " << report.tasks_completed
            << ", abandoned " << report.tasks_abandoned << std::endl;
  std::cout << (took < 45 * second / 10 ? "ended early, not after 5 seconds" : "waited for every sleep")
            << std::endl;
}
