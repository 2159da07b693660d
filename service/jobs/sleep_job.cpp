// The sleep job: waits on its loop. Cheap to run, so it is what drills and tests submit.
#include <chrono>

#include "job_kind.hpp"
#include "loopvisor/sleep.hpp"

namespace loopvisor::service {

namespace {

boost::asio::awaitable<boost::json::value> sleep_for(std::uint64_t ms) {
  co_await loopvisor::sleep(std::chrono::milliseconds(ms));
  co_return boost::json::object{{"slept_ms", ms}};
}

}  // namespace

JobBody prepare_sleep_job(const boost::json::object& args, const config::JobsConfig&) {
  static constexpr std::string_view known[] = {"duration_ms"};
  only_known_args(args, known, "sleep");
  const auto* duration = find_arg(args, "duration_ms");
  if (duration == nullptr) throw JobArgumentError("args.duration_ms is required: how long to sleep, in ms");
  const std::uint64_t ms = unsigned_arg(*duration, "duration_ms", 24ull * 3600 * 1000);
  return [ms] { return sleep_for(ms); };
}

}  // namespace loopvisor::service
