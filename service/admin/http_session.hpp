// HttpSession: one admin connection — read with limits and timeouts, dispatch, write, repeat
// while the client keeps the connection alive.
#pragma once

#include <chrono>
#include <functional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "admin_context.hpp"

namespace loopvisor::service {

/// One admin connection as the server's books see it; shared by the server's list and the
/// session coroutine, used on the admin thread only.
struct ConnectionSlot {
  /// Taken from the probe reserve: one request, 1 s to send it, and only /healthz, /livez or
  /// /readyz are served (anything else: 503).
  bool probe_only = false;
  /// Waiting for the next request of a keep-alive connection, since `idle_since`.
  bool idle = false;
  std::chrono::steady_clock::time_point idle_since;
  /// Evicted to make room: its general slot was already given to another connection.
  bool released = false;
  /// Set by the session while it runs: closes the connection (the server evicts the
  /// longest-idle one when every slot is taken). Cleared before the session's socket goes.
  std::function<void()> close;
};

/// Serves requests on `socket` until the client closes, asks to close, stays idle past
/// idle_timeout, or sends a request the server must refuse: 413 for a header or body over its
/// limit, 408 when a header or body does not arrive in time, 400 when it does not parse — each
/// with a JSON body, then the connection is closed. Never throws.
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              const AdminContext& context,
                                              std::shared_ptr<ConnectionSlot> slot);

}  // namespace loopvisor::service
