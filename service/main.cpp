// loopvisord entry point: reads the configuration (defaults < file < env < flags) and runs the
// daemon, or one of the actions (--check-config, --print-config, healthcheck, --help, --version).
#include <csignal>
#include <cstdlib>
#include <iostream>

#include <spdlog/spdlog.h>

#include "daemon.hpp"
#include "healthcheck.hpp"
#include "log_format.hpp"
#include "loopvisor/config/command_line.hpp"
#include "loopvisor/config/config_error.hpp"
#include "loopvisor/log.hpp"
#include "loopvisor/spdlog_sink.hpp"
#include "loopvisor/version.hpp"

int main(int argc, char** argv) {
  // A write to a pipe or socket whose reader is gone must fail with EPIPE, not kill the daemon
  // and every job it runs. (Exec children get the default disposition back.)
  std::signal(SIGPIPE, SIG_IGN);
  namespace config = loopvisor::config;
  config::CommandLine command;
  config::LoadedConfig loaded;
  try {
    command = config::parse_command_line(argc, argv);
    if (command.action == config::Action::help) {
      std::cout << config::usage();
      return EXIT_SUCCESS;
    }
    if (command.action == config::Action::version) {
      std::cout << "loopvisord " << LOOPVISOR_VERSION << "\n";
      return EXIT_SUCCESS;
    }
    loaded = config::load_config(command.config_file, config::process_environment(), command.values);
  } catch (const config::ConfigError& e) {
    std::cerr << "loopvisord: configuration error: " << e.what() << "\n";
    return 2;
  }
  switch (command.action) {
    case config::Action::check_config:
      std::cout << "loopvisord: configuration is valid" << (loaded.file ? " (" + *loaded.file + ")" : "")
                << "\n";
      return EXIT_SUCCESS;
    case config::Action::print_config:
      std::cout << config::print_config(loaded);
      return EXIT_SUCCESS;
    case config::Action::healthcheck:
      return loopvisor::service::run_healthcheck(loaded.config.admin);
    default:
      break;
  }
  // stderr, text or JSON lines, syslog priorities under journald.
  spdlog::set_default_logger(loopvisor::service::make_daemon_logger(loaded.config.log_format));
  const auto level = spdlog::level::from_str(loaded.config.log_level);
  spdlog::set_level(level);
  // The runtime's own lines (stalls, slow callbacks, shutdown) join the daemon's log at the
  // same level.
  loopvisor::set_log_sink(loopvisor::spdlog_sink(spdlog::default_logger()), loopvisor::log_level_of(level));
  try {
    // SIGHUP and POST /admin/reload read the same sources again.
    return loopvisor::service::run_daemon(loaded.config, [command] {
      return config::load_config(command.config_file, config::process_environment(), command.values);
    });
  } catch (const std::exception& e) {
    spdlog::critical("loopvisord: {}", e.what());
    return EXIT_FAILURE;
  }
}
