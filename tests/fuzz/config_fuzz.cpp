// libFuzzer target: any bytes as a config file. The loader must answer with a ConfigError or a
// configuration, never crash or hit undefined behaviour (toml++ 3.3.0 does on some inputs,
// so the loader guards what reaches it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loopvisor/config/config_error.hpp"
#include "loopvisor/config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  loopvisor::config::LoadedConfig loaded;
  try {
    loopvisor::config::apply_toml_text(loaded, std::string_view(reinterpret_cast<const char*>(data), size),
                                       "fuzz.toml");
  } catch (const loopvisor::config::ConfigError&) {
  }
  return 0;
}
