// GET /debug/tasks: live tasks of every loop (or one, ?loop=N), sorted by id, paginated with
// ?limit= and ?offset=. A loop that does not answer in time (stalled) is listed as such; the
// admin thread never blocks on a loop.
#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>

#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> debug_tasks_route(RequestView request, const AdminContext& context) {
  using namespace boost::asio::experimental::awaitable_operators;
  Supervisor& supervisor = *context.supervisor;
  std::string error;
  const std::size_t max_page = context.admin.max_page;
  const auto limit = query_number(request.target, "limit", 1, max_page, error);
  const auto offset =
      error.empty() ? query_number(request.target, "offset", 0, SIZE_MAX, error) : std::nullopt;
  const auto only_loop =
      error.empty() ? query_number(request.target, "loop", 0, supervisor.size() - 1, error) : std::nullopt;
  if (!error.empty()) co_return json_error(http::status::bad_request, "bad_query", error);
  const std::size_t page = limit.value_or(std::min<std::size_t>(100, max_page));
  const std::size_t first = offset.value_or(0);

  std::vector<TaskInfo> tasks;
  boost::json::array unanswered;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + context.loop_answer_timeout;
  for (std::size_t i = 0; i < supervisor.size(); ++i) {
    if (only_loop && *only_loop != i) continue;
    auto answer = supervisor.loop(i).snapshot_tasks();
    timer.expires_at(deadline);
    auto result = co_await (answer.async_wait() || timer.async_wait(boost::asio::use_awaitable));
    if (result.index() == 0) {
      auto& part = std::get<0>(result);
      tasks.insert(tasks.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    } else {
      unanswered.push_back(
          {{"loop", i},
           {"message", fmt::format("loop {} did not list its tasks within {} ms; is it stalled? "
                                   "see /debug/loops",
                                   i, context.loop_answer_timeout.count())}});
    }
  }
  std::sort(tasks.begin(), tasks.end(), [](const TaskInfo& a, const TaskInfo& b) { return a.id < b.id; });

  boost::json::array items;
  const std::size_t end = first >= tasks.size() ? tasks.size() : std::min(tasks.size(), first + page);
  for (std::size_t k = std::min(first, tasks.size()); k < end; ++k) {
    const auto& t = tasks[k];
    items.push_back({{"id", t.id},
                     {"name", t.name},
                     {"loop", t.loop_index},
                     {"state", to_string(t.status)},
                     {"age_seconds", std::chrono::duration<double>(t.age).count()},
                     {"created_at", t.origin}});
  }
  boost::json::object body{
      {"total", tasks.size()}, {"offset", first}, {"limit", page}, {"tasks", std::move(items)}};
  body["next_offset"] = end < tasks.size() ? boost::json::value(end) : boost::json::value(nullptr);
  if (!unanswered.empty()) body["unanswered_loops"] = std::move(unanswered);
  co_return json_response(http::status::ok, body);
}

}  // namespace loopvisor::service
