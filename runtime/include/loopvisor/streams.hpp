// Streams: TCP connections read and written by coroutines, and a server across a supervisor's loops.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loopvisor/supervisor.hpp"

namespace loopvisor {

/// A connected TCP stream (asyncio's StreamReader and StreamWriter in one object).
///
/// Reads buffer internally; `read_until` stops at a delimiter within `limit` bytes. Every
/// operation is an Asio operation: cancelling the awaiting task cancels it (CancelledError);
/// bound it with `timeout(d).run(...)` or `wait_for`. Errors other than cancellation are
/// boost::system::system_error naming the operation.
///
/// Thread safety: on the loop that owns the socket only. Move-only.
class Stream {
 public:
  explicit Stream(boost::asio::ip::tcp::socket socket, std::size_t limit = 64 * 1024);
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;

  /// Up to `max` bytes, at least one; empty at end of stream.
  [[nodiscard]] boost::asio::awaitable<std::string> read(std::size_t max = 64 * 1024);
  /// Exactly `n` bytes; IncompleteReadError (with what arrived) if the stream ends first.
  [[nodiscard]] boost::asio::awaitable<std::string> read_exactly(std::size_t n);
  /// Data up to and including `delimiter`; LimitOverrunError past `limit`,
  /// IncompleteReadError if the stream ends first.
  [[nodiscard]] boost::asio::awaitable<std::string> read_until(std::string_view delimiter);
  /// One line including "\n"; at end of stream, whatever is left (possibly empty).
  [[nodiscard]] boost::asio::awaitable<std::string> readline();
  /// Everything until end of stream.
  [[nodiscard]] boost::asio::awaitable<std::string> read_all();
  /// Writes all of `data` (asyncio's write + drain).
  [[nodiscard]] boost::asio::awaitable<void> write(std::string_view data);
  /// Half-closes the sending side (write_eof).
  void write_eof();
  void close() noexcept;
  bool is_open() const noexcept { return socket_.is_open(); }
  /// True once the peer's end of stream was read.
  bool at_eof() const noexcept { return eof_ && buffer_.empty(); }

  boost::asio::ip::tcp::endpoint local_endpoint() const { return socket_.local_endpoint(); }
  boost::asio::ip::tcp::endpoint remote_endpoint() const { return socket_.remote_endpoint(); }
  boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }

 private:
  boost::asio::awaitable<std::size_t> fill();  // reads more into buffer_; 0 at EOF

  boost::asio::ip::tcp::socket socket_;
  std::string buffer_;
  std::size_t limit_;
  bool eof_ = false;
};

/// On a loop: resolves `host` and connects to the first address that answers
/// (asyncio.open_connection).
[[nodiscard]] boost::asio::awaitable<Stream> open_connection(std::string host, std::uint16_t port);

/// A TCP server spread over a supervisor's loops (asyncio.start_server).
///
/// Where the kernel supports SO_REUSEPORT, every loop has its own acceptor on the same port
/// and the kernel spreads connections; otherwise one acceptor on loop 0 hands connections to
/// the loops in turn. Each connection runs `handler(stream)` as a task on its loop; a handler
/// that throws is reported to that loop's exception handler and its connection closed.
///
/// `close()` stops accepting (connections in progress go on); the destructor closes.
///
/// Thread safety: construct, `close` and destroy from a thread that runs none of the
/// supervisor's loops (they block briefly); `port`, `endpoint`, `reuse_port` from any thread.
class Server {
 public:
  using Handler = std::function<boost::asio::awaitable<void>(Stream)>;

  Server(Supervisor& supervisor, boost::asio::ip::tcp::endpoint endpoint, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The bound port (the one the kernel chose, if 0 was asked for).
  std::uint16_t port() const noexcept { return endpoint_.port(); }
  boost::asio::ip::tcp::endpoint endpoint() const noexcept { return endpoint_; }
  /// True if each loop has its own SO_REUSEPORT acceptor.
  bool reuse_port() const noexcept { return reuse_port_; }
  /// Connections accepted so far, over all loops.
  std::uint64_t accepted() const noexcept;
  void close();

 private:
  struct Acceptor;
  Supervisor& supervisor_;
  boost::asio::ip::tcp::endpoint endpoint_;
  bool reuse_port_ = false;
  std::shared_ptr<Handler> handler_;
  std::vector<std::shared_ptr<Acceptor>> acceptors_;
  bool closed_ = false;
};

/// asyncio.start_server: starts a Server (see Server).
[[nodiscard]] std::unique_ptr<Server> start_server(Supervisor& supervisor,
                                                   boost::asio::ip::tcp::endpoint endpoint,
                                                   Server::Handler handler);

}  // namespace loopvisor
