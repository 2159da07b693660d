// Streams: buffered reads over a TCP socket, connecting, and the multi-loop server.
#include "loopvisor/streams.hpp"

#include <sys/socket.h>

#include <vector>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include "log.hpp"

#include "loopvisor/blocking_pool.hpp"

namespace loopvisor {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

[[noreturn]] void throw_io(const boost::system::error_code& ec, const char* what) {
  if (ec == asio::error::operation_aborted) throw CancelledError(std::string(what) + " was cancelled");
  throw boost::system::system_error(ec, what);
}

using reuse_port_option = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Stream

Stream::Stream(tcp::socket socket, std::size_t limit) : socket_(std::move(socket)), limit_(limit) {}

asio::awaitable<std::size_t> Stream::fill() {
  if (eof_) co_return 0;  // like asyncio's StreamReader: end of stream is sticky
  char chunk[16 * 1024];
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(chunk), use_tuple);
  if (ec == asio::error::eof) {
    eof_ = true;
    co_return 0;
  }
  if (ec) throw_io(ec, "Stream read");
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
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), use_tuple);
  if (ec) throw_io(ec, "Stream write");
}

void Stream::write_eof() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

void Stream::close() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
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
  if (ec) throw_io(ec, ("open_connection: resolving '" + host + "'").c_str());
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
    throw_io(cec, ("open_connection to " + host + ":" + std::to_string(port)).c_str());
  co_return Stream(std::move(socket));
}

// ---------------------------------------------------------------------------------------------
// Server

struct Server::Acceptor {
  Acceptor(Loop& l, tcp::acceptor a) : loop(&l), acceptor(std::move(a)) {}
  Loop* loop;
  tcp::acceptor acceptor;
  detail::atomic<std::uint64_t> accepted{0};
};

namespace {

asio::awaitable<void> serve_connection(std::shared_ptr<Server::Handler> handler, Stream stream) {
  co_await (*handler)(std::move(stream));
}

void start_connection(Loop& loop, const std::shared_ptr<Server::Handler>& handler, tcp::socket socket) {
  std::string name = "conn";
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (!ec) name = fmt::format("conn {}:{}", remote.address().to_string(), remote.port());
  (void)loop.create_task(serve_connection(handler, Stream(std::move(socket))), std::move(name));
}

// Accepts until the acceptor closes. With `spread`, hands each connection to the next loop.
asio::awaitable<void> accept_loop(std::shared_ptr<void> acceptor_keepalive, tcp::acceptor* acceptor,
                                  detail::atomic<std::uint64_t>* accepted,
                                  std::shared_ptr<Server::Handler> handler, std::vector<Loop*> spread) {
  std::size_t next = 0;
  Loop& home = Loop::current();
  for (;;) {
    auto accepted_result = co_await acceptor->async_accept(use_tuple);
    auto ec = std::get<0>(accepted_result);
    auto socket = std::move(std::get<1>(accepted_result));
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      detail::log(LogLevel::warn, "{}: accept failed: {}", home.name(), ec.message());
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    // sync: relaxed; a statistic.
    accepted->fetch_add(1, std::memory_order_relaxed);
    Loop* target = spread.empty() ? &home : spread[next++ % spread.size()];
    if (target == &home) {
      start_connection(home, handler, std::move(socket));
      continue;
    }
    // Sockets belong to one io_context: move the descriptor to the target loop.
    const auto protocol = socket.local_endpoint().protocol();
    const int fd = socket.release();
    detail::loop_shared(*target)->post_control([target, handler, protocol, fd] {
      tcp::socket moved(target->context(), protocol, fd);
      start_connection(*target, handler, std::move(moved));
    });
  }
  (void)acceptor_keepalive;
}

}  // namespace

Server::Server(Supervisor& supervisor, tcp::endpoint endpoint, Handler handler)
    : supervisor_(supervisor), endpoint_(endpoint), handler_(std::make_shared<Handler>(std::move(handler))) {
  if (supervisor.owns_current_thread()) {
    throw WrongThreadError("start_server blocks while acceptors start; call it off the supervisor's loops");
  }
  const std::size_t n = supervisor.size();
  for (std::size_t i = 0; i < n; ++i) {
    Loop& loop = supervisor.loop(i);
    // The callable captures this frame by reference: it must never run after we return. On a
    // timeout, cancel it (a queued callable then never runs) or, if it already started, wait
    // for its end; either way nothing it references is gone when it runs.
    auto setup = loop.submit([&, i]() -> bool {
      tcp::acceptor acceptor(loop.context());
      acceptor.open(endpoint_.protocol());
      acceptor.set_option(tcp::acceptor::reuse_address(true));
      boost::system::error_code rec;
      acceptor.set_option(reuse_port_option(true), rec);
      if (i == 0) reuse_port_ = !rec;
      if (i > 0 && !reuse_port_) return false;
      boost::system::error_code bec;
      acceptor.bind(endpoint_, bec);
      if (bec) {
        throw boost::system::system_error(
            bec, fmt::format("start_server: cannot bind {}:{}", endpoint_.address().to_string(),
                             endpoint_.port()));
      }
      acceptor.listen(tcp::acceptor::max_listen_connections);
      if (i == 0) endpoint_ = acceptor.local_endpoint();  // port 0: the others bind the chosen port
      auto state = std::make_shared<Acceptor>(loop, std::move(acceptor));
      std::vector<Loop*> spread;
      if (!reuse_port_) {
        for (std::size_t k = 0; k < n; ++k) spread.push_back(&supervisor_.loop(k));
      }
      (void)loop.create_task(
          accept_loop(state, &state->acceptor, &state->accepted, handler_, std::move(spread)),
          "accept " + std::to_string(endpoint_.port()));
      acceptors_.push_back(state);
      return true;
    });
    if (!setup.wait_for(std::chrono::seconds(10)) && setup.cancel()) {
      throw RuntimeClosed(
          fmt::format("start_server: loop '{}' did not run the acceptor setup within 10 s", loop.name()));
    }
    const bool ok = setup.get();
    if (!ok) break;  // no SO_REUSEPORT: loop 0 accepts for everyone
  }
  detail::log(LogLevel::info, "server listening on {}:{} ({} acceptor(s){})", endpoint_.address().to_string(),
              endpoint_.port(), acceptors_.size(), reuse_port_ ? ", SO_REUSEPORT" : ", spread by loop 0");
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
      boost::system::error_code ignored;
      a->acceptor.close(ignored);  // its loop no longer runs: nothing else touches it
      continue;
    }
    auto done = detail::make_future_state<void>();
    const bool posted = detail::loop_shared(*a->loop)->post_control([a, done] {
      boost::system::error_code ignored;
      a->acceptor.close(ignored);  // the pending accept ends with operation_aborted
      done->set_value();
    });
    if (posted) (void)ThreadFuture<void>(done).wait_for(std::chrono::seconds(10));
  }
}

std::unique_ptr<Server> start_server(Supervisor& supervisor, tcp::endpoint endpoint,
                                     Server::Handler handler) {
  return std::make_unique<Server>(supervisor, endpoint, std::move(handler));
}

}  // namespace loopvisor
