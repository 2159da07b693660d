// Schema: every loopvisord setting as data; typed helpers parse text and TOML the same way.
#include "loopvisor/config/schema.hpp"

#include <fmt/format.h>
#include <spdlog/common.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "loopvisor/placement.hpp"

namespace loopvisor::config {

namespace {

std::uint64_t parse_unsigned(std::string_view text) {
  std::uint64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw std::invalid_argument("not a non-negative integer");
  return v;
}

std::uint64_t toml_unsigned(const toml::node& node) {
  const auto* v = node.as_integer();
  if (v == nullptr) throw std::invalid_argument("not an integer");
  if (v->get() < 0) throw std::invalid_argument("negative");
  return static_cast<std::uint64_t>(v->get());
}

const std::string& toml_string(const toml::node& node) {
  const auto* v = node.as_string();
  if (v == nullptr) throw std::invalid_argument("not a string");
  return v->get();
}

/// A TOML basic string.
std::string quote(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      out += fmt::format("\\u{:04X}", static_cast<unsigned char>(ch));
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

bool parse_bool(std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  throw std::invalid_argument("not a boolean");
}

std::uint64_t as_number(std::size_t v) { return v; }
std::uint64_t as_number(std::chrono::milliseconds v) { return static_cast<std::uint64_t>(v.count()); }
std::uint64_t as_number(std::chrono::microseconds v) { return static_cast<std::uint64_t>(v.count()); }

/// An integer in [min, max] stored in a std::size_t or, for keys ending in _ms or _us, a
/// std::chrono::milliseconds or microseconds field.
template <class Access>
Setting unsigned_setting(std::string section, std::string key, std::string flag, std::string help,
                         std::uint64_t min, std::uint64_t max, Access access) {
  using Field = std::remove_cvref_t<decltype(access(std::declval<DaemonConfig&>()))>;
  const char* what = std::is_same_v<Field, std::chrono::milliseconds>   ? "a whole number of milliseconds"
                     : std::is_same_v<Field, std::chrono::microseconds> ? "a whole number of microseconds"
                                                                        : "an integer";
  Setting s{std::move(section),
            std::move(key),
            std::move(flag),
            std::move(help),
            fmt::format("{} from {} to {}", what, min, max),
            {},
            {},
            {}};
  auto check = [min, max](std::uint64_t v) {
    if (v < min || v > max) throw std::invalid_argument("out of range");
    return Field(v);
  };
  s.set_text = [=](DaemonConfig& c, std::string_view t) { access(c) = check(parse_unsigned(t)); };
  s.set_toml = [=](DaemonConfig& c, const toml::node& n) { access(c) = check(toml_unsigned(n)); };
  s.print = [=](const DaemonConfig& c) { return std::to_string(as_number(access(c))); };
  return s;
}

template <class Access>
Setting bool_setting(std::string section, std::string key, std::string flag, std::string help,
                     Access access) {
  Setting s{
      std::move(section), std::move(key), std::move(flag), std::move(help), "true or false", {}, {}, {}};
  s.set_text = [=](DaemonConfig& c, std::string_view t) { access(c) = parse_bool(t); };
  s.set_toml = [=](DaemonConfig& c, const toml::node& n) {
    const auto* v = n.as_boolean();
    if (v == nullptr) throw std::invalid_argument("not a boolean");
    access(c) = v->get();
  };
  s.print = [=](const DaemonConfig& c) { return access(c) ? "true" : "false"; };
  return s;
}

/// A string checked by `parse`, which returns false for a value it does not accept.
template <class Parse, class Print>
Setting string_setting(std::string section, std::string key, std::string flag, std::string help,
                       std::string allowed, Parse parse, Print print) {
  Setting s{
      std::move(section), std::move(key), std::move(flag), std::move(help), std::move(allowed), {}, {}, {}};
  s.set_text = [=](DaemonConfig& c, std::string_view t) {
    if (!parse(c, t)) throw std::invalid_argument("not accepted");
  };
  s.set_toml = [=](DaemonConfig& c, const toml::node& n) {
    if (!parse(c, toml_string(n))) throw std::invalid_argument("not accepted");
  };
  s.print = [=](const DaemonConfig& c) { return quote(print(c)); };
  return s;
}

bool parse_endpoint(std::string_view text, Endpoint& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return false;  // a bare IPv6 address needs brackets
  }
  const auto port_text = text.substr(colon + 1);
  std::uint64_t port = 0;
  try {
    port = parse_unsigned(port_text);
  } catch (const std::invalid_argument&) {
    return false;
  }
  if (port > 65535) return false;
  out = Endpoint{std::string(host), static_cast<std::uint16_t>(port)};
  return true;
}

bool parse_cpu_list(std::string_view text, std::vector<int>& out) {
  std::vector<int> cpus;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    try {
      const auto v = parse_unsigned(item);
      if (v > 4095) return false;
      cpus.push_back(static_cast<int>(v));
    } catch (const std::invalid_argument&) {
      return false;
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return false;  // trailing comma
  }
  out = std::move(cpus);
  return true;
}

Setting cpu_list_setting() {
  Setting s{"runtime",
            "cpu_affinity",
            "cpu-affinity",
            "CPUs to pin loop threads to (loop i on entry i modulo the count); empty: no pinning",
            "a list of CPU numbers from 0 to 4095 (in env and flags: comma-separated, like 0,2,4)",
            {},
            {},
            {}};
  s.set_text = [](DaemonConfig& c, std::string_view t) {
    if (!parse_cpu_list(t, c.runtime.cpu_affinity)) throw std::invalid_argument("not a CPU list");
  };
  s.set_toml = [](DaemonConfig& c, const toml::node& n) {
    const auto* arr = n.as_array();
    if (arr == nullptr) throw std::invalid_argument("not an array");
    std::vector<int> cpus;
    for (const auto& item : *arr) {
      const auto v = toml_unsigned(item);
      if (v > 4095) throw std::invalid_argument("out of range");
      cpus.push_back(static_cast<int>(v));
    }
    c.runtime.cpu_affinity = std::move(cpus);
  };
  s.print = [](const DaemonConfig& c) {
    return fmt::format("[{}]", fmt::join(c.runtime.cpu_affinity, ", "));
  };
  return s;
}

/// True for a path that starts at / and names no . or .. component, nor an empty one.
bool plain_absolute_path(std::string_view path) {
  if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto part =
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

/// A list of strings, each checked by `check` (which throws std::invalid_argument); comma-separated
/// in env and flags.
template <class Check, class Access>
Setting string_list_setting(std::string section, std::string key, std::string flag, std::string help,
                            std::string allowed, Check check, Access access) {
  Setting s{
      std::move(section), std::move(key), std::move(flag), std::move(help), std::move(allowed), {}, {}, {}};
  s.set_text = [=](DaemonConfig& c, std::string_view t) {
    std::vector<std::string> items;
    while (!t.empty()) {
      const auto comma = t.find(',');
      check(t.substr(0, comma));
      items.emplace_back(t.substr(0, comma));
      if (comma == std::string_view::npos) break;
      t.remove_prefix(comma + 1);
      if (t.empty()) throw std::invalid_argument("trailing comma");
    }
    access(c) = std::move(items);
  };
  s.set_toml = [=](DaemonConfig& c, const toml::node& n) {
    const auto* arr = n.as_array();
    if (arr == nullptr) throw std::invalid_argument("not an array");
    std::vector<std::string> items;
    for (const auto& item : *arr) {
      const auto& text = toml_string(item);
      check(text);
      items.push_back(text);
    }
    access(c) = std::move(items);
  };
  s.print = [=](const DaemonConfig& c) {
    std::vector<std::string> quoted;
    for (const auto& item : access(c)) quoted.push_back(quote(item));
    return fmt::format("[{}]", fmt::join(quoted, ", "));
  };
  return s;
}

Setting exec_allow_setting() {
  return string_list_setting(
      "jobs", "exec_allow", "jobs-exec-allow", "programs an exec job may run (empty: exec jobs are refused)",
      "a list of absolute program paths without . or .. (in env and flags: comma-separated, like "
      "/usr/bin/env,/bin/true)",
      [](std::string_view path) {
        if (!plain_absolute_path(path)) throw std::invalid_argument("not an absolute path");
      },
      [](auto& c) -> auto& { return c.jobs.exec_allow; });
}

/// True for an environment variable name: a letter or _, then letters, digits and _.
bool env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char ch) { return ch == '_' || std::isalnum(ch); });
}

