// AdminServer: acceptor, connection limit and the control thread.
#include "admin_server.hpp"

#include "../jobs/job_registry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <list>
#include <map>
#include <stdexcept>
#include <thread>

#include <pthread.h>

#include "admin_metrics.hpp"
#include "http_session.hpp"
#include "log_throttle.hpp"

namespace loopvisor::service {

namespace asio = boost::asio;
using asio::ip::tcp;

struct AdminServer::Impl {
  AdminContext context;
  // The books of open connections; admin thread only. A slot leaves the list when its
  // session ends. Declared before `io`, so they outlive the session frames it destroys.
  std::list<std::shared_ptr<ConnectionSlot>> open;
  std::size_t general = 0;  // connections in max_connections' slots
  std::size_t probes = 0;   // connections in the probe reserve
  std::map<asio::ip::address, std::size_t> per_client;
  LogThrottle refusals{std::chrono::seconds(10)};
  LogThrottle accept_errors{std::chrono::seconds(10)};
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  tcp::endpoint bound;  // set before the thread starts, then read-only
  // steady_clock ticks of the admin thread's last heartbeat.
  // sync: relaxed; a timestamp read on its own.
  std::atomic<std::chrono::steady_clock::rep> heartbeat{
      std::chrono::steady_clock::now().time_since_epoch().count()};
  std::thread thread;

  asio::awaitable<void> beat() {
    asio::steady_timer timer(io);
    for (;;) {
      heartbeat.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
      timer.expires_after(std::chrono::milliseconds(250));
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;  // the server is stopping
    }
  }

  explicit Impl(AdminContext ctx) : context(std::move(ctx)) {
    if (!context.auth_token) context.auth_token = std::make_shared<AuthToken>(context.admin.auth_token);
  }

  void bind() {
    const auto& where = context.admin.listen;
    tcp::endpoint endpoint;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(where.host, ec);
    if (!ec) {
      endpoint = tcp::endpoint(address, where.port);
    } else {
      tcp::resolver resolver(io);
      const auto results = resolver.resolve(where.host, std::to_string(where.port), ec);
      if (ec || results.empty()) {
        throw std::runtime_error(fmt::format("admin.listen = {}: cannot resolve host '{}': {}",
                                             where.to_string(), where.host,
                                             ec ? ec.message() : "no address"));
      }
      endpoint = results.begin()->endpoint();
    }
    try {
      acceptor.open(endpoint.protocol());
      acceptor.set_option(tcp::acceptor::reuse_address(true));
      acceptor.bind(endpoint);
      acceptor.listen();
      bound = acceptor.local_endpoint();
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(
          fmt::format("admin.listen = {}: cannot listen there: {}", where.to_string(), e.code().message()));
    }
  }

  void refuse(tcp::socket& socket, std::string_view reason) {
    if (context.admin_metrics) context.admin_metrics->refused(reason);
    if (const auto n = refusals.occurred()) {
      spdlog::warn(
          "admin: refused {} connection(s) in the last {} s; latest reason: {} (open: {} of [admin] "
          "max_connections = {}, {} of probe_reserve = {}; max_connections_per_client = {})",
          n, std::chrono::duration_cast<std::chrono::seconds>(refusals.interval()).count(), reason, general,
          context.admin.max_connections, probes, context.admin.probe_reserve,
          context.admin.max_connections_per_client);
    }
    boost::system::error_code ignored;
    socket.close(ignored);
  }

  /// Closes the longest-idle keep-alive connection; false if none is idle.
  bool evict_idle() {
    ConnectionSlot* oldest = nullptr;
    for (const auto& slot : open) {
      if (slot->idle && !slot->probe_only && slot->close &&
          (oldest == nullptr || slot->idle_since < oldest->idle_since))
        oldest = slot.get();
    }
    if (oldest == nullptr) return false;
    oldest->idle = false;
    oldest->released = true;
    oldest->close();
    return true;
  }

  /// Admits a new connection: a general slot (evicting the longest-idle keep-alive one when all
  /// are taken), else a probe-reserve slot, else a refusal.
  void admit(tcp::socket socket) {
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    const auto client = peer.address();
    if (per_client[client] >= context.admin.max_connections_per_client) {
      refuse(socket, "per_client");
      return;
    }
    auto slot = std::make_shared<ConnectionSlot>();
    // An evicted connection's session ends on a later turn of the loop: its slot is handed
    // over now (`released`), so the session's end does not count it out again.
    if (general >= context.admin.max_connections && evict_idle()) --general;
    if (general < context.admin.max_connections) {
      ++general;
    } else if (probes < context.admin.probe_reserve) {
      slot->probe_only = true;
      ++probes;
    } else {
      refuse(socket, "max_connections");
      return;
    }
    ++per_client[client];
    open.push_back(slot);
    auto it = std::prev(open.end());
    asio::co_spawn(io, serve_connection(std::move(socket), context, slot),
                   [this, it, client](std::exception_ptr) {
                     const auto& ended = **it;
                     if (ended.probe_only) {
                       --probes;
                     } else if (!ended.released) {
                       --general;
                     }
                     if (--per_client[client] == 0) per_client.erase(client);
                     open.erase(it);
                   });
  }

  asio::awaitable<void> accept_loop() {
    auto backoff = std::chrono::milliseconds(0);
    asio::steady_timer pause(io);
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of descriptors (EMFILE/ENFILE) or another failure that would repeat at once:
        // pause accepting (backing off up to 1 s) instead of spinning, count it, log a summary.
        const bool descriptors =
            ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system;
        const auto reason = descriptors ? "out_of_descriptors" : "other";
        if (context.admin_metrics) context.admin_metrics->accept_failed(reason);
        if (const auto n = accept_errors.occurred()) {
          spdlog::warn(
              "admin: accepting a connection failed {} time(s) in the last {} s: {}; pausing accepts", n,
              std::chrono::duration_cast<std::chrono::seconds>(accept_errors.interval()).count(),
              ec.message());
        }
        backoff = std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
        pause.expires_after(backoff);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      admit(std::move(socket));
    }
  }
};

AdminServer::AdminServer(AdminContext context) : impl_(std::make_unique<Impl>(std::move(context))) {
  impl_->bind();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  asio::co_spawn(impl_->io, impl_->beat(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] {
    pthread_setname_np(pthread_self(), "lv-admin");
    impl->io.run();
  });
  spdlog::info("admin: listening on {}:{}", impl_->bound.address().to_string(), impl_->bound.port());
}

AdminServer::~AdminServer() {
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->io.stop();  // open connections end here; their frames are destroyed with io
  });
  if (impl_->thread.joinable()) impl_->thread.join();
  // Requests waiting for a job (GET ?wait_ms) die with `io`: a job ending later must not
  // post their wake-up to it.
  if (impl_->context.jobs != nullptr) impl_->context.jobs->drop_waiters();
}

tcp::endpoint AdminServer::local_endpoint() const { return impl_->bound; }

std::chrono::steady_clock::duration AdminServer::silence() const noexcept {
  const std::chrono::steady_clock::duration last(impl_->heartbeat.load(std::memory_order_relaxed));
  return std::chrono::steady_clock::now().time_since_epoch() - last;
}

}  // namespace loopvisor::service
