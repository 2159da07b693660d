// Admin server test helpers: a bounded blocking HTTP client and an in-process admin server
// over a real supervisor.
#pragma once

#include <gtest/gtest.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

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

/// A blocking HTTP/1.1 client over one connection; every operation is bounded. Its members are
/// compiled once, in admin_support.cpp: Beast's read and write operations instantiated in each
/// test program were most of their compile time.
class Client {
 public:
  explicit Client(const tcp::endpoint& server);

  http::response<http::string_body> request(http::verb method, std::string target, std::string body = {},
                                            bool keep_alive = true);
  http::response<http::string_body> send(http::request<http::string_body> req);
  /// POST of a JSON body, as the job API expects it.
  http::response<http::string_body> post_json(std::string target, std::string body);
  http::response<http::string_body> get(std::string target);

  void send_raw(const std::string& bytes);

  /// `head`: the answer to a HEAD request (a Content-Length but no body).
  http::response<http::string_body> read(bool head = false);

  /// True when the server closes the connection (reads end of stream) within the bound.
  bool closed_by_server();

 private:
  // Runs one operation started by `start` to its end or the bound; its error lands in `result`.
  void run_until(const std::function<void(std::function<void(boost::system::error_code)>)>& start,
                 boost::system::error_code& result);
  void run(const std::function<void(std::function<void(boost::system::error_code)>)>& start);

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

/// The answer's body parsed as a JSON object (throws when it is not one).
json::object body_of(const http::response<http::string_body>& res);
}  // namespace loopvisor::test
