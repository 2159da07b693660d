// Admin server test helpers: a bounded blocking HTTP client and an in-process admin server
// over a real supervisor.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <memory>
#include <optional>

#include "admin/admin_metrics.hpp"
#include "admin/admin_server.hpp"
#include "jobs/job_metrics.hpp"
#include "jobs/job_registry.hpp"
#include "loopvisor/supervisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

/// A blocking HTTP/1.1 client over one connection; every operation is bounded.
class Client {
 public:
  explicit Client(const tcp::endpoint& server) : stream_(io_) {
    run([&](auto done) { stream_.async_connect(server, [done](auto ec) { done(ec); }); });
  }

  http::response<http::string_body> request(http::verb method, std::string target, std::string body = {},
                                            bool keep_alive = true) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "localhost");
    req.keep_alive(keep_alive);
    req.body() = std::move(body);
    return send(std::move(req));
  }
  http::response<http::string_body> send(http::request<http::string_body> req) {
    req.prepare_payload();
    run([&](auto done) { http::async_write(stream_, req, [done](auto ec, std::size_t) { done(ec); }); });
    return read(req.method() == http::verb::head);
  }
  /// POST of a JSON body, as the job API expects it.
  http::response<http::string_body> post_json(std::string target, std::string body) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    return send(std::move(req));
  }
  http::response<http::string_body> get(std::string target) {
    return request(http::verb::get, std::move(target));
  }

  void send_raw(const std::string& bytes) {
    run([&](auto done) {
      asio::async_write(stream_, asio::buffer(bytes), [done](auto ec, std::size_t) { done(ec); });
    });
  }

  /// `head`: the answer to a HEAD request (a Content-Length but no body).
  http::response<http::string_body> read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    parser.body_limit(64 * 1024 * 1024);
    run([&](auto done) {
      http::async_read(stream_, buffer_, parser, [done](auto ec, std::size_t) { done(ec); });
    });
    return parser.release();
  }

  /// True when the server closes the connection (reads end of stream) within the bound.
  bool closed_by_server() {
    char byte = 0;
    boost::system::error_code result;
    run_until(
        [&](auto done) {
          stream_.async_read_some(asio::buffer(&byte, 1), [done](auto ec, std::size_t) { done(ec); });
        },
        result);
    return result == asio::error::eof || result == asio::error::connection_reset;
  }

 private:
  template <class Start>
  void run(Start start) {
    boost::system::error_code result;
    run_until(start, result);
    if (result) throw boost::system::system_error(result);
  }
  template <class Start>
  void run_until(Start start, boost::system::error_code& result) {
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

  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

struct AdminFixture {
  explicit AdminFixture(SupervisorOptions options = watched(), config::AdminConfig admin = ephemeral(),
                        config::MetricsConfig metrics = {},
                        std::optional<config::JobsConfig> jobs_config = std::nullopt)
      : supervisor(std::move(options)) {
    service::AdminContext context;
    context.supervisor = &supervisor;
    context.readiness = &readiness;
    context.admin = admin;
    context.metrics = metrics;
    context.collectors = service::default_collectors(supervisor, metrics);
    context.admin_metrics = admin_metrics;
    if (metrics.enabled) context.collectors.push_back(admin_metrics);
    if (jobs_config) {
      context.jobs = &jobs.emplace(supervisor, *jobs_config);
      if (metrics.enabled) context.collectors.push_back(std::make_shared<service::JobMetrics>(*jobs));
    }
    context.loop_answer_timeout = 200ms;
    server.emplace(std::move(context));
  }
  ~AdminFixture() { server.reset(); }

  static SupervisorOptions watched() {
    SupervisorOptions o;
    o.loops = 2;
    o.watchdog.interval = 10ms;
    // Well above what a loaded sanitizer build's loop lags by, so only the blocked loop stalls.
    o.watchdog.stall_threshold = 250ms;
    return o;
  }
  static config::AdminConfig ephemeral() {
    config::AdminConfig a;
    a.listen = {"127.0.0.1", 0};
    return a;
  }
  Client client() { return Client(server->local_endpoint()); }

  Supervisor supervisor;
  service::Readiness readiness;
  std::shared_ptr<service::AdminMetrics> admin_metrics = std::make_shared<service::AdminMetrics>();
  std::optional<service::JobRegistry> jobs;  // before the server, which must go first
  std::optional<service::AdminServer> server;
};

inline json::object body_of(const http::response<http::string_body>& res) {
  return json::parse(res.body()).as_object();
}
}  // namespace loopvisor::test
