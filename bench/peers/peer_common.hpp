// What the C++ peers of bench/compare.py share: the command line, pinning, percentiles,
// resident memory, and the one output line per measurement. Never used by a test.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace peer {

using Clock = std::chrono::steady_clock;

/// `PROGRAM IMPL WORKLOAD PINNING`: PINNING is `none`, `cross` (the submitting side on the first
/// allowed CPU, the loop on the second) or `cpu0` (the driver runs the process under taskset).
struct Args {
  std::string impl;
  std::string workload;
  bool cross = false;
};

inline Args parse(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s IMPL W1|W2|W3|W4|W5|W6 none|cross|cpu0\n", argv[0]);
    std::exit(2);
  }
  return {argv[1], argv[2], std::string_view(argv[3]) == "cross"};
}

/// The CPUs this process may run on, in order (taskset narrows them).
inline std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

/// Pins the calling thread to the `index`-th allowed CPU when `cross` is on (no-op otherwise).
inline void pin_self(bool cross, std::size_t index) {
  if (!cross) return;
  const auto cpus = allowed_cpus();
  if (cpus.size() < 2) {
    std::fprintf(stderr, "cross pinning needs two CPUs; %zu allowed\n", cpus.size());
    std::exit(2);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus[index % cpus.size()], &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

/// p50, p99 and p99.9 of round-trip samples, in µs.
inline void print_latency(const char* workload, const std::string& impl, std::vector<double> us,
                          const char* key = "p50_us") {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[std::min(us.size() - 1, static_cast<std::size_t>(q * us.size()))]; };
  std::printf("%s %s %s=%.2f p99_us=%.2f p999_us=%.2f\n", workload, impl.c_str(), key, at(0.5), at(0.99),
              at(0.999));
}

inline void print_rate(const char* workload, const std::string& impl, const char* key, double rate) {
  std::printf("%s %s %s=%.0f\n", workload, impl.c_str(), key, rate);
}

/// Resident set size of this process in bytes (VmRSS).
inline long resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long kib = 0;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> kib;
      return kib * 1024;
    }
    status.ignore(1 << 12, '\n');
  }
  return 0;
}

/// W1/W2: `producers` threads (pinned to the first CPU under cross pinning) each submit their
/// share of `w1_items` counting callbacks through `submit(callback)`; prints callbacks per second
/// until every callback has run.
template <class Submit>
void produce_and_drain(const Args& a, int producers, Submit submit);

// Sizes of each workload, the same for every implementation.
inline constexpr long w1_items = 4'000'000;  // per producer in W2
inline constexpr int w3_round_trips = 20'000;
inline constexpr int w4_tasks = 100'000;
inline constexpr int w5_tasks = 100'000;
inline constexpr auto w5_sleep = std::chrono::seconds(2);
inline constexpr int w6_round_trips = 20'000;

template <class Submit>
void produce_and_drain(const Args& a, int producers, Submit submit) {
  const long per_producer = w1_items / producers;
  std::atomic<long> ran{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&] {
      pin_self(a.cross, 0);
      for (long i = 0; i < per_producer; ++i) submit([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
    });
  }
  for (auto& t : threads) t.join();
  const long total = per_producer * producers;
  while (ran.load(std::memory_order_acquire) < total) std::this_thread::yield();
  print_rate(a.workload.c_str(), a.impl, "callbacks_per_s", total / seconds_since(start));
}

}  // namespace peer
