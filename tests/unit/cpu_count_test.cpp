// process_cpu_count and loops = 0: the affinity mask and a cgroup v2 cpu.max quota bound the loops.
#include "cpu_count.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "loopvisor/cpu_count.hpp"
#include "loopvisor/supervisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

namespace fs = std::filesystem;

// A fake cgroup v2 tree under a fresh directory: `mount` plays /sys/fs/cgroup and `self`
// plays /proc/self/cgroup.
class FakeCgroup {
 public:
  FakeCgroup()
      : root_(fs::temp_directory_path() /
              ("lv-cgroup-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::remove_all(root_);
    fs::create_directories(mount());
  }
  ~FakeCgroup() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path mount() const { return root_ / "mnt"; }
  fs::path self() const { return root_ / "self-cgroup"; }
  void member_of(const std::string& text) const { write(self(), text); }
  void cpu_max(const std::string& dir, const std::string& text) const {
    fs::create_directories(mount() / dir);
    write(mount() / dir / "cpu.max", text);
  }
  std::optional<std::size_t> limit() const { return detail::cgroup_cpu_limit(mount(), self()); }

 private:
  static void write(const fs::path& p, const std::string& text) {
    std::ofstream out(p);
    out << text;
  }
  static inline int counter_ = 0;
  fs::path root_;
};

TEST(CpuCount, CgroupQuotaIsRoundedUpAndTheTightestOnThePathWins) {
  FakeCgroup cg;
  cg.member_of("0::/kubepods/pod1/ctr\n");
  cg.cpu_max("", "max 100000\n");  // the mount root itself (a cgroup namespace's root)
  cg.cpu_max("kubepods/pod1/ctr", "150000 100000\n");
  EXPECT_EQ(cg.limit(), 2u);  // 1.5 CPUs: two loops
  cg.cpu_max("kubepods/pod1", "100000 100000\n");
  EXPECT_EQ(cg.limit(), 1u);  // a parent's tighter quota binds the child
  cg.cpu_max("kubepods", "50000 100000\n");
  EXPECT_EQ(cg.limit(), 1u);  // half a CPU is still one loop
}

TEST(CpuCount, NoQuotaNoCgroupV2AndNonsenseFilesMeanNoLimit) {
  FakeCgroup cg;
  EXPECT_EQ(cg.limit(), std::nullopt);                                       // no /proc/self/cgroup at all
  cg.member_of("12:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n");  // cgroup v1 only
  EXPECT_EQ(cg.limit(), std::nullopt);
  cg.member_of("0::/app\n");
  EXPECT_EQ(cg.limit(), std::nullopt);  // no cpu.max files
  for (const char* nonsense : {"max 100000", "0 100000", "100000 0", "-5 100000", "abc def", "100000", "",
                               "100000 100000 7", "99999999999999999999999 1"}) {
    cg.cpu_max("app", nonsense);
    EXPECT_EQ(cg.limit(), std::nullopt) << "cpu.max = '" << nonsense << "'";
  }
  cg.member_of("0::/../../etc\n");  // never read outside the mount
  EXPECT_EQ(cg.limit(), std::nullopt);
}

TEST(CpuCount, TheRootCgroupAndAContainersNamespaceRootAreRead) {
  FakeCgroup cg;
  cg.member_of("0::/\n");  // inside a cgroup namespace: the container's own cgroup is the root
  cg.cpu_max("", "200000 100000\n");
  EXPECT_EQ(cg.limit(), 2u);
}

TEST(CpuCount, LoopsZeroFollowsTheAffinityMask) {
  const auto all = detail::affinity_cpu_count();
  ASSERT_TRUE(all.has_value());
  if (*all < 2) GTEST_SKIP() << "one CPU only: a narrower mask cannot be told apart";
  // The mask is per thread: narrow it on a thread of our own, as `taskset -c 0` would for a process.
  auto sizes = std::async(std::launch::async, [] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (::sched_setaffinity(0, sizeof(one), &one) != 0) return std::pair<std::size_t, std::size_t>{0, 0};
    SupervisorOptions options;  // loops = 0
    Supervisor supervisor(options);
    const std::size_t loops = supervisor.size();
    (void)supervisor.shutdown();
    return std::pair<std::size_t, std::size_t>{process_cpu_count(), loops};
  });
  ASSERT_EQ(sizes.wait_for(bound), std::future_status::ready);
  const auto [cpus, loops] = sizes.get();
  EXPECT_EQ(cpus, 1u);
  EXPECT_EQ(loops, 1u);
  EXPECT_GE(process_cpu_count(), 1u);
}

}  // namespace
}  // namespace loopvisor::test
