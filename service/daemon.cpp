// Daemon: the control thread waits for a signal, the supervisor does the work.
#include "daemon.hpp"

#include <csignal>
#include <cstdlib>
#include <optional>
#include <thread>

#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "loopvisor/version.hpp"
#include "signals.hpp"

namespace loopvisor::service {

int run_daemon(const DaemonOptions& options) {
  // The control context runs on this (main) thread, never on a worker loop. Signals are
  // registered before the loops start, so an early SIGTERM is queued, not fatal; its handler
  // runs once control.run() starts.
  boost::asio::io_context control(1);
  spdlog::info("loopvisord {} starting (pid {})", LOOPVISOR_VERSION, ::getpid());

  std::optional<Supervisor> supervisor_slot;
  std::thread stopper;
  ShutdownSignals signals(
      control,
      [&](int signal) {
        spdlog::info(
            "received signal {}: shutting down gracefully (grace {} ms); send it again to exit at once",
            signal, options.shutdown_grace.count());
        // Shut down off the control thread so a second signal can still be handled.
        stopper = std::thread([&] {
          const auto report = supervisor_slot->shutdown(options.shutdown_grace);
          spdlog::info("shutdown complete: {}", report.to_string());
          boost::asio::post(control, [&] {
            signals.cancel();
            control.stop();
          });
        });
      },
      [](int signal) {
        spdlog::warn("received signal {} again: exiting immediately", signal);
        spdlog::default_logger()->flush();
        std::_Exit(128 + signal);
      });
  Supervisor& supervisor = supervisor_slot.emplace(options.runtime);
  for (const auto& s : supervisor.stats()) {
    spdlog::info("loop {} '{}' running, submission queue capacity {}", s.index, s.name, s.queue_capacity);
  }
  spdlog::info("loopvisord ready: {} loop(s); SIGTERM or SIGINT to stop", supervisor.size());
  control.run();
  if (stopper.joinable()) stopper.join();
  spdlog::info("loopvisord exiting");
  return EXIT_SUCCESS;
}

}  // namespace loopvisor::service
