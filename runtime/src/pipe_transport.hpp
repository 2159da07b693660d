// PipeTransport: a Transport over the read end of a pipe (a child's stdout or stderr).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

#include "loopvisor/errors.hpp"
#include "loopvisor/transport.hpp"
#include "socket_transport.hpp"

namespace loopvisor::detail {

class PipeTransport final : public Transport {
 public:
  /// Owns `pipe`; `name` says which pipe it is in errors ("stdout of 'prog' (pid 12)").
  PipeTransport(boost::asio::posix::stream_descriptor pipe, std::string name)
      : pipe_(std::move(pipe)), name_(std::move(name)) {}

  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer) override {
    auto [ec, n] = co_await pipe_.async_read_some(buffer, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec == boost::asio::error::eof) co_return 0;
    if (ec) throw_io(ec, "reading the " + name_);
    co_return n;
  }

  boost::asio::awaitable<void> write(boost::asio::const_buffer) override {
    throw Error("Stream::write: the " + name_ + " is read-only");
    co_return;
  }

  void write_eof() override { throw Error("Stream::write_eof: the " + name_ + " is read-only"); }

  void close() noexcept override {
    boost::system::error_code ignored;
    pipe_.close(ignored);
  }

  bool is_open() const noexcept override { return pipe_.is_open(); }
  std::string peer_name() const override { return name_; }

 private:
  boost::asio::posix::stream_descriptor pipe_;
  std::string name_;
};

}  // namespace loopvisor::detail
