// The admin test client's operations, compiled once for every test program that uses them.
#include "admin_support.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <stdexcept>

namespace loopvisor::test {

using Done = std::function<void(boost::system::error_code)>;

Client::Client(const tcp::endpoint& server) : stream_(io_) {
  run([&](Done done) { stream_.async_connect(server, [done](auto ec) { done(ec); }); });
}

http::response<http::string_body> Client::request(http::verb method, std::string target, std::string body,
                                                  bool keep_alive) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "localhost");
  req.keep_alive(keep_alive);
  req.body() = std::move(body);
  return send(std::move(req));
}

http::response<http::string_body> Client::send(http::request<http::string_body> req) {
  req.prepare_payload();
  run([&](Done done) { http::async_write(stream_, req, [done](auto ec, std::size_t) { done(ec); }); });
  return read(req.method() == http::verb::head);
}

http::response<http::string_body> Client::post_json(std::string target, std::string body) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  return send(std::move(req));
}

http::response<http::string_body> Client::get(std::string target) {
  return request(http::verb::get, std::move(target));
}

void Client::send_raw(const std::string& bytes) {
  run([&](Done done) {
    asio::async_write(stream_, asio::buffer(bytes), [done](auto ec, std::size_t) { done(ec); });
  });
}

http::response<http::string_body> Client::read(bool head) {
  http::response_parser<http::string_body> parser;
  parser.skip(head);
  parser.body_limit(64 * 1024 * 1024);
  run([&](Done done) {
    http::async_read(stream_, buffer_, parser, [done](auto ec, std::size_t) { done(ec); });
  });
  return parser.release();
}

bool Client::closed_by_server() {
  char byte = 0;
  boost::system::error_code result;
  run_until(
      [&](Done done) {
        stream_.async_read_some(asio::buffer(&byte, 1), [done](auto ec, std::size_t) { done(ec); });
      },
      result);
  return result == asio::error::eof || result == asio::error::connection_reset;
}

void Client::run(const std::function<void(Done)>& start) {
  boost::system::error_code result;
  run_until(start, result);
  if (result) throw boost::system::system_error(result);
}

void Client::run_until(const std::function<void(Done)>& start, boost::system::error_code& result) {
  bool finished = false;
  stream_.expires_after(bound);
  start([&](boost::system::error_code ec) {
    result = ec;
    finished = true;
  });
  io_.restart();
  io_.run();
  if (!finished) throw std::runtime_error("client operation did not finish");
}

json::object body_of(const http::response<http::string_body>& res) {
  return json::parse(res.body()).as_object();
}

}  // namespace loopvisor::test
