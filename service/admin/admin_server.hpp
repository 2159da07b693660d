// AdminServer: the admin HTTP server on its own control thread ("lv-admin").
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "admin_context.hpp"

namespace loopvisor::service {

/// Listens on context.admin.listen and serves the admin routes (router.hpp) from a thread of
/// its own, never from a worker loop: a stalled loop cannot hide itself from /readyz or
/// /metrics. The constructor binds (throwing std::runtime_error that names the address when it
/// cannot) and returns once the server accepts connections.
///
/// Thread safety: construct, `local_endpoint`, `silence` and destroy from any thread but the
/// admin thread itself.
class AdminServer {
 public:
  explicit AdminServer(AdminContext context);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// Where it listens (the actual port when the configured one was 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /// How long ago the admin thread last ran its heartbeat (every 250 ms while it is free to
  /// run anything): a frozen admin thread shows here. Any thread.
  std::chrono::steady_clock::duration silence() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loopvisor::service
