// Loader: defaults, then the TOML file, then LOOPVISOR_* variables, then flags; every value
// remembers its source so errors and --print-config can name it.
#include "loopvisor/config/loader.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "loopvisor/config/config_error.hpp"
#include "loopvisor/config/schema.hpp"

extern char** environ;

namespace loopvisor::config {

namespace {

constexpr std::string_view env_prefix = "LOOPVISOR_";
constexpr std::string_view config_env = "LOOPVISOR_CONFIG";

[[noreturn]] void bad_value(const Setting& s, std::string_view value, const std::string& source,
                            const std::string& reason) {
  throw ConfigError(fmt::format("{} = {}: {}; expected {} (from {})", s.name(), value, reason, s.allowed, source));
}

/// Byte offset of the first invalid UTF-8 sequence, or npos. toml++ 3.3.0 has undefined
/// behaviour on some malformed input, so nothing unchecked reaches it.
std::size_t invalid_utf8_at(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > text.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::size_t line_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

std::string where(const std::string& source_name, const toml::source_region& region) {
  return fmt::format("{}:{}:{}", source_name, region.begin.line, region.begin.column);
}

/// Kubernetes injects <SERVICE>_SERVICE_HOST, <SERVICE>_PORT and <SERVICE>_PORT_* for every
/// Service in the namespace; a Service named "loopvisor" must not make the daemon fail.
bool is_kubernetes_service_link(std::string_view name) {
  const auto rest = name.substr(env_prefix.size());
  return rest.starts_with("SERVICE_HOST") || rest.starts_with("SERVICE_PORT") || rest == "PORT" ||
         rest.starts_with("PORT_");
}

void check_combinations(const LoadedConfig& loaded) {
  const auto& w = loaded.config.runtime.watchdog;
  if (w.interval.count() > 0 && w.stall_threshold <= w.interval) {
    throw ConfigError(fmt::format(
        "watchdog.stall_threshold_ms = {} (from {}) must be longer than watchdog.interval_ms = {} (from {}): "
        "a loop is only known to be stalled after a probe has waited at least one interval",
        w.stall_threshold.count(), loaded.origin.at("watchdog.stall_threshold_ms"), w.interval.count(),
        loaded.origin.at("watchdog.interval_ms")));
  }
}

}  // namespace

Environment process_environment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || !entry.starts_with(env_prefix)) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

void apply_toml_text(LoadedConfig& loaded, std::string_view text, const std::string& source_name) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
  if (const auto bad = invalid_utf8_at(text); bad != std::string_view::npos) {
    throw ConfigError(fmt::format("{}:{}: not valid UTF-8 (byte {}); a config file must be UTF-8 text",
                                  source_name, line_of(text, bad), bad));
  }
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}: not valid TOML: {}", where(source_name, e.source()), e.description()));
  }
  for (const auto& [section_key, section_node] : root) {
    const std::string section(section_key.str());
    const auto* table = section_node.as_table();
    if (table == nullptr) {
      throw ConfigError(fmt::format("{}: '{}' must be a [section]; settings live in sections such as "
                                    "[runtime], [admin], [watchdog]",
                                    where(source_name, section_node.source()), section));
    }
    for (const auto& [key, node] : *table) {
      const Setting* s = find_setting(section, key.str());
      const std::string source = "file " + where(source_name, node.source());
      if (s == nullptr) {
        throw ConfigError(fmt::format("{}.{}: unknown setting (from {}); loopvisord --help lists every setting",
                                      section, key.str(), source));
      }
      try {
        s->set_toml(loaded.config, node);
      } catch (const std::invalid_argument& e) {
        std::ostringstream shown;
        node.visit([&shown](const auto& v) { shown << v; });
        bad_value(*s, shown.str(), source, e.what());
      }
      loaded.origin[s->name()] = source;
    }
  }
}

LoadedConfig load_config(const std::optional<std::string>& file, const Environment& env,
                         const std::vector<FlagValue>& flags) {
  LoadedConfig loaded;
  for (const auto& s : settings()) loaded.origin[s.name()] = "default";

  std::optional<std::string> path = file;
  if (!path) {
    if (auto it = env.find(std::string(config_env)); it != env.end() && !it->second.empty()) path = it->second;
  }
  if (path) {
    std::ifstream in(*path, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("config file {}: cannot be opened for reading", *path));
    std::ostringstream content;
    content << in.rdbuf();
    apply_toml_text(loaded, content.str(), *path);
    loaded.file = path;
  }

  for (const auto& [name, value] : env) {
    if (!name.starts_with(env_prefix) || name == config_env || is_kubernetes_service_link(name)) continue;
    const Setting* match = nullptr;
    for (const auto& s : settings()) {
      if (s.env_var() == name) match = &s;
    }
    if (match == nullptr) {
      throw ConfigError(fmt::format(
          "environment variable {}: no setting has that name; variables are LOOPVISOR_<SECTION>_<KEY>, "
          "like LOOPVISOR_ADMIN_LISTEN (loopvisord --help lists them)",
          name));
    }
    try {
      match->set_text(loaded.config, value);
    } catch (const std::invalid_argument& e) {
      bad_value(*match, value, "env " + name, e.what());
    }
    loaded.origin[match->name()] = "env " + name;
  }

  for (const auto& f : flags) {
    const Setting* match = nullptr;
    for (const auto& s : settings()) {
      if (s.flag == f.flag) match = &s;
    }
    if (match == nullptr) throw ConfigError(fmt::format("flag --{}: no setting has that flag", f.flag));
    try {
      match->set_text(loaded.config, f.value);
    } catch (const std::invalid_argument& e) {
      bad_value(*match, f.value, "flag --" + f.flag, e.what());
    }
    loaded.origin[match->name()] = "flag --" + f.flag;
  }
  check_combinations(loaded);
  return loaded;
}

std::string print_config(const LoadedConfig& loaded) {
  std::string out = "# loopvisord effective configuration";
  if (loaded.file) out += " (file " + *loaded.file + ")";
  out += "\n";
  std::string section;
  for (const auto& s : settings()) {
    if (s.section != section) {
      section = s.section;
      out += "\n[" + section + "]\n";
    }
    out += fmt::format("{} = {}  # {}\n", s.key, s.print(loaded.config), loaded.origin.at(s.name()));
  }
  return out;
}

}  // namespace loopvisor::config
