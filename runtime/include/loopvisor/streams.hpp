// Streams: connections (TCP, Unix-domain, TLS) read and written by coroutines, and a server
// across a supervisor's loops.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loopvisor/supervisor.hpp"
#include "loopvisor/transport.hpp"

namespace loopvisor {

namespace detail {
struct ServerAcceptor;
}  // namespace detail

/// A connected stream (asyncio's StreamReader and StreamWriter in one object) over a
/// Transport: TCP, a Unix-domain socket, TLS (loopvisor/tls.hpp) or one of the program's own.
///
/// Reads buffer internally; `read_until` stops at a delimiter within `limit` bytes. Every
/// operation is an Asio operation: cancelling the awaiting task cancels it (CancelledError);
/// bound it with `timeout(d).run(...)` or `wait_for`. Errors other than cancellation are
/// boost::system::system_error naming the operation.
///
/// Thread safety: on the loop that owns the transport only. Move-only; a moved-from Stream
/// is closed (`is_open()` false, reads and writes throw InvalidStateError).
class Stream {
 public:
  explicit Stream(boost::asio::ip::tcp::socket socket, std::size_t limit = default_limit);
  explicit Stream(boost::asio::local::stream_protocol::socket socket, std::size_t limit = default_limit);
  /// Takes ownership of `transport` (not null).
  explicit Stream(std::unique_ptr<Transport> transport, std::size_t limit = default_limit);
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;
  ~Stream();

  static constexpr std::size_t default_limit = 64 * 1024;

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
  /// Half-closes the sending side (write_eof). TLS cannot: it throws loopvisor::Error.
  void write_eof();
  void close() noexcept;
  /// Closes after the transport's closing exchange: TLS sends close_notify first (asyncio's
  /// writer.close() and `await writer.wait_closed()`). Other transports: close().
  [[nodiscard]] boost::asio::awaitable<void> aclose();
  bool is_open() const noexcept { return transport_ && transport_->is_open(); }
  /// True once the peer's end of stream was read.
  bool at_eof() const noexcept { return eof_ && buffer_.empty(); }
  /// Bytes already read from the transport and not yet returned.
  std::size_t buffered() const noexcept { return buffer_.size(); }

  /// The peer, for diagnostics ("address:port" or a socket path).
  std::string peer_name() const;
  /// TCP only (TLS included): the socket's endpoints. Other transports: InvalidStateError.
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  boost::asio::ip::tcp::endpoint remote_endpoint() const;
  /// TCP only (TLS included): the socket underneath. Other transports: InvalidStateError.
  boost::asio::ip::tcp::socket& socket();
  /// The transport (asyncio's writer.transport). InvalidStateError if moved from.
  Transport& transport();
  /// Hands the transport over, for wrapping it in another (TLS's start_tls does). Throws
  /// InvalidStateError if bytes are buffered: they belong to the layer being replaced.
  std::unique_ptr<Transport> release_transport();

 private:
  boost::asio::awaitable<std::size_t> fill();  // reads more into buffer_; 0 at EOF
  Transport& live(const char* what) const;

  std::unique_ptr<Transport> transport_;
  std::string buffer_;
  std::size_t limit_;
  bool eof_ = false;
};

/// On a loop: resolves `host` and connects to the first address that answers
/// (asyncio.open_connection).
[[nodiscard]] boost::asio::awaitable<Stream> open_connection(std::string host, std::uint16_t port);

/// On a loop: connects to the Unix-domain stream socket at `path` (asyncio.open_unix_connection).
/// A path starting with '\0' names Linux's abstract namespace.
[[nodiscard]] boost::asio::awaitable<Stream> open_unix_connection(std::string path);

/// A stream server spread over a supervisor's loops (asyncio.start_server, start_unix_server).
///
/// TCP: where the kernel supports SO_REUSEPORT, every loop has its own acceptor on the same
/// port and the kernel spreads connections; otherwise one acceptor on loop 0 hands connections
/// to the loops in turn. Unix-domain: one acceptor on loop 0 hands connections to the loops in
/// turn; a socket file left at the path by an earlier server is replaced (asyncio does the
/// same), any other file there is an error, and `close()` removes the file it bound (unless
/// something else replaced it since). Each connection runs `handler(stream)` as a task on its
/// loop; a handler that throws is reported to that loop's exception handler and its
/// connection closed.
///
/// `close()` stops accepting (connections in progress go on); the destructor closes.
///
/// Thread safety: construct, `close` and destroy from a thread that runs none of the
/// supervisor's loops (they block briefly); the accessors from any thread.
class Server {
 public:
  using Handler = std::function<boost::asio::awaitable<void>(Stream)>;

  Server(Supervisor& supervisor, boost::asio::ip::tcp::endpoint endpoint, Handler handler);
  Server(Supervisor& supervisor, boost::asio::local::stream_protocol::endpoint path, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// TCP: the bound port (the one the kernel chose, if 0 was asked for); Unix-domain: 0.
  std::uint16_t port() const noexcept { return endpoint_.port(); }
  /// TCP: the bound endpoint; Unix-domain: a default endpoint.
  boost::asio::ip::tcp::endpoint endpoint() const noexcept { return endpoint_; }
  /// Unix-domain: the socket's path; TCP: empty.
  const std::string& path() const noexcept { return path_; }
  /// True if each loop has its own SO_REUSEPORT acceptor.
  bool reuse_port() const noexcept { return reuse_port_; }
  /// Connections accepted so far, over all loops.
  std::uint64_t accepted() const noexcept;
  void close();

 private:
  template <class Protocol>
  void start_acceptors(const typename Protocol::endpoint& endpoint);
  void unlink_socket_file() noexcept;

  Supervisor& supervisor_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::string path_;
  bool reuse_port_ = false;
  std::shared_ptr<Handler> handler_;
  std::vector<std::shared_ptr<detail::ServerAcceptor>> acceptors_;
  bool closed_ = false;
  // Unix-domain: the bound file's identity, so close() removes only the file we created.
  std::uint64_t bound_device_ = 0;
  std::uint64_t bound_inode_ = 0;
};

/// asyncio.start_server: starts a TCP Server (see Server).
[[nodiscard]] std::unique_ptr<Server> start_server(Supervisor& supervisor,
                                                   boost::asio::ip::tcp::endpoint endpoint,
                                                   Server::Handler handler);
/// asyncio.start_unix_server: starts a Unix-domain Server at `path` (see Server).
[[nodiscard]] std::unique_ptr<Server> start_unix_server(Supervisor& supervisor, std::string path,
                                                        Server::Handler handler);

}  // namespace loopvisor
