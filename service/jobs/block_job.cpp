// The block job: holds its loop without yielding, on purpose, so operators can drill the stall
// alert, /readyz and the systemd watchdog. Off unless [jobs] allow_block = true.
#include <chrono>
#include <thread>

#include "job_kind.hpp"

namespace loopvisor::service {

namespace {

constexpr std::uint64_t max_block_ms = 10 * 60 * 1000;  // a drill, not an outage

boost::asio::awaitable<boost::json::value> block_for(std::uint64_t ms) {
  // Blocks the loop thread itself: nothing else on this loop runs, and neither a DELETE nor
  // the job's time limit can end it early (they apply once it returns).
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  co_return boost::json::object{{"blocked_ms", ms}};
}

}  // namespace

JobBody prepare_block_job(const boost::json::object& args, const config::JobsConfig& config) {
  if (!config.allow_block) {
    throw JobForbidden(
        "block jobs freeze a loop on purpose and are off; set [jobs] allow_block = true for drills");
  }
  static constexpr std::string_view known[] = {"duration_ms"};
  only_known_args(args, known, "block");
  const auto* duration = find_arg(args, "duration_ms");
  if (duration == nullptr)
    throw JobArgumentError("args.duration_ms is required: how long to hold the loop, in ms");
  const std::uint64_t ms = unsigned_arg(*duration, "duration_ms", max_block_ms);
  return [ms] { return block_for(ms); };
}

}  // namespace loopvisor::service
