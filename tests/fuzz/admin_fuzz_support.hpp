// The admin server's request path without a socket, for the fuzz targets: a parsed request goes
// through dispatch() (router, auth, handlers, job API) against one long-lived daemon core.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <cstdlib>
#include <optional>

#include <spdlog/spdlog.h>

#include "admin/admin_metrics.hpp"
#include "admin/router.hpp"
#include "jobs/job_registry.hpp"
#include "loopvisor/supervisor.hpp"

namespace loopvisor::fuzz {

/// One supervisor, job registry and admin context for the whole run (built on first use).
/// Jobs end within 20 ms and exec is off, so no input can make a request wait long or start a
/// process.
struct DaemonCore {
  DaemonCore() : supervisor(options()) {
    spdlog::set_level(spdlog::level::warn);  // a line per job would drown the fuzzer's output
    config::JobsConfig jobs_config;
    jobs_config.default_timeout = std::chrono::milliseconds(20);
    jobs_config.max_timeout = std::chrono::milliseconds(20);
    jobs_config.max_active = 8;
    jobs_config.max_finished = 16;
    jobs.emplace(supervisor, jobs_config);
    context.supervisor = &supervisor;
    context.readiness = &readiness;
    context.jobs = &*jobs;
    context.admin.auth_token = "fuzz-token";
    context.admin_metrics = std::make_shared<service::AdminMetrics>();
    context.collectors = service::default_collectors(supervisor, context.metrics);
    context.loop_answer_timeout = std::chrono::milliseconds(50);
  }
  static SupervisorOptions options() {
    SupervisorOptions o;
    o.loops = 1;
    o.watchdog.interval = std::chrono::milliseconds(0);
    return o;
  }
  Supervisor supervisor;
  service::Readiness readiness;
  std::optional<service::JobRegistry> jobs;
  service::AdminContext context;
};

inline DaemonCore& core() {
  static DaemonCore* instance = new DaemonCore;  // never destroyed: libFuzzer exits from anywhere
  return *instance;
}

/// Answers `request` as the admin server would and checks the answer: a status from 200 to
/// 599, and a JSON body that parses wherever the answer says it is JSON. Aborts otherwise.
inline void answer(const service::Request& request) {
  boost::asio::io_context io;
  std::optional<service::Response> response;
  service::DispatchInfo info;
  boost::asio::co_spawn(io, service::dispatch(request, core().context, info),
                        [&](std::exception_ptr error, service::Response res) {
                          if (error) std::abort();  // a handler must answer, never throw
                          response = std::move(res);
                        });
  io.run();
  if (!response) std::abort();
  const unsigned status = response->result_int();
  if (status < 200 || status > 599) std::abort();
  if ((status == 401) != (info.auth == "refused")) std::abort();         // the access log's auth field agrees
  const bool head = request.method() == boost::beast::http::verb::head;  // a HEAD answer has no body
  if (!head && (*response)[boost::beast::http::field::content_type] == "application/json") {
    boost::system::error_code ec;
    (void)boost::json::parse(response->body(), ec);
    if (ec) std::abort();  // not valid JSON (or not valid UTF-8)
  }
}

}  // namespace loopvisor::fuzz
