// Streams: buffered reads over a TCP socket, connecting, and the multi-loop server.
#include "loopvisor/streams.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include "log.hpp"
#include "socket_transport.hpp"
#include "use_tuple.hpp"

#include "loopvisor/blocking_pool.hpp"

namespace loopvisor {

namespace asio = boost::asio;
using asio::ip::tcp;
using unix_protocol = asio::local::stream_protocol;

namespace detail {

void throw_io(const boost::system::error_code& ec, const std::string& what) {
  if (ec == asio::error::operation_aborted) throw CancelledError(what + " was cancelled");
  throw boost::system::system_error(ec, what);
}

std::string endpoint_name(const tcp::endpoint& endpoint) {
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

std::string endpoint_name(const unix_protocol::endpoint& endpoint) {
  std::string path = endpoint.path();
  if (!path.empty() && path[0] == '\0') path[0] = '@';  // the abstract namespace, as ss(8) shows it
  return path;
}

}  // namespace detail

namespace {

using detail::throw_io;
using detail::use_tuple;

using reuse_port_option = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Stream

Stream::Stream(tcp::socket socket, std::size_t limit)
    : Stream(std::make_unique<detail::SocketTransport<tcp>>(std::move(socket)), limit) {}

Stream::Stream(unix_protocol::socket socket, std::size_t limit)
    : Stream(std::make_unique<detail::SocketTransport<unix_protocol>>(std::move(socket)), limit) {}

Stream::Stream(std::unique_ptr<Transport> transport, std::size_t limit)
    : transport_(std::move(transport)), limit_(limit) {
  if (!transport_) throw std::invalid_argument("Stream: the transport is null");
}

Stream::~Stream() = default;

Transport& Stream::live(const char* what) const {
  if (!transport_) throw InvalidStateError(fmt::format("Stream::{}: the stream was moved from", what));
  return *transport_;
}

Transport& Stream::transport() { return live("transport"); }

std::unique_ptr<Transport> Stream::release_transport() {
  live("release_transport");
  if (!buffer_.empty()) {
    throw InvalidStateError(fmt::format(
        "Stream::release_transport: {} byte(s) already read are buffered and would be lost", buffer_.size()));
  }
  return std::move(transport_);
}

std::string Stream::peer_name() const { return live("peer_name").peer_name(); }

tcp::socket& Stream::socket() {
  auto* socket = live("socket").tcp_socket();
  if (socket == nullptr) throw InvalidStateError("Stream::socket: this stream is not over TCP");
  return *socket;
}

tcp::endpoint Stream::local_endpoint() const {
  auto* socket = live("local_endpoint").tcp_socket();
  if (socket == nullptr) throw InvalidStateError("Stream::local_endpoint: this stream is not over TCP");
  return socket->local_endpoint();
}

tcp::endpoint Stream::remote_endpoint() const {
  auto* socket = live("remote_endpoint").tcp_socket();
  if (socket == nullptr) throw InvalidStateError("Stream::remote_endpoint: this stream is not over TCP");
  return socket->remote_endpoint();
}

asio::awaitable<std::size_t> Stream::fill() {
  if (eof_) co_return 0;  // like asyncio's StreamReader: end of stream is sticky
  Transport& transport = live("read");
  char chunk[16 * 1024];
  const std::size_t n = co_await transport.read_some(asio::buffer(chunk));
  if (n == 0) {
    eof_ = true;
    co_return 0;
  }
  buffer_.append(chunk, n);
  co_return n;
}

asio::awaitable<std::string> Stream::read(std::size_t max) {
  if (buffer_.empty()) co_await fill();
  const std::size_t n = std::min(max, buffer_.size());
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  co_return out;
}

asio::awaitable<std::string> Stream::read_exactly(std::size_t n) {
  while (buffer_.size() < n) {
    if (co_await fill() == 0) {
      std::string partial = std::move(buffer_);
      buffer_.clear();
      throw IncompleteReadError(
          fmt::format("Stream::read_exactly: stream ended after {} of {} bytes", partial.size(), n), partial);
    }
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  co_return out;
}

asio::awaitable<std::string> Stream::read_until(std::string_view delimiter) {
  std::size_t searched = 0;
  for (;;) {
    const auto at = buffer_.find(delimiter, searched);
    if (at != std::string::npos) {
      const std::size_t n = at + delimiter.size();
      if (n > limit_) break;
      std::string out = buffer_.substr(0, n);
      buffer_.erase(0, n);
      co_return out;
    }
    if (buffer_.size() > limit_) break;
    searched = buffer_.size() >= delimiter.size() ? buffer_.size() - delimiter.size() + 1 : 0;
    if (co_await fill() == 0) {
      std::string partial = std::move(buffer_);
      buffer_.clear();
      throw IncompleteReadError("Stream::read_until: stream ended before the delimiter", partial);
    }
  }
  throw LimitOverrunError(
      fmt::format("Stream::read_until: no delimiter within the limit of {} bytes", limit_));
}

asio::awaitable<std::string> Stream::readline() {
  std::string partial;
  try {
    co_return co_await read_until("\n");
  } catch (const IncompleteReadError& e) {
    partial = e.partial();  // (no co_return inside a handler: GCC 12 mishandles it)
  }
  co_return partial;
}

asio::awaitable<std::string> Stream::read_all() {
  while (co_await fill() > 0) {
  }
  std::string out = std::move(buffer_);
  buffer_.clear();
  co_return out;
}

asio::awaitable<void> Stream::write(std::string_view data) {
  co_await live("write").write(asio::buffer(data.data(), data.size()));
}

void Stream::write_eof() { live("write_eof").write_eof(); }

void Stream::close() noexcept {
  if (transport_) transport_->close();
}

asio::awaitable<void> Stream::aclose() {
  if (transport_) co_await transport_->aclose();
}

namespace {

// Name resolution off the loop: getaddrinfo blocks, and Asio's own async_resolve runs it on a
// per-io_context thread that cancellation cannot interrupt. On the blocking pool, cancelling the
// awaiting task cancels the await at once (a lookup already running finishes in the background).
std::vector<tcp::endpoint> resolve_blocking(const std::string& host, std::uint16_t port) {
  asio::io_context scratch;
  tcp::resolver resolver(scratch);
  boost::system::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) throw_io(ec, "open_connection: resolving '" + host + "'");
  std::vector<tcp::endpoint> out;
  for (const auto& entry : results) out.push_back(entry.endpoint());
  return out;
}

}  // namespace

asio::awaitable<Stream> open_connection(std::string host, std::uint16_t port) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code not_numeric;
  const auto address = asio::ip::make_address(host, not_numeric);
  if (!not_numeric) {
    endpoints.emplace_back(address, port);  // a numeric address needs no resolver at all
  } else {
    auto lookup =
        Loop::current().blocking_pool().submit([host, port] { return resolve_blocking(host, port); });
    endpoints = co_await lookup.async_wait();
  }
  tcp::socket socket(executor);
  auto connected = co_await asio::async_connect(socket, endpoints, use_tuple);
  if (auto cec = std::get<0>(connected))
    throw_io(cec, "open_connection to " + host + ":" + std::to_string(port));
  co_return Stream(std::move(socket));
}

asio::awaitable<Stream> open_unix_connection(std::string path) {
  auto executor = co_await asio::this_coro::executor;
  if (path.empty()) throw std::invalid_argument("open_unix_connection: the path is empty");
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw std::invalid_argument(fmt::format("open_unix_connection: the path is {} bytes; the limit is {}",
                                            path.size(), sizeof(sockaddr_un::sun_path) - 1));
  }
  unix_protocol::socket socket(executor);
  const unix_protocol::endpoint endpoint(path);
  auto [ec] = co_await socket.async_connect(endpoint, use_tuple);
  if (ec) throw_io(ec, "open_unix_connection to " + detail::endpoint_name(endpoint));
  co_return Stream(std::move(socket));
}

// ---------------------------------------------------------------------------------------------
// Server

// One listening socket on one loop.
struct detail::ServerAcceptor {
  template <class A>
  ServerAcceptor(Loop& l, A a) : loop(&l), acceptor(std::move(a)) {}
  Loop* loop;  // one of the supervisor's loops; the Server (which holds this) outlives none of them
  std::variant<tcp::acceptor, unix_protocol::acceptor> acceptor;
  detail::atomic<std::uint64_t> accepted{0};

