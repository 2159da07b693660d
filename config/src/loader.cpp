// Loader: defaults, then the TOML file, then LOOPVISOR_* variables, then flags; every value
// remembers its source so errors and --print-config can name it.
#include "loopvisor/config/loader.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "loopvisor/config/config_error.hpp"
#include "loopvisor/config/schema.hpp"

extern char** environ;

namespace loopvisor::config {

namespace {

constexpr std::string_view env_prefix = "LOOPVISOR_";
constexpr std::string_view config_env = "LOOPVISOR_CONFIG";

/// `value` for an error message on one line: control characters and bytes past ASCII escaped,
/// so a value from the environment cannot split the message or garble a terminal.
std::string shown(std::string_view value) {
  std::string out;
  for (const char ch : value) {
    const auto b = static_cast<unsigned char>(ch);
    if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (b < 0x20 || b >= 0x7f) {
      out += fmt::format("\\x{:02x}", b);
    } else {
      out += ch;
    }
  }
  return out;
}

[[noreturn]] void bad_value(const Setting& s, std::string_view value, const std::string& source,
                            const std::string& reason) {
  throw ConfigError(
      fmt::format("{} = {}: {}; expected {} (from {})", s.name(), shown(value), reason, s.allowed, source));
}

/// Writes a value for an error message. Arrays are written element by element and tables as
/// `{...}`: toml++ 3.3.0's formatter has undefined behaviour on an array or table that holds a
/// float between -1 and 1 (it casts the negative log10 of the float to size_t), found by the
/// config fuzzer with `cpu_affinity = [0.1]`. Scalars print on their own, without it.
void show_toml(std::ostream& out, const toml::node& node, int depth) {
  if (const auto* array = node.as_array()) {
    if (depth >= 2) {
      out << "[...]";
      return;
    }
    out << '[';
    const char* separator = "";
    for (const auto& item : *array) {
      out << separator;
      show_toml(out, item, depth + 1);
      separator = ", ";
    }
    out << ']';
  } else if (node.is_table()) {
    out << "{...}";
  } else {
    node.visit([&out](const auto& v) { out << v; });
  }
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

/// Why the loader refuses a text before toml++ sees it, and where.
struct Refusal {
  std::size_t at = std::string_view::npos;
  const char* why = nullptr;
};

constexpr std::size_t max_config_bytes = 1024 * 1024;
constexpr std::size_t max_key_components = 16;  // a.b.c = 1 or [a.b.c]: settings need two
constexpr std::size_t max_key_length = 256;     // characters of one line's key, unquoted parts
constexpr std::size_t max_nesting = 32;         // arrays and inline tables inside each other

/// The first thing the loader refuses before toml++ sees it (`why` null if none): a control
/// character but tab and line endings (TOML allows none), a table header with no key, and any
/// non-ASCII byte outside a comment. toml++ 3.3.0 tests characters of a value it scans with
/// is_non_ascii_horizontal_whitespace, which reaches __builtin_unreachable for most of
/// U+00A1..U+0499, U+2C6E..U+3067 and U+FBF6..U+FEFE, and its scan does not always stop where a
/// string would (found by tests/fuzz). No setting takes a non-ASCII value, so only comments
/// may carry them. Also refused: keys of more than max_key_components parts or longer than
/// max_key_length, and values nested deeper than max_nesting: toml++'s parser recurses on
/// each, and ~35,000 levels overflow an 8 MiB stack.
Refusal refused_at(std::string_view text) {
  enum class In { code, comment, basic, literal, ml_basic, ml_literal } in = In::code;
  std::string open;        // value arrays '[' and inline tables '{' open in code, innermost last
  bool line_start = true;  // only whitespace so far on this line (in code)
  bool in_key = true;      // this line has had no '=' yet: what is read is a key or header
  std::size_t key_dots = 0;
  std::size_t key_length = 0;
  const auto at = [&](std::size_t i, std::string_view what) { return text.substr(i, what.size()) == what; };
  const auto non_ascii = [](char c) { return static_cast<unsigned char>(c) >= 0x80; };
  std::size_t i = 0;
  // A multi-line string may end with up to two quotes of its own before the closing three.
  const auto close_ml = [&](char quote) {
    i += 3;
    for (int extra = 0; extra < 2 && i < text.size() && text[i] == quote; ++extra) ++i;
    in = In::code;
  };
  while (i < text.size()) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    // TOML permits no raw control character but tab and line endings, anywhere; toml++ 3.3.0
    // assumes (TOML_ASSERT_ASSUME) it never meets one in a table header.
    if ((byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f) {
      return {i, "a control character; TOML allows only tab and line endings"};
    }
    switch (in) {
      case In::code:
        if (non_ascii(c)) return {i, "a non-ASCII character outside a comment; no setting takes one"};
        if (c == '\n') {
          line_start = true;
          if (open.empty()) {
            in_key = true;
            key_dots = key_length = 0;
          }
          ++i;
          break;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
          ++i;
          break;
        }
        if (c == '[' && line_start && open.empty()) {
          // A table header: toml++ 3.3.0 assumes (TOML_ASSERT_ASSUME) a key follows.
          std::size_t k = i + 1;
          if (k < text.size() && text[k] == '[') ++k;
          while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) ++k;
          const char first = k < text.size() ? text[k] : '\0';
          const bool key_start = std::isalnum(static_cast<unsigned char>(first)) || first == '_' ||
                                 first == '-' || first == '"' || first == '\'';
          if (!key_start) {
            const auto b = static_cast<unsigned char>(first);
            if (k < text.size() &&
                ((b < 0x20 && first != '\t' && first != '\n' && first != '\r') || b == 0x7f))
              return {k, "a control character; TOML allows only tab and line endings"};
            if (k < text.size() && b >= 0x80)
              return {k, "a non-ASCII character outside a comment; no setting takes one"};
            return {k, "a table header without a key: '[' must be followed by a name"};
          }
          line_start = false;
          i = k;
          break;
        }
        line_start = false;
        if (in_key && c != '#') {
          if (c == '=') {
            in_key = false;
          } else if (c == '.' && ++key_dots >= max_key_components) {
            return {i, "a key or table name of too many dotted parts (settings take two: section.key)"};
          } else if (++key_length > max_key_length) {
            return {i, "a key or table name that is too long"};
          }
        }
        if (!in_key && (c == '[' || c == '{')) {
          open += c;
          if (open.size() > max_nesting) return {i, "arrays or inline tables nested too deeply"};
          if (c == '{') in_key = true, key_dots = key_length = 0;  // an inline table starts with a key
        } else if ((c == ']' && open.ends_with('[')) || (c == '}' && open.ends_with('{'))) {
          open.pop_back();
        } else if (c == ',' && open.ends_with('{')) {
          in_key = true, key_dots = key_length = 0;  // the next key of an inline table
        }
        if (c == '#') {
          in = In::comment;
        } else if (at(i, "\"\"\"")) {
          in = In::ml_basic;
          i += 2;
        } else if (at(i, "'''")) {
          in = In::ml_literal;
          i += 2;
        } else if (c == '"') {
          in = In::basic;
        } else if (c == '\'') {
          in = In::literal;
        }
        ++i;
        break;
      case In::comment:
        if (c == '\n') {
          in = In::code;
          line_start = true;
          if (open.empty()) {
            in_key = true;
            key_dots = key_length = 0;
          }
        }
        ++i;
        break;
      case In::basic:
      case In::ml_basic:
        if (non_ascii(c)) return {i, "a non-ASCII character outside a comment; no setting takes one"};
        if (c == '\\') {
          i += 2;
        } else if (in == In::ml_basic && at(i, "\"\"\"")) {
          close_ml('"');
        } else {
          if ((in == In::basic && c == '"') || (in == In::basic && c == '\n')) in = In::code;
          ++i;
        }
        break;
      case In::literal:
        if (non_ascii(c)) return {i, "a non-ASCII character outside a comment; no setting takes one"};
        if (c == '\'' || c == '\n') in = In::code;
        ++i;
        break;
      case In::ml_literal:
        if (non_ascii(c)) return {i, "a non-ASCII character outside a comment; no setting takes one"};
        if (at(i, "'''")) {
          close_ml('\'');
        } else {
          ++i;
        }
        break;
    }
  }
  return {};
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

/// The contents of a regular file of at most `max_bytes`; anything else (a directory, a FIFO
/// that would block, a device like /dev/zero that never ends, a larger file) is a ConfigError
/// that starts with `what`.
std::string read_regular_file(const std::string& path, std::size_t max_bytes, const std::string& what) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    throw ConfigError(fmt::format("{}: cannot be opened for reading: {}", what, std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0)
    throw ConfigError(fmt::format("{}: cannot be read: {}", what, std::strerror(errno)));
  if (!S_ISREG(info.st_mode)) {
    const char* kind = S_ISDIR(info.st_mode)    ? "a directory"
                       : S_ISFIFO(info.st_mode) ? "a FIFO"
                       : S_ISCHR(info.st_mode)  ? "a character device"
                       : S_ISBLK(info.st_mode)  ? "a block device"
                       : S_ISSOCK(info.st_mode) ? "a socket"
                                                : "not a regular file";
    throw ConfigError(fmt::format("{}: is {}; it must be a regular file", what, kind));
  }
  std::string content;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ConfigError(fmt::format("{}: cannot be read: {}", what, std::strerror(errno)));
    if (n == 0) break;
    content.append(chunk, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) {
      throw ConfigError(fmt::format("{}: is larger than {} bytes, the most it may be", what, max_bytes));
    }
  }
  return content;
}

/// Reads the admin token file named by the config (the token itself is never printed).
void read_auth_token(LoadedConfig& loaded) {
  auto& admin = loaded.config.admin;
  admin.auth_token.clear();
  if (admin.auth_token_file.empty()) return;
  const auto source = loaded.origin.at("admin.auth_token_file");
  const std::string content =
      read_regular_file(admin.auth_token_file, 64 * 1024,
                        fmt::format("admin.auth_token_file = {} (from {})", admin.auth_token_file, source));
  std::string_view first_line(content);
  if (first_line.starts_with("\xEF\xBB\xBF")) first_line.remove_prefix(3);  // a UTF-8 byte order mark
  first_line = first_line.substr(0, first_line.find('\n'));
  std::string token(first_line);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t'))
    token.pop_back();
  if (token.empty()) {
    throw ConfigError(
        fmt::format("admin.auth_token_file = {}: its first line is empty; put the token there (from {})",
                    admin.auth_token_file, source));
  }
  admin.auth_token = std::move(token);
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
  const auto& j = loaded.config.jobs;
  if (j.default_timeout > j.max_timeout) {
    throw ConfigError(fmt::format(
        "jobs.default_timeout_ms = {} (from {}) must not exceed jobs.max_timeout_ms = {} (from {}): "
        "a job that names no limit gets the default, which must itself be allowed",
        j.default_timeout.count(), loaded.origin.at("jobs.default_timeout_ms"), j.max_timeout.count(),
        loaded.origin.at("jobs.max_timeout_ms")));
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
  if (const auto refusal = refused_at(text); refusal.why != nullptr) {
    throw ConfigError(
        fmt::format("{}:{}: {} (byte {})", source_name, line_of(text, refusal.at), refusal.why, refusal.at));
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
      throw ConfigError(
          fmt::format("{}: '{}' must be a [section]; settings live in sections such as "
                      "[runtime], [admin], [watchdog]",
                      where(source_name, section_node.source()), section));
    }
    for (const auto& [key, node] : *table) {
      const Setting* s = find_setting(section, key.str());
      const std::string source = "file " + where(source_name, node.source());
      if (s == nullptr) {
        throw ConfigError(
            fmt::format("{}.{}: unknown setting (from {}); loopvisord --help lists every setting", section,
                        key.str(), source));
      }
      try {
        s->set_toml(loaded.config, node);
      } catch (const std::invalid_argument& e) {
        std::ostringstream shown;
        show_toml(shown, node, 0);
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
    if (auto it = env.find(std::string(config_env)); it != env.end() && !it->second.empty())
      path = it->second;
  }
  if (path) {
    apply_toml_text(loaded, read_regular_file(*path, max_config_bytes, "config file " + *path), *path);
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
          shown(name)));
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
  read_auth_token(loaded);
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
