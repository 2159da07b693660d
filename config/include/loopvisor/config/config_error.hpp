// ConfigError: a setting that cannot be used, named with where it came from.
#pragma once

#include <stdexcept>
#include <string>

namespace loopvisor::config {

/// Thrown for a bad key or value. what() names the setting (section.key), its source
/// (file:line:column, env variable or flag) and what is allowed.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace loopvisor::config
