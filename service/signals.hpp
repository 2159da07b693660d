// Signal handling for loopvisord: first SIGTERM/SIGINT asks for a graceful stop, a second forces exit.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>

namespace loopvisor::service {

/// Watches SIGTERM and SIGINT on the daemon's control io_context (never a worker loop).
/// The first signal calls `on_graceful(signal)`; any later one calls `on_force(signal)`.
class ShutdownSignals {
 public:
  using Handler = std::function<void(int signal)>;
  ShutdownSignals(boost::asio::io_context& control, Handler on_graceful, Handler on_force);
  /// Stops watching (so the control context can run out of work).
  void cancel();

 private:
  void arm();
  boost::asio::signal_set signals_;
  Handler on_graceful_;
  Handler on_force_;
  int received_ = 0;
};

}  // namespace loopvisor::service
