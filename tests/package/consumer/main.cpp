// Consumer of the installed loopvisor package: runs a coroutine on a supervisor and prints it.
// It also uses Asio's deprecated API (io_context::work, io_context::post), as legacy code in a
// consumer's tree does: linking loopvisor must not push BOOST_ASIO_NO_DEPRECATED onto it.
#include <loopvisor/loopvisor.hpp>

#include <boost/asio/io_context.hpp>
#include <iostream>

int main() {
  boost::asio::io_context legacy;
  boost::asio::io_context::work keep_running(legacy);
  int legacy_ran = 0;
  legacy.post([&] {
    legacy_ran = 1;
    legacy.stop();
  });
  legacy.run();

  loopvisor::Supervisor supervisor(loopvisor::SupervisorOptions{.loops = 1});
  auto answer = supervisor.run_coroutine_threadsafe([]() -> boost::asio::awaitable<int> { co_return 42; }());
  std::cout << "consumer got " << answer.get(std::chrono::seconds(10)) << " from loopvisor "
            << LOOPVISOR_VERSION << " (legacy Asio ran: " << legacy_ran << ")\n";
  return legacy_ran == 1 ? 0 : 1;
}
