// Naming and CPU pinning of loop threads.
#include "loop_thread.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstring>

#include <fmt/format.h>

#include "loopvisor/errors.hpp"

namespace loopvisor::detail {

void name_this_thread(const std::string& name) noexcept {
  const std::string truncated = name.substr(0, 15);
  pthread_setname_np(pthread_self(), truncated.c_str());
}

void pin_thread(boost::thread& thread, int cpu, const std::string& loop_name) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) {
    throw Error(
        fmt::format("cpu_affinity: CPU {} for {} is out of range 0..{}", cpu, loop_name, CPU_SETSIZE - 1));
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const int rc = pthread_setaffinity_np(thread.native_handle(), sizeof(set), &set);
  if (rc != 0) {
    throw Error(fmt::format("cpu_affinity: cannot pin {} to CPU {}: {}", loop_name, cpu, std::strerror(rc)));
  }
}

}  // namespace loopvisor::detail
