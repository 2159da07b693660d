// Loader: defaults < TOML file < environment < command line, with the source of every value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "loopvisor/config/daemon_config.hpp"

namespace loopvisor::config {

/// The effective configuration and where each setting's value came from.
struct LoadedConfig {
  DaemonConfig config;
  /// "section.key" -> "default", "file PATH:LINE:COL", "env NAME" or "flag --NAME".
  std::map<std::string, std::string> origin;
  std::optional<std::string> file;  ///< the file read, if any
};

/// A value given on the command line for the setting whose flag is `flag`.
struct FlagValue {
  std::string flag;
  std::string value;
};

/// The environment as name -> value (only LOOPVISOR_* names matter).
using Environment = std::map<std::string, std::string>;

/// The current process's environment.
Environment process_environment();

/// Builds the configuration: defaults, then `file` (when given, else LOOPVISOR_CONFIG when
/// set), then every LOOPVISOR_<SECTION>_<KEY> variable, then `flags`. Throws ConfigError for
/// an unreadable or malformed file, an unknown key or variable, or a bad value — naming the
/// setting, its source and what is allowed. Checks across settings (like a watchdog threshold
/// shorter than its interval) run last.
LoadedConfig load_config(const std::optional<std::string>& file, const Environment& env,
                         const std::vector<FlagValue>& flags);

/// Parses TOML text as if read from `source_name` on top of `loaded` (exposed for tests and
/// fuzzing). Throws ConfigError.
void apply_toml_text(LoadedConfig& loaded, std::string_view text, const std::string& source_name);

/// The effective configuration as TOML, each value commented with its source.
std::string print_config(const LoadedConfig& loaded);

}  // namespace loopvisor::config
