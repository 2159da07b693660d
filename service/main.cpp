// loopvisord entry point: parses the command line and runs the daemon.
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "daemon.hpp"
#include "loopvisor/version.hpp"

namespace {

constexpr std::string_view usage =
    "usage: loopvisord [--loops N] [--shutdown-grace-ms MS] [--version] [--help]\n"
    "  --loops N               number of event loops (0 = one per hardware thread; default 0)\n"
    "  --shutdown-grace-ms MS  how long running work may finish on SIGTERM (default 10000)\n";

bool parse_count(std::string_view flag, const char* text, std::size_t& out) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used != std::string_view(text).size() || v < 0) throw std::invalid_argument("negative");
    out = static_cast<std::size_t>(v);
    return true;
  } catch (const std::exception&) {
    std::cerr << "loopvisord: " << flag << " expects a non-negative integer, got '" << text << "'\n" << usage;
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  loopvisor::service::DaemonOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return EXIT_SUCCESS;
    }
    if (arg == "--version") {
      std::cout << "loopvisord " << LOOPVISOR_VERSION << "\n";
      return EXIT_SUCCESS;
    }
    if ((arg == "--loops" || arg == "--shutdown-grace-ms") && i + 1 < argc) {
      std::size_t value = 0;
      if (!parse_count(arg, argv[++i], value)) return 2;
      if (arg == "--loops") {
        options.runtime.loops = value;
      } else {
        options.shutdown_grace = std::chrono::milliseconds(value);
      }
      continue;
    }
    std::cerr << "loopvisord: unknown or incomplete option '" << arg << "'\n" << usage;
    return 2;
  }
  try {
    return loopvisor::service::run_daemon(options);
  } catch (const std::exception& e) {
    spdlog::critical("loopvisord: {}", e.what());
    return EXIT_FAILURE;
  }
}
