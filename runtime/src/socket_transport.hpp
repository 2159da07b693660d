// SocketTransport: a Transport over an Asio stream socket (TCP or Unix-domain).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <type_traits>

#include "loopvisor/errors.hpp"
#include "loopvisor/transport.hpp"

namespace loopvisor::detail {

/// Raises CancelledError for an aborted operation, system_error naming `what` otherwise.
[[noreturn]] void throw_io(const boost::system::error_code& ec, const std::string& what);

/// "address:port" for TCP, the path for Unix-domain ("" when unbound, "@name" for the abstract
/// namespace).
std::string endpoint_name(const boost::asio::ip::tcp::endpoint& endpoint);
std::string endpoint_name(const boost::asio::local::stream_protocol::endpoint& endpoint);

template <class Protocol>
class SocketTransport final : public Transport {
 public:
  using socket_type = typename Protocol::socket;

  explicit SocketTransport(socket_type socket) : socket_(std::move(socket)) {}

  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer) override {
    auto [ec, n] =
        co_await socket_.async_read_some(buffer, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec == boost::asio::error::eof) co_return 0;
    if (ec) throw_io(ec, "Stream read");
    co_return n;
  }

  boost::asio::awaitable<void> write(boost::asio::const_buffer data) override {
    auto [ec, n] =
        co_await boost::asio::async_write(socket_, data, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) throw_io(ec, "Stream write");
  }

  void write_eof() override {
    boost::system::error_code ignored;
    socket_.shutdown(socket_type::shutdown_send, ignored);
  }

  void close() noexcept override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  bool is_open() const noexcept override { return socket_.is_open(); }

  std::string peer_name() const override {
    boost::system::error_code ec;
    const auto peer = socket_.remote_endpoint(ec);
    return ec ? std::string("(not connected)") : endpoint_name(peer);
  }

  boost::asio::ip::tcp::socket* tcp_socket() noexcept override {
    if constexpr (std::is_same_v<Protocol, boost::asio::ip::tcp>) {
      return &socket_;
    } else {
      return nullptr;
    }
  }

  boost::asio::local::stream_protocol::socket* unix_socket() noexcept override {
    if constexpr (std::is_same_v<Protocol, boost::asio::local::stream_protocol>) {
      return &socket_;
    } else {
      return nullptr;
    }
  }

 private:
  socket_type socket_;
};

}  // namespace loopvisor::detail
