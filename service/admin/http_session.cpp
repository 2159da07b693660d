// HttpSession: Beast parser with header/body limits; a steady_timer cancels a read that takes
// too long (the socket stays open so the 408 can still be written).
#include "http_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "../text.hpp"
#include "admin_metrics.hpp"
#include "router.hpp"

namespace loopvisor::service {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

/// Cancels the socket's pending operations when it expires; `expired` tells a timeout from
/// any other cancellation. A wait that completed just before a re-arm (too late to cancel)
/// is recognised by its generation and ignored; the shared state keeps such a late handler
/// safe after the session has ended.
class Deadline {
 public:
  explicit Deadline(tcp::socket& socket) : timer_(socket.get_executor()), state_(std::make_shared<State>()) {
    state_->socket = &socket;
  }
  ~Deadline() { state_->socket = nullptr; }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void arm(std::chrono::milliseconds after) {
    state_->expired = false;
    const auto generation = ++state_->generation;
    timer_.expires_after(after);
    timer_.async_wait([state = state_, generation](error_code ec) {
      if (ec || state->socket == nullptr || state->generation != generation) return;
      state->expired = true;
      error_code ignored;
      state->socket->cancel(ignored);
    });
  }
  void disarm() {
    ++state_->generation;
    timer_.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    tcp::socket* socket = nullptr;
    std::uint64_t generation = 0;
    bool expired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

/// The answer to a request that could not be read, or nothing when the client just went away.
std::optional<Response> read_failure(error_code ec, bool timed_out, std::string_view what,
                                     std::chrono::milliseconds timeout, const config::AdminConfig& admin) {
  if (timed_out) {
    return json_error(http::status::request_timeout, "request_timeout",
                      fmt::format("the request {} did not arrive within {} ms", what, timeout.count()));
  }
  if (ec == http::error::header_limit) {
    return json_error(http::status::payload_too_large, "header_too_large",
                      fmt::format("the request header is larger than {} bytes ([admin] max_header_bytes)",
                                  admin.max_header_bytes));
  }
  if (ec == http::error::body_limit) {
    return json_error(http::status::payload_too_large, "body_too_large",
                      fmt::format("the request body is larger than {} bytes ([admin] max_body_bytes)",
                                  admin.max_body_bytes));
  }
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted) {
    return std::nullopt;
  }
  return json_error(http::status::bad_request, "bad_request",
                    fmt::format("malformed HTTP request: {}", ec.message()));
}

/// True for the routes a probe-reserve connection may ask.
/// "address:port" of the peer, or "-" when it is already gone.
std::string client_of(const tcp::socket& socket) {
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return "-";
  return peer.address().is_v6() ? fmt::format("[{}]:{}", peer.address().to_string(), peer.port())
                                : fmt::format("{}:{}", peer.address().to_string(), peer.port());
}

/// The access log: one line per answered request. Successful answers on the open routes
/// (probes, scrapes, /version, /help) come every few seconds and go to debug; everything else
/// (the API, refusals, errors) to info. The path is shown only when it matched a route (any
/// other is the client's bytes: "unmatched" says enough); no header, so never a token.
void log_access(std::string_view method, std::string_view path, std::string_view route, unsigned status,
                double seconds, const std::string& client, std::string_view auth) {
  const bool routine = status < 400 && auth == "open";
  const auto level = routine ? spdlog::level::debug : spdlog::level::info;
  if (!spdlog::should_log(level)) return;
  const std::string_view shown = route == "unmatched" || !display_safe(path) ? route : path;
  spdlog::log(level, "admin access: {} {} {} {:.1f}ms client={} auth={} route={}",
              display_safe(method) ? method : "?", shown, status, seconds * 1000, client, auth, route);
}

bool probe_route(std::string_view path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz";
}

}  // namespace

asio::awaitable<void> serve_connection(tcp::socket socket, const AdminContext& context,
                                       std::shared_ptr<ConnectionSlot> slot) {
  const auto& admin = context.admin;
  const auto header_timeout = slot->probe_only
                                  ? std::min(admin.header_timeout, std::chrono::milliseconds(1000))
                                  : admin.header_timeout;
  Deadline deadline(socket);
  bool evicted = false;
  slot->close = [&socket, &evicted] {
    evicted = true;
    error_code ignored;
    socket.cancel(ignored);
  };
  boost::beast::flat_buffer buffer;
  error_code ec;
  const std::string client = client_of(socket);
  try {
    for (bool first = true;; first = false) {
      if (!first && buffer.size() == 0) {
        // Keep-alive: wait for the next request's first byte without the header clock running.
        // Meanwhile the server may close this connection to make room for a new one.
        deadline.arm(admin.idle_timeout);
        slot->idle = true;
        slot->idle_since = std::chrono::steady_clock::now();
        co_await socket.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
        slot->idle = false;
        if (ec || evicted) break;
      }
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(admin.max_header_bytes));
      parser.body_limit(admin.max_body_bytes);

      std::optional<Response> response;
      deadline.arm(header_timeout);
      co_await http::async_read_header(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      const auto received = std::chrono::steady_clock::now();
      if (ec) {
        response = read_failure(ec, deadline.expired(), "header", header_timeout, admin);
      } else if (!parser.is_done()) {
        deadline.arm(admin.body_timeout);
        co_await http::async_read(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) response = read_failure(ec, deadline.expired(), "body", admin.body_timeout, admin);
      }
      deadline.disarm();

      bool keep_alive = false;
      std::string_view path;  // "" for a request that could not be read: counted as unmatched
      std::string_view method = "-";
      DispatchInfo info;
      info.client = client;
      if (!ec) {
        const Request& request = parser.get();
        path = request.target().substr(0, request.target().find('?'));
        method = request.method_string();
        if (slot->probe_only && !probe_route(path)) {
          response =
              json_error(http::status::service_unavailable, "too_many_connections",
                         fmt::format("every admin connection slot is taken ([admin] max_connections = {}); "
                                     "this connection may only ask /healthz, /livez or /readyz",
                                     admin.max_connections));
          response->set(http::field::retry_after, "1");
        } else {
          response = co_await dispatch(request, context, info);
          keep_alive = request.keep_alive() && !slot->probe_only;
        }
      }
      if (!response) break;  // the client went away
      // Counted and logged before the answer leaves: a client that has read it finds it counted.
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
      const auto route = route_of(path);
      if (context.admin_metrics) context.admin_metrics->count(route, response->result_int(), seconds);
      log_access(method, path, route, response->result_int(), seconds, client, info.auth);
      response->keep_alive(keep_alive);
      if (!response->has_content_length()) response->prepare_payload();

      deadline.arm(admin.body_timeout);
      co_await http::async_write(socket, *response, asio::redirect_error(asio::use_awaitable, ec));
      deadline.disarm();
      if (ec || !keep_alive) break;
    }
  } catch (const std::exception& e) {
    spdlog::warn("admin: connection ended by an error: {}", e.what());
  }
  slot->close = nullptr;
  slot->idle = false;
  deadline.disarm();
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

}  // namespace loopvisor::service
