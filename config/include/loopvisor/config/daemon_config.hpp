// DaemonConfig: every setting loopvisord reads, with the defaults config/loopvisor.toml repeats.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <vector>

#include "loopvisor/placement.hpp"
#include "loopvisor/watchdog.hpp"

namespace loopvisor::config {

/// A TCP endpoint written HOST:PORT ("[::1]:9470" for IPv6). Port 0 asks the kernel for a
/// free port.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// The runtime part: what the daemon passes on to SupervisorOptions (service/daemon.cpp). Kept
/// apart from supervisor.hpp so the config library builds alone (the config fuzzer compiles
/// only config/ and one runtime source).
struct RuntimeConfig {
  std::size_t loops = 0;  ///< 0: one per hardware thread
  std::size_t submit_queue_capacity = 16384;
  Placement placement = Placement::round_robin;
  std::vector<int> cpu_affinity;
  std::chrono::milliseconds slow_callback_threshold = std::chrono::milliseconds(100);
  std::chrono::microseconds spin_before_park{0};  ///< 0: off
  std::size_t blocking_threads = 8;
  std::size_t blocking_max_pending = 1024;
  WatchdogOptions watchdog;
};

struct AdminConfig {
  /// Off: no admin HTTP server at all (no /metrics, no probes).
  bool enabled = true;
  /// This daemon's name in job records (Kubernetes: the pod's name through the downward API);
  /// empty: the host name.
  std::string instance;
  Endpoint listen{"127.0.0.1", 9470};
  /// Requests whose header or body is larger get 413.
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  /// A client has this long to send a request's header, then its body; 408 after.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds body_timeout = std::chrono::seconds(10);
  /// An idle keep-alive connection is closed after this long.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  /// Connections beyond this are refused, but for the probe reserve below; when it is reached,
  /// the longest-idle keep-alive connection is closed to make room for a new one.
  std::size_t max_connections = 256;
  /// Connections one client address may hold at once (more are refused).
  std::size_t max_connections_per_client = 64;
  /// Extra connections, past max_connections, that may only ask /healthz, /livez or /readyz
  /// (one request each, 1 s to send it): probes answer while every other slot is taken.
  std::size_t probe_reserve = 16;
  /// Largest page /debug/tasks returns (?limit= may ask for less).
  std::size_t max_page = 1000;
  /// A file holding the bearer token /debug/* and /v1/jobs require ("": no token, open). /metrics and the
  /// health routes never ask for one. The loader reads it into `auth_token`.
  std::string auth_token_file;
  std::string auth_token;  ///< read from auth_token_file; never printed
};

struct MetricsConfig {
  /// Off: /metrics answers 404 and no collector runs.
  bool enabled = true;
  /// The process_* family (from /proc).
  bool process = true;
};

/// The job API (/v1/jobs): work submitted over HTTP and run as tasks on the loops.
struct JobsConfig {
  /// Off: /v1/jobs answers 404.
  bool enabled = true;
  /// The `block` job kind, which freezes its loop for N ms on purpose (drills of the stall
  /// alert and the systemd watchdog); off: such requests are refused with 403.
  bool allow_block = false;
  /// Jobs queued or running at once; more are refused with 429.
  std::size_t max_active = 64;
  /// Finished jobs kept for GET; the oldest finished one is forgotten first.
  std::size_t max_finished = 1000;
  /// A job's time limit when the request names none, and the largest it may name.
  std::chrono::milliseconds default_timeout = std::chrono::minutes(1);
  std::chrono::milliseconds max_timeout = std::chrono::hours(1);
  /// Programs an `exec` job may run, as absolute paths; empty: exec jobs are refused.
  std::vector<std::string> exec_allow;
  /// Bytes of stdout and of stderr an exec job keeps (the rest is dropped and flagged).
  std::size_t exec_max_output_bytes = 64 * 1024;
  /// An exec child's whole environment: "NAME=value" sets a variable, a bare "NAME" passes the
  /// daemon's value on (if it has one). Nothing else of the daemon's environment reaches it.
  std::vector<std::string> exec_env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  /// An exec child's working directory when the request names none.
  std::string exec_cwd = "/";
  /// Per-child limits (setrlimit); 0: not limited (inherited from the daemon).
  std::uint64_t exec_max_cpu_seconds = 0;
  std::uint64_t exec_max_memory_bytes = 0;  ///< address space (RLIMIT_AS)
  std::uint64_t exec_max_open_files = 1024;
  std::uint64_t exec_max_processes = 0;  ///< RLIMIT_NPROC: counts every process of the daemon's user
  /// On timeout, cancel and shutdown an exec child's process group gets SIGTERM, then SIGKILL
  /// after this long.
  std::chrono::milliseconds exec_kill_grace = std::chrono::seconds(2);
};

/// Everything loopvisord is configured by. Defaults here are the documented defaults: the
/// shipped config/loopvisor.toml sets exactly these values (a test checks it).
struct DaemonConfig {
  RuntimeConfig runtime;
  /// On SIGTERM: how long running work may finish before it is cancelled.
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds(8);  // inside docker stop's 10 s
  /// After SIGTERM, /readyz answers 503 this long before the runtime starts draining, so load
  /// balancers stop sending work first.
  std::chrono::milliseconds shutdown_readiness_delay = std::chrono::milliseconds(0);
  AdminConfig admin;
  MetricsConfig metrics;
  JobsConfig jobs;
  /// spdlog level name: trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  /// "text" (a timestamp with its zone, the level, the message) or "json" (one object per line).
  std::string log_format = "text";
};

}  // namespace loopvisor::config
