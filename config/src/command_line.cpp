// Command line: Boost.Program_options parses the flags the schema defines; values are applied
// by the loader so a flag, an env variable and a file key are checked by the same code.
#include "loopvisor/config/command_line.hpp"

#include <fmt/format.h>

#include <boost/program_options.hpp>

#include "loopvisor/config/config_error.hpp"
#include "loopvisor/config/schema.hpp"

namespace loopvisor::config {

namespace po = boost::program_options;

namespace {

po::options_description all_options() {
  po::options_description desc;
  desc.add_options()("help,h", "")("version", "")("check-config", "")("print-config", "")(
      "config", po::value<std::string>(), "")("command", po::value<std::string>(), "");
  for (const auto& s : settings()) desc.add_options()(s.flag.c_str(), po::value<std::string>(), "");
  return desc;
}

// `--loops --admin-listen X`: Program_options gives --loops the next argument whatever it is.
// A flag's value that is itself one of our flags is a forgotten value, named as such (otherwise
// X would be reported as an unknown command, far from the mistake).
void refuse_flag_as_value(const po::options_description& desc, const po::option& opt) {
  if (opt.value.empty()) return;
  const std::string& value = opt.value.front();
  if (!value.starts_with("--")) return;
  const std::string name =
      value.substr(2, value.find('=') == std::string::npos ? std::string::npos : value.find('=') - 2);
  if (desc.find_nothrow(name, false) == nullptr) return;
  throw ConfigError(
      fmt::format("--{} needs a value, but the argument after it is the flag --{}", opt.string_key, name));
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine out;
  po::positional_options_description positional;
  positional.add("command", 1);
  const po::options_description desc = all_options();
  po::parsed_options parsed{nullptr};
  try {
    parsed = po::command_line_parser(argc, argv).options(desc).positional(positional).run();
  } catch (const po::error& e) {
    throw ConfigError(fmt::format("{}; loopvisord --help lists the flags", e.what()));
  }
  for (const auto& opt : parsed.options) {
    if (opt.string_key != "command") refuse_flag_as_value(desc, opt);
  }
  int actions = 0;
  auto set_action = [&](Action a) {
    out.action = a;
    ++actions;
  };
  for (const auto& opt : parsed.options) {
    const std::string& name = opt.string_key;
    if (name == "help") {
      set_action(Action::help);
    } else if (name == "version") {
      set_action(Action::version);
    } else if (name == "check-config") {
      set_action(Action::check_config);
    } else if (name == "print-config") {
      set_action(Action::print_config);
    } else if (name == "command") {
      if (opt.value.front() != "healthcheck") {
        throw ConfigError(fmt::format("unknown command '{}'; the only command is 'healthcheck' (see --help)",
                                      opt.value.front()));
      }
      set_action(Action::healthcheck);
    } else if (name == "config") {
      if (out.config_file) throw ConfigError("--config was given more than once");
      out.config_file = opt.value.front();
    } else {
      out.values.push_back({name, opt.value.front()});
    }
  }
  if (actions > 1) {
    throw ConfigError(
        "give at most one of --help, --version, --check-config, --print-config and healthcheck");
  }
  return out;
}

std::string usage() {
  std::string out =
      "usage: loopvisord [--config FILE] [--SETTING VALUE ...]\n"
      "       loopvisord --check-config | --print-config [--config FILE] [--SETTING VALUE ...]\n"
      "       loopvisord healthcheck [--config FILE] [--admin-listen HOST:PORT]\n"
      "       loopvisord --help | --version\n"
      "\n"
      "Runs the loopvisor runtime with its admin HTTP server until SIGTERM or SIGINT.\n"
      "\n"
      "  --config FILE     TOML config file (or env LOOPVISOR_CONFIG); without one, the defaults below\n"
      "  --check-config    load and validate the configuration, then exit (0: valid)\n"
      "  --print-config    print the effective configuration with the source of every value\n"
      "  healthcheck       ask the running daemon's /healthz (exit 0 when it answers 200)\n"
      "\n"
      "Settings (precedence: flag > env > file > default):\n";
  const DaemonConfig defaults;
  for (const auto& s : settings()) {
    out += fmt::format("  --{} VALUE\n      {}\n      [{}] {} | {} | default {}\n      expects {}\n", s.flag,
                       s.help, s.section, s.key, s.env_var(), s.print(defaults), s.allowed);
  }
  return out;
}

}  // namespace loopvisor::config
