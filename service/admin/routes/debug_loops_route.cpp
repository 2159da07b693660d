// GET /debug/loops: each loop's statistics as JSON.
#include <chrono>

#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> debug_loops_route(RequestView, const AdminContext& context) {
  boost::json::array loops;
  for (const auto& s : context.supervisor->stats()) {
    loops.push_back({{"index", s.index},
                     {"thread_name", s.name},
                     {"running", s.running},
                     {"stalled", s.stalled},
                     {"queue_depth", s.queue_depth},
                     {"queue_capacity", s.queue_capacity},
                     {"lag_seconds", std::chrono::duration<double>(s.lag).count()},
                     {"busy_ratio", s.busy_ratio},
                     {"busy_seconds", std::chrono::duration<double>(s.busy).count()},
                     {"tasks_active", s.tasks_active},
                     {"tasks_started", s.tasks_started},
                     {"callbacks_run", s.callbacks_run},
                     {"submissions_rejected", s.submissions_rejected},
                     {"slow_callbacks", s.slow_callbacks},
                     {"unhandled_exceptions", s.unhandled_exceptions}});
  }
  co_return json_response(http::status::ok, boost::json::object{{"loops", std::move(loops)}});
}

}  // namespace loopvisor::service
