// Transport: the byte pipe under a Stream (TCP, Unix-domain socket, TLS), asyncio's Transport.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cstddef>
#include <string>

namespace loopvisor {

/// What a Stream reads from and writes to. loopvisor ships TCP and Unix-domain transports
/// (Stream's socket constructors) and TLS (loopvisor/tls.hpp); a program may supply its own.
///
/// Contract for implementations: every operation is cancellable through the awaiting
/// coroutine's cancellation slot (cancellation raises CancelledError); other failures raise
/// boost::system::system_error naming the operation. Thread safety: the loop that owns the
/// underlying I/O object only.
class Transport {
 public:
  virtual ~Transport() = default;

  /// Reads at least one byte into `buffer`; returns 0 only at end of stream.
  [[nodiscard]] virtual boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer) = 0;
  /// Writes all of `data`.
  [[nodiscard]] virtual boost::asio::awaitable<void> write(boost::asio::const_buffer data) = 0;
  /// Half-closes the sending side, or throws loopvisor::Error if the transport cannot.
  virtual void write_eof() = 0;
  virtual void close() noexcept = 0;
  /// Closes after a transport's closing exchange (TLS: close_notify), bounded by the
  /// transport; never throws but CancelledError. Default: close().
  [[nodiscard]] virtual boost::asio::awaitable<void> aclose() {
    close();
    co_return;
  }
  [[nodiscard]] virtual bool is_open() const noexcept = 0;
  /// The peer, for diagnostics: "address:port" or the socket's path.
  [[nodiscard]] virtual std::string peer_name() const = 0;

  /// The TCP socket underneath (under TLS too), or null (asyncio's get_extra_info("socket")).
  [[nodiscard]] virtual boost::asio::ip::tcp::socket* tcp_socket() noexcept { return nullptr; }
  /// The Unix-domain socket underneath, or null.
  [[nodiscard]] virtual boost::asio::local::stream_protocol::socket* unix_socket() noexcept {
    return nullptr;
  }
};

}  // namespace loopvisor