Setting exec_env_setting() {
  return string_list_setting(
      "jobs", "exec_env", "jobs-exec-env",
      "an exec child's whole environment: NAME=value sets, a bare NAME passes the daemon's value on",
      "a list of NAME=value or NAME entries, NAME of letters, digits and _, values without control "
      "characters or commas (in env and flags: comma-separated)",
      [](std::string_view entry) {
        const auto eq = entry.find('=');
        if (!env_name(entry.substr(0, eq))) throw std::invalid_argument("not a variable name");
        if (std::any_of(entry.begin(), entry.end(),
                        [](unsigned char ch) { return ch < 0x20 || ch == 0x7f || ch == ','; }))
          throw std::invalid_argument("control character");
      },
      [](auto& c) -> auto& { return c.jobs.exec_env; });
}

std::vector<Setting> build_settings() {
  constexpr std::uint64_t big = std::numeric_limits<std::uint32_t>::max();
  constexpr std::uint64_t queue_max = std::uint64_t{1} << 30;  // the runtime's own bound on queues
  constexpr std::uint64_t day_ms = 24ull * 3600 * 1000;
  std::vector<Setting> out;
  // [runtime]
  out.push_back(unsigned_setting(
      "runtime", "loops", "loops", "event loops (0: one per hardware thread)", 0, 1024,
      [](auto& c) -> auto& { return c.runtime.loops; }));
  out.push_back(unsigned_setting(
      "runtime", "submit_queue_capacity", "submit-queue-capacity",
      "bound of each loop's cross-thread submission queue (full: submissions are rejected)", 1, queue_max,
      [](auto& c) -> auto& { return c.runtime.submit_queue_capacity; }));
  out.push_back(string_setting(
      "runtime", "placement", "placement", "how submissions without a key pick a loop",
      "\"round_robin\" or \"least_loaded\"",
      [](DaemonConfig& c, std::string_view t) {
        auto p = parse_placement(t);
        if (p) c.runtime.placement = *p;
        return p.has_value();
      },
      [](const DaemonConfig& c) { return std::string(to_string(c.runtime.placement)); }));
  out.push_back(cpu_list_setting());
  out.push_back(unsigned_setting(
      "runtime", "slow_callback_ms", "slow-callback-ms",
      "log and count callbacks or task steps that hold a loop longer (0: off)", 0, day_ms,
      [](auto& c) -> auto& { return c.runtime.slow_callback_threshold; }));
  out.push_back(unsigned_setting(
      "runtime", "spin_before_park_us", "spin-before-park-us",
      "how long an idle loop polls for work before sleeping in the kernel (0: off)", 0, 1000000,
      [](auto& c) -> auto& { return c.runtime.spin_before_park; }));
  out.push_back(unsigned_setting(
      "runtime", "blocking_threads", "blocking-threads", "threads of the blocking pool (to_thread)", 1, 4096,
      [](auto& c) -> auto& { return c.runtime.blocking_threads; }));
  out.push_back(unsigned_setting(
      "runtime", "blocking_max_pending", "blocking-max-pending",
      "blocking-pool jobs that may wait for a thread before new ones are rejected", 1, queue_max,
      [](auto& c) -> auto& { return c.runtime.blocking_max_pending; }));
  // [watchdog]
  out.push_back(unsigned_setting(
      "watchdog", "interval_ms", "watchdog-interval-ms",
      "how often the watchdog probes each loop (0: watchdog off)", 0, day_ms,
      [](auto& c) -> auto& { return c.runtime.watchdog.interval; }));
  out.push_back(unsigned_setting(
      "watchdog", "stall_threshold_ms", "stall-threshold-ms",
      "a loop whose probe waits longer is stalled (and /readyz fails)", 1, day_ms,
      [](auto& c) -> auto& { return c.runtime.watchdog.stall_threshold; }));
  // [shutdown]
  out.push_back(unsigned_setting(
      "shutdown", "grace_ms", "shutdown-grace-ms",
      "on SIGTERM, how long running work may finish before it is cancelled", 0, day_ms,
      [](auto& c) -> auto& { return c.shutdown_grace; }));
  out.push_back(unsigned_setting(
      "shutdown", "readiness_delay_ms", "shutdown-readiness-delay-ms",
      "on SIGTERM, how long /readyz fails before draining starts", 0, day_ms,
      [](auto& c) -> auto& { return c.shutdown_readiness_delay; }));
  // [admin]
  out.push_back(bool_setting(
      "admin", "enabled", "admin-enabled", "run the admin HTTP server",
      [](auto& c) -> auto& { return c.admin.enabled; }));
  out.push_back(string_setting(
      "admin", "listen", "admin-listen", "admin HTTP server address (port 0: any free port)",
      "HOST:PORT with a port from 0 to 65535 (IPv6 in brackets: [::1]:9470)",
      [](DaemonConfig& c, std::string_view t) { return parse_endpoint(t, c.admin.listen); },
      [](const DaemonConfig& c) { return c.admin.listen.to_string(); }));
  out.push_back(unsigned_setting(
      "admin", "max_header_bytes", "admin-max-header-bytes", "largest request header accepted (413 beyond)",
      512, 1024 * 1024, [](auto& c) -> auto& { return c.admin.max_header_bytes; }));
  out.push_back(unsigned_setting(
      "admin", "max_body_bytes", "admin-max-body-bytes", "largest request body accepted (413 beyond)", 0,
      64 * 1024 * 1024, [](auto& c) -> auto& { return c.admin.max_body_bytes; }));
  out.push_back(unsigned_setting(
      "admin", "header_timeout_ms", "admin-header-timeout-ms",
      "time a client has to send a request header (408 after)", 1, day_ms,
      [](auto& c) -> auto& { return c.admin.header_timeout; }));
  out.push_back(unsigned_setting(
      "admin", "body_timeout_ms", "admin-body-timeout-ms",
      "time a client has to send a request body (408 after)", 1, day_ms,
      [](auto& c) -> auto& { return c.admin.body_timeout; }));
  out.push_back(unsigned_setting(
      "admin", "idle_timeout_ms", "admin-idle-timeout-ms",
      "an idle keep-alive connection is closed after this", 1, day_ms,
      [](auto& c) -> auto& { return c.admin.idle_timeout; }));
  out.push_back(unsigned_setting(
      "admin", "max_connections", "admin-max-connections",
      "concurrent admin connections (more are closed at once)", 1, 65536,
      [](auto& c) -> auto& { return c.admin.max_connections; }));
  out.push_back(unsigned_setting(
      "admin", "max_connections_per_client", "admin-max-connections-per-client",
      "concurrent admin connections from one client address (more are refused)", 1, 65536,
      [](auto& c) -> auto& { return c.admin.max_connections_per_client; }));
  out.push_back(unsigned_setting(
      "admin", "probe_reserve", "admin-probe-reserve",
      "extra connections past max_connections that may only ask /healthz, /livez or /readyz", 0, 1024,
      [](auto& c) -> auto& { return c.admin.probe_reserve; }));
  out.push_back(unsigned_setting(
      "admin", "max_page", "admin-max-page", "largest page of /debug/tasks", 1, 1000000,
      [](auto& c) -> auto& { return c.admin.max_page; }));
  out.push_back(string_setting(
      "admin", "instance", "admin-instance",
      "this daemon's name in job records (Kubernetes: the pod name); empty: the host name",
      "printable text of at most 253 bytes (no control characters), or \"\" for the host name",
      [](DaemonConfig& c, std::string_view t) {
        if (t.size() > 253) return false;
        for (const char ch : t) {
          if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) return false;
        }
        c.admin.instance = std::string(t);
        return true;
      },
      [](const DaemonConfig& c) { return c.admin.instance; }));
  out.push_back(string_setting(
      "admin", "auth_token_file", "admin-auth-token-file",
      "file holding the bearer token /debug/* and /v1/jobs require (empty: no token); /metrics and health "
      "stay open",
      "a path to a readable file with one non-empty line, or \"\" for none",
      [](DaemonConfig& c, std::string_view t) {
        c.admin.auth_token_file = std::string(t);
        return true;
      },
      [](const DaemonConfig& c) { return c.admin.auth_token_file; }));
  // [metrics]
  out.push_back(bool_setting(
      "metrics", "enabled", "metrics-enabled", "serve /metrics (off: 404, no collection)",
      [](auto& c) -> auto& { return c.metrics.enabled; }));
  out.push_back(bool_setting(
      "metrics", "process", "metrics-process", "include the process_* metrics",
      [](auto& c) -> auto& { return c.metrics.process; }));
  // [jobs]
  out.push_back(bool_setting(
      "jobs", "enabled", "jobs-enabled", "serve the job API /v1/jobs (off: 404)",
      [](auto& c) -> auto& { return c.jobs.enabled; }));
  out.push_back(bool_setting(
      "jobs", "allow_block", "jobs-allow-block",
      "allow the block job, which holds its loop on purpose (alert and watchdog drills; off: 403)",
      [](auto& c) -> auto& { return c.jobs.allow_block; }));
  out.push_back(unsigned_setting(
      "jobs", "max_active", "jobs-max-active", "jobs queued or running at once (more: 429)", 1, 1000000,
      [](auto& c) -> auto& { return c.jobs.max_active; }));
  out.push_back(unsigned_setting(
      "jobs", "max_finished", "jobs-max-finished", "finished jobs kept for GET (oldest forgotten first)", 0,
      10000000, [](auto& c) -> auto& { return c.jobs.max_finished; }));
  out.push_back(unsigned_setting(
      "jobs", "default_timeout_ms", "jobs-default-timeout-ms",
      "a job's time limit when its request names none", 1, day_ms,
      [](auto& c) -> auto& { return c.jobs.default_timeout; }));
  out.push_back(unsigned_setting(
      "jobs", "max_timeout_ms", "jobs-max-timeout-ms", "the largest time limit a job request may name", 1,
      day_ms, [](auto& c) -> auto& { return c.jobs.max_timeout; }));
  out.push_back(exec_allow_setting());
  out.push_back(unsigned_setting(
      "jobs", "exec_max_output_bytes", "jobs-exec-max-output-bytes",
      "bytes of stdout and of stderr an exec job keeps", 0, 1024 * 1024,
      [](auto& c) -> auto& { return c.jobs.exec_max_output_bytes; }));
  out.push_back(exec_env_setting());
  out.push_back(string_setting(
      "jobs", "exec_cwd", "jobs-exec-cwd", "an exec child's working directory when the request names none",
      "an absolute path without . or ..",
      [](DaemonConfig& c, std::string_view t) {
        if (t != "/" && !plain_absolute_path(t)) return false;
        c.jobs.exec_cwd = std::string(t);
        return true;
      },
      [](const DaemonConfig& c) { return c.jobs.exec_cwd; }));
  out.push_back(unsigned_setting(
      "jobs", "exec_max_cpu_seconds", "jobs-exec-max-cpu-seconds",
      "CPU seconds an exec child may use (RLIMIT_CPU; 0: not limited)", 0, big,
      [](auto& c) -> auto& { return c.jobs.exec_max_cpu_seconds; }));
  out.push_back(unsigned_setting(
      "jobs", "exec_max_memory_bytes", "jobs-exec-max-memory-bytes",
      "address space of an exec child (RLIMIT_AS; 0: not limited)", 0,
      std::numeric_limits<std::int64_t>::max(),
      [](auto& c) -> auto& { return c.jobs.exec_max_memory_bytes; }));
  out.push_back(unsigned_setting(
      "jobs", "exec_max_open_files", "jobs-exec-max-open-files",
      "descriptors an exec child may open (RLIMIT_NOFILE; 0: not limited)", 0, 1048576,
      [](auto& c) -> auto& { return c.jobs.exec_max_open_files; }));
  out.push_back(unsigned_setting(
      "jobs", "exec_max_processes", "jobs-exec-max-processes",
      "processes of the daemon's user an exec child may make (RLIMIT_NPROC; 0: not limited)", 0, big,
      [](auto& c) -> auto& { return c.jobs.exec_max_processes; }));
  out.push_back(unsigned_setting(
      "jobs", "exec_kill_grace_ms", "jobs-exec-kill-grace-ms",
      "after SIGTERM to a stopped exec child's group, how long before SIGKILL", 0, 60000,
      [](auto& c) -> auto& { return c.jobs.exec_kill_grace; }));
  // [log]
  out.push_back(string_setting(
      "log", "level", "log-level", "log level", "one of trace, debug, info, warn, error, critical, off",
      [](DaemonConfig& c, std::string_view t) {
        const std::string text(t);
        if (spdlog::level::from_str(text) == spdlog::level::off && text != "off") return false;
        c.log_level = text;
        return true;
      },
      [](const DaemonConfig& c) { return c.log_level; }));
  out.push_back(string_setting(
      "log", "format", "log-format", "log line format on stderr (a restart applies a change)",
      "\"text\" or \"json\"",
      [](DaemonConfig& c, std::string_view t) {
        if (t != "text" && t != "json") return false;
        c.log_format = std::string(t);
        return true;
      },
      [](const DaemonConfig& c) { return c.log_format; }));
  return out;
}

}  // namespace

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string Setting::env_var() const {
  std::string name = "LOOPVISOR_" + section + "_" + key;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return name;
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = build_settings();
  return all;
}

const Setting* find_setting(std::string_view section, std::string_view key) {
  for (const auto& s : settings()) {
    if (s.section == section && s.key == key) return &s;
  }
  return nullptr;
}

}  // namespace loopvisor::config
