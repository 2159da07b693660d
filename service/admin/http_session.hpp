// HttpSession: one admin connection — read with limits and timeouts, dispatch, write, repeat
// while the client keeps the connection alive.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "admin_context.hpp"

namespace loopvisor::service {

/// Serves requests on `socket` until the client closes, asks to close, stays idle past
/// idle_timeout, or sends a request the server must refuse: 413 for a header or body over its
/// limit, 408 when a header or body does not arrive in time, 400 when it does not parse — each
/// with a JSON body, then the connection is closed. Never throws.
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              const AdminContext& context);

}  // namespace loopvisor::service
