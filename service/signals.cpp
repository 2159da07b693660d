// Signal handling for loopvisord.
#include "signals.hpp"

#include <csignal>

namespace loopvisor::service {

ShutdownSignals::ShutdownSignals(boost::asio::io_context& control, Handler on_graceful, Handler on_force)
    : signals_(control, SIGTERM, SIGINT),
      on_graceful_(std::move(on_graceful)),
      on_force_(std::move(on_force)) {
  arm();
}

void ShutdownSignals::cancel() {
  boost::system::error_code ignored;
  signals_.cancel(ignored);
}

void ShutdownSignals::arm() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;  // cancelled
    if (++received_ == 1) {
      on_graceful_(signal);
    } else {
      on_force_(signal);
    }
    arm();
  });
}

}  // namespace loopvisor::service
