// The job kind table and the argument checks every kind uses.
#include "job_kind.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace loopvisor::service {

std::span<const JobKind> job_kinds() {
  static const JobKind kinds[] = {
      {"sleep", "args {\"duration_ms\": N}: waits N ms on its loop; result {\"slept_ms\": N}",
       &prepare_sleep_job},
      {"exec",
       "args {\"argv\": [\"/abs/program\", ...], \"input\": \"...\", \"cwd\": \"/dir\"}: runs a program "
       "listed in [jobs] exec_allow; result {\"exit_code\", \"stdout\", \"stderr\", ...}; a non-zero exit "
       "fails the job",
       &prepare_exec_job},
      {"block",
       "args {\"duration_ms\": N}: holds its loop N ms without yielding, on purpose (drills; needs [jobs] "
       "allow_block = true); result {\"blocked_ms\": N}",
       &prepare_block_job},
  };
  return kinds;
}

const JobKind* find_job_kind(std::string_view name) noexcept {
  for (const auto& kind : job_kinds()) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

const boost::json::value* find_arg(const boost::json::object& args, std::string_view key) {
  const auto it = args.find(key);
  return it == args.end() ? nullptr : &it->value();
}

std::optional<std::uint64_t> as_unsigned(const boost::json::value& value) noexcept {
  if (value.is_uint64()) return value.get_uint64();
  if (value.is_int64() && value.get_int64() >= 0) return static_cast<std::uint64_t>(value.get_int64());
  return std::nullopt;
}

std::uint64_t unsigned_arg(const boost::json::value& value, std::string_view key, std::uint64_t max) {
  const auto parsed = as_unsigned(value);
  if (!parsed) throw JobArgumentError(fmt::format("args.{} must be an integer from 0 to {}", key, max));
  const std::uint64_t v = *parsed;
  if (v > max)
    throw JobArgumentError(fmt::format("args.{} = {} is more than the largest allowed, {}", key, v, max));
  return v;
}

const boost::json::string& string_arg(const boost::json::value& value, std::string_view key) {
  if (!value.is_string()) throw JobArgumentError(fmt::format("args.{} must be a string", key));
  return value.get_string();
}

void only_known_args(const boost::json::object& args, std::span<const std::string_view> known,
                     std::string_view kind) {
  for (const auto& [key, value] : args) {
    if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end()) {
      throw JobArgumentError(fmt::format("args.{}: a {} job has no such argument; it takes {}",
                                         std::string_view(key), kind, fmt::join(known, ", ")));
    }
  }
}

}  // namespace loopvisor::service
