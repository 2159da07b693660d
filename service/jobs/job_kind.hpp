// JobKind: what kinds of job the job API runs, each checking its own arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "loopvisor/config/daemon_config.hpp"

namespace loopvisor::service {

/// What a job does once it runs on its loop: returns its result as JSON, or throws (a
/// JobFailure keeps a result beside the message). Called once, on the job's loop.
using JobBody = std::function<boost::asio::awaitable<boost::json::value>()>;

/// A request's arguments the kind does not accept (answered 400), or a kind the daemon's
/// config does not allow (answered 403). The message names the argument and what is allowed.
class JobArgumentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};
class JobForbidden : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct JobKind {
  std::string_view name;
  std::string_view summary;  ///< its arguments and result, shown when a request names no kind
  /// Checks `args` (the request's "args" object) against `config` and returns the body to
  /// run; throws JobArgumentError or JobForbidden.
  JobBody (*prepare)(const boost::json::object& args, const config::JobsConfig& config);
};

/// Every kind, in the order error messages list them.
std::span<const JobKind> job_kinds();
const JobKind* find_job_kind(std::string_view name) noexcept;

// The kinds, one per file.
JobBody prepare_sleep_job(const boost::json::object& args, const config::JobsConfig& config);
JobBody prepare_exec_job(const boost::json::object& args, const config::JobsConfig& config);
JobBody prepare_block_job(const boost::json::object& args, const config::JobsConfig& config);

/// `value` as a non-negative integer, or nullopt (a negative, fractional or non-number value).
std::optional<std::uint64_t> as_unsigned(const boost::json::value& value) noexcept;

/// Argument helpers the kinds share: each throws JobArgumentError naming "args.<key>".
const boost::json::value* find_arg(const boost::json::object& args, std::string_view key);
std::uint64_t unsigned_arg(const boost::json::value& value, std::string_view key, std::uint64_t max);
const boost::json::string& string_arg(const boost::json::value& value, std::string_view key);
/// Refuses keys of `args` not in `known`.
void only_known_args(const boost::json::object& args, std::span<const std::string_view> known,
                     std::string_view kind);

}  // namespace loopvisor::service
