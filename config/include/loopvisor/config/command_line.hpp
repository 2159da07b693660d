// Command line: loopvisord's flags (one per setting, plus actions), parsed by Boost.Program_options.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "loopvisor/config/loader.hpp"

namespace loopvisor::config {

enum class Action { run, help, version, check_config, print_config, healthcheck };

struct CommandLine {
  Action action = Action::run;
  std::optional<std::string> config_file;  ///< --config PATH
  std::vector<FlagValue> values;           ///< settings given as flags, in order
};

/// Parses argv. `loopvisord healthcheck` (a subcommand) asks the running daemon's /healthz.
/// Throws ConfigError naming an unknown flag or a flag missing its value.
CommandLine parse_command_line(int argc, const char* const* argv);

/// --help text: usage, actions, and every setting with its flag, env variable and default.
std::string usage();

}  // namespace loopvisor::config
