// Healthcheck: one Beast request with a deadline.
#include "healthcheck.hpp"

#include <iostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace loopvisor::service {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

int run_healthcheck(const config::AdminConfig& admin, std::chrono::milliseconds timeout) {
  std::string host = admin.listen.host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  const std::string where = host + ":" + std::to_string(admin.listen.port);
  asio::io_context io;
  beast::tcp_stream stream(io);
  http::response<http::string_body> response;
  boost::system::error_code failure;
  stream.expires_after(timeout);
  asio::ip::tcp::resolver resolver(io);
  resolver.async_resolve(host, std::to_string(admin.listen.port), [&](auto ec, auto results) {
    if (ec) return void(failure = ec);
    stream.async_connect(results, [&](auto ec, auto) {
      if (ec) return void(failure = ec);
      auto request = std::make_shared<http::request<http::empty_body>>(http::verb::get, "/healthz", 11);
      request->set(http::field::host, where);
      request->set(http::field::connection, "close");
      http::async_write(stream, *request, [&, request](auto ec, std::size_t) {
        if (ec) return void(failure = ec);
        auto buffer = std::make_shared<beast::flat_buffer>();
        http::async_read(stream, *buffer, response, [&, buffer](auto ec, std::size_t) {
          if (ec) failure = ec;
        });
      });
    });
  });
  io.run();
  if (failure) {
    std::cerr << "loopvisord healthcheck: http://" << where << "/healthz: " << failure.message() << "\n";
    return 1;
  }
  if (response.result() != http::status::ok) {
    std::cerr << "loopvisord healthcheck: http://" << where << "/healthz answered " << response.result_int()
              << ": " << response.body() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace loopvisor::service
