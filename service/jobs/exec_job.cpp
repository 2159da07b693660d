// The exec job: runs an allowed program with arguments and returns its exit code and output.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "job.hpp"
#include "job_kind.hpp"
#include "loopvisor/subprocess.hpp"
#include "text.hpp"

namespace loopvisor::service {

namespace {

/// The child's whole environment from [jobs] exec_env: NAME=value as written, a bare NAME with
/// the daemon's value (left out when the daemon has none).
std::vector<std::string> child_environment(const std::vector<std::string>& entries) {
  std::vector<std::string> env;
  for (const auto& entry : entries) {
    if (entry.find('=') != std::string::npos) {
      env.push_back(entry);
    } else if (const char* value = std::getenv(entry.c_str())) {
      env.push_back(entry + "=" + value);
    }
  }
  return env;
}

struct ExecRequest {
  std::vector<std::string> argv;
  SubprocessOptions options;
};

// The request behind a shared_ptr: GCC 12 mishandles aggregates holding strings passed by
// value into a coroutine (see runtime/src/subprocess.cpp).
boost::asio::awaitable<boost::json::value> run_exec(std::shared_ptr<const ExecRequest> request) {
  const SubprocessResult r = co_await create_subprocess_exec(request->argv, request->options);
  boost::json::value result = boost::json::object{
      {"exit_code", r.exit_code},
      {"stdout", valid_utf8(r.out)},
      {"stderr", valid_utf8(r.err)},
      {"stdout_truncated", r.out_truncated},
      {"stderr_truncated", r.err_truncated},
      {"input_closed", r.input_closed},
  };
  if (r.exit_code != 0) {
    throw JobFailure(fmt::format("{} exited with code {}", request->argv.front(), r.exit_code),
                     std::move(result));
  }
  co_return result;
}

}  // namespace

JobBody prepare_exec_job(const boost::json::object& args, const config::JobsConfig& config) {
  static constexpr std::string_view known[] = {"argv", "input", "cwd"};
  only_known_args(args, known, "exec");
  if (config.exec_allow.empty()) {
    throw JobForbidden(
        "exec jobs are off: no program is listed in [jobs] exec_allow (LOOPVISOR_JOBS_EXEC_ALLOW, "
        "--jobs-exec-allow)");
  }
  auto request = std::make_shared<ExecRequest>();
  const auto* argv = find_arg(args, "argv");
  if (argv == nullptr || !argv->is_array() || argv->get_array().empty()) {
    throw JobArgumentError("args.argv is required: a non-empty array of strings, the program first");
  }
  for (const auto& item : argv->get_array()) {
    request->argv.emplace_back(string_arg(item, "argv[]"));
  }
  const std::string& program = request->argv.front();
  if (std::find(config.exec_allow.begin(), config.exec_allow.end(), program) == config.exec_allow.end()) {
    throw JobForbidden(fmt::format("args.argv[0] = '{}' is not in [jobs] exec_allow; allowed: {}", program,
                                   fmt::join(config.exec_allow, ", ")));
  }
  if (const auto* input = find_arg(args, "input"))
    request->options.input = std::string(string_arg(*input, "input"));
  if (const auto* cwd = find_arg(args, "cwd")) {
    request->options.cwd = std::string(string_arg(*cwd, "cwd"));
    if (!request->options.cwd.starts_with('/')) throw JobArgumentError("args.cwd must be an absolute path");
  }
  if (request->options.cwd.empty()) request->options.cwd = config.exec_cwd;
  request->options.max_output_bytes = config.exec_max_output_bytes;
  request->options.env = child_environment(config.exec_env);
  const auto limit = [](std::uint64_t v) { return v == 0 ? std::nullopt : std::optional<std::uint64_t>(v); };
  request->options.limits.cpu_seconds = limit(config.exec_max_cpu_seconds);
  request->options.limits.address_space_bytes = limit(config.exec_max_memory_bytes);
  request->options.limits.open_files = limit(config.exec_max_open_files);
  request->options.limits.processes = limit(config.exec_max_processes);
  request->options.kill_grace = config.exec_kill_grace;
  return [request = std::shared_ptr<const ExecRequest>(std::move(request))] { return run_exec(request); };
}

}  // namespace loopvisor::service
