// ProcessCollector: the standard process_* metrics, read from /proc at scrape time.
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "loopvisor/metrics.hpp"

namespace loopvisor {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily one(const char* name, const char* help, MetricType type, double value) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  ClientMetric m;
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
}

// Fields of /proc/self/stat after the command name (which may hold spaces and parentheses).
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  std::istringstream rest(close == std::string::npos ? std::string() : line.substr(close + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;  // fields[0] is "state" (field 3 of proc(5))
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

double open_fds() {
  double n = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    n -= 1;  // the descriptor opendir itself holds
  }
  return n;
}

}  // namespace

std::vector<MetricFamily> ProcessCollector::Collect() const {
  const auto f = stat_fields();
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  auto field = [&](std::size_t proc_index) {  // proc(5) numbering, 1-based
    const std::size_t i = proc_index - 3;
    return i < f.size() ? std::stod(f[i]) : 0.0;
  };
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  std::vector<MetricFamily> out;
  out.push_back(one("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                    MetricType::Counter, (field(14) + field(15)) / ticks));
  out.push_back(
      one("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge, field(23)));
  out.push_back(one("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                    field(24) * page));
  out.push_back(one("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                    MetricType::Gauge, boot_time_seconds() + field(22) / ticks));
  out.push_back(one("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, open_fds()));
  out.push_back(one("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
                    static_cast<double>(limit.rlim_cur)));
  out.push_back(one("process_threads", "Number of OS threads in the process.", MetricType::Gauge, field(20)));
  return out;
}

}  // namespace loopvisor