  void close() noexcept {
    std::visit(
        [](auto& a) {
          boost::system::error_code ignored;
          a.close(ignored);
        },
        acceptor);
  }
};

namespace {

asio::awaitable<void> serve_connection(std::shared_ptr<Server::Handler> handler, Stream stream) {
  co_await (*handler)(std::move(stream));
}

template <class Socket>
void start_connection(Loop& loop, const std::shared_ptr<Server::Handler>& handler, Socket socket) {
  std::string name = "conn";
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (!ec) name = "conn " + detail::endpoint_name(remote);
  if (name == "conn ")
    name = "conn " + detail::endpoint_name(socket.local_endpoint(ec));  // unnamed Unix peer
  (void)loop.create_task(serve_connection(handler, Stream(std::move(socket))), std::move(name));
}

// Accepts until the acceptor closes. With `spread`, hands each connection to the next loop.
template <class Protocol>
asio::awaitable<void> accept_loop(std::shared_ptr<detail::ServerAcceptor> state,
                                  std::shared_ptr<Server::Handler> handler, std::vector<Loop*> spread) {
  using socket_type = typename Protocol::socket;
  auto& acceptor = std::get<typename Protocol::acceptor>(state->acceptor);
  std::size_t next = 0;
  Loop& home = Loop::current();
  auto backoff = std::chrono::milliseconds(0);
  asio::steady_timer pause(home.context());
  for (;;) {
    auto accepted_result = co_await acceptor.async_accept(use_tuple);
    auto ec = std::get<0>(accepted_result);
    auto socket = std::move(std::get<1>(accepted_result));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors (EMFILE/ENFILE) and the like fail again at once while the
      // connection waits in the backlog: pause accepting (10 ms, doubling up to 1 s) rather
      // than spin, and keep serving the connections we have.
      backoff = std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
      detail::log(LogLevel::warn, "{}: accept failed: {}; pausing accepts for {} ms", home.name(),
                  ec.message(), backoff.count());
      pause.expires_after(backoff);
      auto [pec] = co_await pause.async_wait(use_tuple);
      if (pec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    // sync: relaxed; a statistic.
    state->accepted.fetch_add(1, std::memory_order_relaxed);
    Loop* target = spread.empty() ? &home : spread[next++ % spread.size()];
    if (target == &home) {
      start_connection(home, handler, std::move(socket));
      continue;
    }
    // Sockets belong to one io_context: move the descriptor to the target loop.
    const auto protocol = socket.local_endpoint().protocol();
    const int fd = socket.release();
    const bool posted = detail::loop_shared(*target)->post_control([target, handler, protocol, fd] {
      socket_type moved(target->context(), protocol, fd);
      start_connection(*target, handler, std::move(moved));
    });
    if (!posted) ::close(fd);  // that loop is closing: drop the connection rather than leak it
  }
}

// What one loop's acceptor setup did (see Server::start_acceptors).
struct SetupOutcome {
  enum Result { started, not_needed, failed } result = started;
  boost::system::error_code error;
  std::string what;
};

// Linux's limit on a Unix-domain socket path (sun_path, with its terminating NUL).
constexpr std::size_t max_unix_path = sizeof(sockaddr_un::sun_path) - 1;

}  // namespace

Server::Server(Supervisor& supervisor, tcp::endpoint endpoint, Handler handler)
    : supervisor_(supervisor), endpoint_(endpoint), handler_(std::make_shared<Handler>(std::move(handler))) {
  start_acceptors<tcp>(endpoint);
  detail::log(LogLevel::info, "server listening on {} ({} acceptor(s){})", detail::endpoint_name(endpoint_),
              acceptors_.size(), reuse_port_ ? ", SO_REUSEPORT" : ", spread by loop 0");
}

Server::Server(Supervisor& supervisor, unix_protocol::endpoint path, Handler handler)
    : supervisor_(supervisor), path_(path.path()), handler_(std::make_shared<Handler>(std::move(handler))) {
  if (path_.empty()) throw std::invalid_argument("start_unix_server: the path is empty");
  if (path_[0] != '\0') {
    // asyncio replaces a socket file an earlier server left behind, and nothing else.
    struct stat existing {};
    if (::lstat(path_.c_str(), &existing) == 0) {
      if (!S_ISSOCK(existing.st_mode)) {
        throw Error(
            fmt::format("start_unix_server: '{}' exists and is not a socket; not replacing it", path_));
      }
      if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
        throw boost::system::system_error(
            errno, boost::system::system_category(),
            fmt::format("start_unix_server: cannot remove the stale socket '{}'", path_));
      }
    }
  }
  start_acceptors<unix_protocol>(path);
  if (path_[0] != '\0') {
    struct stat bound {};
    if (::lstat(path_.c_str(), &bound) == 0) {
      bound_device_ = bound.st_dev;
      bound_inode_ = bound.st_ino;
    }
  }
  detail::log(LogLevel::info, "server listening on unix:{}", detail::endpoint_name(path));
}

template <class Protocol>
void Server::start_acceptors(const typename Protocol::endpoint& endpoint) {
  constexpr bool is_tcp = std::is_same_v<Protocol, tcp>;
  if (supervisor_.owns_current_thread()) {
    throw WrongThreadError("start_server blocks while acceptors start; call it off the supervisor's loops");
  }
  if constexpr (!is_tcp) {
    if (endpoint.path().size() > max_unix_path) {
      throw std::invalid_argument(fmt::format("start_unix_server: the path is {} bytes; the limit is {}",
                                              endpoint.path().size(), max_unix_path));
    }
  }
  const std::size_t n = supervisor_.size();
  for (std::size_t i = 0; i < n; ++i) {
    Loop& loop = supervisor_.loop(i);
    // The callable captures this frame by reference: it must never run after we return. On a
    // timeout, cancel it (a queued callable then never runs) or, if it already started, wait
    // for its end; either way nothing it references is gone when it runs.
    // The setup reports a failure as a value, and the exception is made here: an exception
    // object made on the loop thread and rethrown here would be shared by both threads.
    auto setup = loop.submit([&, i]() -> SetupOutcome {
      typename Protocol::acceptor acceptor(loop.context());
      boost::system::error_code oec;
      acceptor.open(endpoint.protocol(), oec);
      if (oec) return {SetupOutcome::failed, oec, "start_server: cannot open a socket"};
      auto bind_to = endpoint;
      if constexpr (is_tcp) {
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        boost::system::error_code rec;
        acceptor.set_option(reuse_port_option(true), rec);
        if (i == 0) reuse_port_ = !rec;
        if (i > 0 && !reuse_port_) return {SetupOutcome::not_needed, {}, {}};
        if (i > 0) bind_to = endpoint_;  // port 0: the others bind the port loop 0 got
      } else {
        if (i > 0)
          return {SetupOutcome::not_needed,
                  {},
                  {}};  // no SO_REUSEPORT for Unix-domain sockets: loop 0 accepts for all
      }
      boost::system::error_code bec;
      acceptor.bind(bind_to, bec);
      if (bec) {
        return {SetupOutcome::failed, bec,
                fmt::format("start_server: cannot bind {}{}",
                            is_tcp ? "" : "unix:", detail::endpoint_name(bind_to))};
      }
      boost::system::error_code lec;
      acceptor.listen(Protocol::acceptor::max_listen_connections, lec);
      if (lec) return {SetupOutcome::failed, lec, "start_server: cannot listen"};
      if constexpr (is_tcp) {
        if (i == 0) endpoint_ = acceptor.local_endpoint();
      }
      auto state = std::make_shared<detail::ServerAcceptor>(loop, std::move(acceptor));
      std::vector<Loop*> spread;
      if (!reuse_port_) {
        for (std::size_t k = 0; k < n; ++k) spread.push_back(&supervisor_.loop(k));
      }
      std::string task_name =
          "accept " + (is_tcp ? std::to_string(endpoint_.port()) : detail::endpoint_name(endpoint));
      (void)loop.create_task(accept_loop<Protocol>(state, handler_, std::move(spread)), std::move(task_name));
      acceptors_.push_back(state);
      return {SetupOutcome::started, {}, {}};
    });
    if (!setup.wait_for(std::chrono::seconds(10)) && setup.cancel()) {
      throw RuntimeClosed(
          fmt::format("start_server: loop '{}' did not run the acceptor setup within 10 s", loop.name()));
    }
    const SetupOutcome outcome = setup.get();
    if (outcome.result == SetupOutcome::failed)
      throw boost::system::system_error(outcome.error, outcome.what);
    if (outcome.result == SetupOutcome::not_needed) break;  // one acceptor on loop 0 accepts for everyone
  }
}

Server::~Server() {
  try {
    close();
  } catch (const std::exception& e) {
    detail::log(LogLevel::error, "server: close failed: {}", e.what());
  }
}

std::uint64_t Server::accepted() const noexcept {
  std::uint64_t total = 0;
  // sync: relaxed reads of statistics.
  for (const auto& a : acceptors_) total += a->accepted.load(std::memory_order_relaxed);
  return total;
}

void Server::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& a : acceptors_) {
    if (a->loop->is_closed()) {
      a->close();  // its loop no longer runs: nothing else touches it
      continue;
    }
    auto done = detail::make_future_state<void>();
    const bool posted = detail::loop_shared(*a->loop)->post_control([a, done] {
      a->close();  // the pending accept ends with operation_aborted
      done->set_value();
    });
    if (posted) (void)ThreadFuture<void>(done).wait_for(std::chrono::seconds(10));
  }
  unlink_socket_file();
}

void Server::unlink_socket_file() noexcept {
  if (path_.empty() || path_[0] == '\0' || bound_inode_ == 0) return;
  // Only the file we bound: another server may have replaced it since (asyncio 3.13 checks too).
  struct stat now {};
  if (::lstat(path_.c_str(), &now) == 0 && now.st_dev == bound_device_ && now.st_ino == bound_inode_) {
    ::unlink(path_.c_str());
  }
}

std::unique_ptr<Server> start_server(Supervisor& supervisor, tcp::endpoint endpoint,
                                     Server::Handler handler) {
  return std::make_unique<Server>(supervisor, endpoint, std::move(handler));
}

std::unique_ptr<Server> start_unix_server(Supervisor& supervisor, std::string path, Server::Handler handler) {
  if (path.size() > max_unix_path) {
    throw std::invalid_argument(
        fmt::format("start_unix_server: the path is {} bytes; the limit is {}", path.size(), max_unix_path));
  }
  return std::make_unique<Server>(supervisor, unix_protocol::endpoint(path), std::move(handler));
}

}  // namespace loopvisor
