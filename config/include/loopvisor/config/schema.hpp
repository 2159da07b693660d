// Schema: the table of settings — name, flag, env variable, help, how to parse and print each.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "loopvisor/config/daemon_config.hpp"

namespace toml {
inline namespace v3 {
class node;
}
}  // namespace toml

namespace loopvisor::config {

/// One setting. Every source reaches it by the same names: `[section] key` in the file,
/// LOOPVISOR_<SECTION>_<KEY> in the environment, `--flag` on the command line.
struct Setting {
  std::string section;
  std::string key;
  std::string flag;     ///< long option without dashes
  std::string help;     ///< one line for --help
  std::string allowed;  ///< what values are accepted, for error messages
  /// Parse a value written as text (env, flag) into `config`; throws std::invalid_argument
  /// with a short reason on a bad value.
  std::function<void(DaemonConfig&, std::string_view)> set_text;
  /// The same from a TOML value (type-checked).
  std::function<void(DaemonConfig&, const toml::node&)> set_toml;
  /// The value in `config`, as a TOML literal.
  std::function<std::string(const DaemonConfig&)> print;

  std::string name() const { return section + "." + key; }
  std::string env_var() const;
};

/// Every setting loopvisord has, in the order --print-config writes them.
const std::vector<Setting>& settings();

/// The setting `section.key`, or null.
const Setting* find_setting(std::string_view section, std::string_view key);

}  // namespace loopvisor::config
