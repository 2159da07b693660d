// AdminServer: acceptor, connection limit and the control thread.
#include "admin_server.hpp"

#include "../jobs/job_registry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <stdexcept>
#include <thread>

#include <pthread.h>

#include "http_session.hpp"

namespace loopvisor::service {

namespace asio = boost::asio;
using asio::ip::tcp;

struct AdminServer::Impl {
  AdminContext context;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  tcp::endpoint bound;          // set before the thread starts, then read-only
  std::size_t connections = 0;  // admin thread only
  std::thread thread;

  explicit Impl(AdminContext ctx) : context(std::move(ctx)) {}

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

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        spdlog::warn("admin: accept failed: {}", ec.message());
        continue;
      }
      if (connections >= context.admin.max_connections) {
        spdlog::warn("admin: {} connections open ([admin] max_connections); closing a new one", connections);
        socket.close(ec);
        continue;
      }
      ++connections;
      asio::co_spawn(io, serve_connection(std::move(socket), context),
                     [this](std::exception_ptr) { --connections; });
    }
  }
};

AdminServer::AdminServer(AdminContext context) : impl_(std::make_unique<Impl>(std::move(context))) {
  impl_->bind();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
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

}  // namespace loopvisor::service
