// GET /v1/jobs: job records in id order, optionally of one state, a page at a time.
#include <fmt/format.h>

#include "../../jobs/job_registry.hpp"
#include "job_route_support.hpp"
#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> jobs_list_route(RequestView request, const AdminContext& context) {
  if (auto off = jobs_off(context)) co_return std::move(*off);
  std::string error;
  const std::size_t max_page = context.admin.max_page;
  const auto limit = query_number(request.target, "limit", 1, max_page, error);
  const auto offset =
      error.empty() ? query_number(request.target, "offset", 0, SIZE_MAX, error) : std::nullopt;
  std::optional<JobState> state;
  if (const auto it = request.target.params().find("state");
      error.empty() && it != request.target.params().end()) {
    state = parse_job_state((*it).value);
    if (!state) {
      error = fmt::format(
          "query parameter state='{}' is not a job state; states: queued, running, succeeded, failed, "
          "cancelled, timed_out",
          std::string_view((*it).value));
    }
  }
  if (!error.empty()) co_return json_error(http::status::bad_request, "bad_query", error);
  const std::size_t page_size = limit.value_or(std::min<std::size_t>(100, max_page));
  const std::size_t first = offset.value_or(0);
  const auto page = context.jobs->list(state, first, page_size);
  boost::json::array items;
  for (const auto& job : page.jobs) items.push_back(to_json(job));
  const std::size_t end = first + page.jobs.size();
  boost::json::object body{
      {"total", page.total}, {"offset", first}, {"limit", page_size}, {"jobs", std::move(items)}};
  body["next_offset"] = end < page.total ? boost::json::value(end) : boost::json::value(nullptr);
  co_return json_response(http::status::ok, body);
}

}  // namespace loopvisor::service
