// JobIds: formatting and parsing "<boot>-<n>"; the instance name.
#include "job_ids.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <climits>
#include <random>
#include <stdexcept>

namespace loopvisor::service {

namespace {

constexpr std::size_t boot_digits = 8;

bool is_boot(std::string_view text) {
  if (text.size() != boot_digits) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

/// n >= 1 in decimal, no sign, no leading zero, no overflow.
std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || text[0] == '0' || ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return n;
}

}  // namespace

JobIds::JobIds() {
  std::random_device random;  // the system's random source (getrandom)
  boot_ = fmt::format("{:08x}", static_cast<std::uint32_t>(random()));
}

JobIds::JobIds(std::string boot) : boot_(std::move(boot)) {
  if (!is_boot(boot_))
    throw std::invalid_argument("JobIds: a boot is 8 lowercase hex digits, not '" + boot_ + "'");
}

std::string JobIds::format(std::uint64_t n) const { return fmt::format("{}-{}", boot_, n); }

std::optional<std::uint64_t> JobIds::parse(std::string_view id) const {
  if (!well_formed(id) || id.substr(0, boot_digits) != boot_) return std::nullopt;
  return number(id.substr(boot_digits + 1));
}

bool JobIds::well_formed(std::string_view id) {
  return id.size() > boot_digits + 1 && id[boot_digits] == '-' && is_boot(id.substr(0, boot_digits)) &&
         number(id.substr(boot_digits + 1)).has_value();
}

std::string instance_name(std::string_view configured) {
  if (!configured.empty()) return std::string(configured);
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host) == 0 && host[0] != '\0') {
    host[HOST_NAME_MAX] = '\0';
    return host;
  }
  return "unknown";
}

}  // namespace loopvisor::service
