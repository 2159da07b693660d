// Consumer of the installed loopvisor package: runs a coroutine on a supervisor and prints it.
// It also uses Asio's deprecated API (io_context::work, io_context::post), as legacy code in a
// consumer's tree does: linking loopvisor must not push BOOST_ASIO_NO_DEPRECATED onto it.
#include <loopvisor/loopvisor.hpp>
#include <loopvisor/tls.hpp>

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
  // An exception thrown inside the library is caught here by its loopvisor type (its typeinfo
  // is exported from a shared build), and the TLS target links.
  bool caught_by_type = false;
  try {
    boost::asio::ip::tcp::socket unused(legacy);
    loopvisor::Stream stream(std::move(unused));
    (void)stream.release_transport();
    (void)stream.transport();
  } catch (const loopvisor::InvalidStateError&) {
    caught_by_type = true;
  }
  const bool tls_ok = loopvisor::make_tls_client_context() != nullptr;
  if (!caught_by_type || !tls_ok) {
    std::cerr << "consumer: caught_by_type=" << caught_by_type << " tls_ok=" << tls_ok << "\n";
    return 1;
  }

  std::cout << "consumer got " << answer.get(std::chrono::seconds(10)) << " from loopvisor "
            << LOOPVISOR_VERSION << " (legacy Asio ran: " << legacy_ran << ")\n";
  return legacy_ran == 1 ? 0 : 1;
}
