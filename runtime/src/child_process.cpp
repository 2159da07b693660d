// ChildProcess: fork/exec with a process group, pipes, limits and close-on-exec for everything else.
#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "loopvisor/errors.hpp"

extern char** environ;

namespace loopvisor::detail {

namespace {

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

constexpr struct SocketPair {
} socket_pair;

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      throw Error(fmt::format("create_subprocess_exec: cannot create a pipe: {}", std::strerror(errno)));
    }
    read = fds[0];
    write = fds[1];
  }
  /// A one-way stream socket pair: `read` for the child, `write` for us.
  explicit Pipe(SocketPair) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      throw Error(
          fmt::format("create_subprocess_exec: cannot create a socket pair: {}", std::strerror(errno)));
    }
    ::shutdown(fds[0], SHUT_WR);
    ::shutdown(fds[1], SHUT_RD);
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_fd(read);
    close_fd(write);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
};

/// What the child reports through the error pipe when it cannot exec: the step and errno.
struct ChildFailure {
  int step = 0;
  int error = 0;
};

constexpr const char* step_names[] = {"exec", "set up its descriptors", "change to the working directory",
                                      "set a resource limit", "start a process group"};
enum Step : int { step_exec, step_descriptors, step_chdir, step_rlimit, step_pgid };

/// In the child, between fork and exec: async-signal-safe calls only (no allocation, no
/// locks: another thread of the parent may have held one at the fork).
[[noreturn]] void become_child(pid_t parent, int in, int out, int err, int report, const char* program,
                               char* const* argv, char* const* envp, const char* cwd,
                               const ResourceLimits& limits) noexcept {
  const auto fail = [report](int step) {
    const ChildFailure failure{step, errno};
    ssize_t ignored = ::write(report, &failure, sizeof failure);
    (void)ignored;
    ::_exit(127);
  };
  // A signal mask and ignored signals survive exec: give the program the defaults.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);
  }
  if (::setpgid(0, 0) != 0) fail(step_pgid);
  // The child dies with the thread that started it (a loop thread lives as long as its loop),
  // also when this process is SIGKILLed and cannot stop the group itself. If that thread is
  // already gone, the parent changed before the prctl: leave at once.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
  // Move the pipe ends above 2 first, so dup2 below cannot overwrite one with another.
  const int fds[3] = {::fcntl(in, F_DUPFD, 3), ::fcntl(out, F_DUPFD, 3), ::fcntl(err, F_DUPFD, 3)};
  for (int target = 0; target < 3; ++target) {
    if (fds[target] < 0 || ::dup2(fds[target], target) < 0) fail(step_descriptors);
  }
  if (cwd != nullptr && ::chdir(cwd) != 0) fail(step_chdir);
  const auto limit = [&](int resource, const std::optional<std::uint64_t>& value) {
    if (!value) return;
    const rlimit r{static_cast<rlim_t>(*value), static_cast<rlim_t>(*value)};
    if (::setrlimit(resource, &r) != 0) fail(step_rlimit);
  };
  limit(RLIMIT_CPU, limits.cpu_seconds);
  limit(RLIMIT_AS, limits.address_space_bytes);
  limit(RLIMIT_NOFILE, limits.open_files);
  limit(RLIMIT_NPROC, limits.processes);
  // Everything above 2 closes at exec: listening sockets, clients, other children's pipes,
  // whoever opened them. (`report` too, which is how the parent learns exec succeeded.)
#ifdef SYS_close_range
  constexpr unsigned cloexec = 1U << 2;  // CLOSE_RANGE_CLOEXEC (Linux 5.11)
  if (::syscall(SYS_close_range, 3U, ~0U, cloexec) != 0)
#endif
  {
    rlimit r{};
    const long top = ::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY
                         ? static_cast<long>(r.rlim_cur)
                         : 65536L;
    for (long fd = 3; fd < top; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  }
  ::execve(program, argv, envp);
  fail(step_exec);
  ::_exit(127);  // not reached
}

}  // namespace

ChildProcess ChildProcess::spawn(const SpawnRequest& request) {
  // Everything the child reads is built here, before fork.
  std::vector<char*> argv;
  for (const auto& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (request.env) {
    for (const auto& e : *request.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  char* const* env = request.env ? envp.data() : environ;
  const char* cwd = request.cwd.empty() ? nullptr : request.cwd.c_str();

  // stdin is a socket pair, not a pipe: writes to it use MSG_NOSIGNAL, so a child that exits
  // without reading gives EPIPE, never a SIGPIPE that would kill an embedding process.
  Pipe in(socket_pair), out, err, report;
  ChildProcess child;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw Error(fmt::format("create_subprocess_exec: cannot start '{}': fork failed: {}", request.program,
                            std::strerror(errno)));
  }
  if (pid == 0) {
    become_child(parent, in.read, out.write, err.write, report.write, request.program.c_str(), argv.data(),
                 env, cwd, request.limits);
  }
  child.pid_ = pid;
  child.reaped_ = false;
  // Also set from here: the group must exist before anyone signals it, whichever runs first.
  ::setpgid(pid, pid);
  close_fd(report.write);
  close_fd(in.read);
  close_fd(out.write);
  close_fd(err.write);
  ChildFailure failure;
  ssize_t n;
  do {
    n = ::read(report.read, &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    child.reap();
    const char* step = failure.step >= 0 && failure.step < 5 ? step_names[failure.step] : "start";
    std::string detail = std::strerror(failure.error);
    if (failure.step == step_chdir) detail = fmt::format("'{}': {}", request.cwd, detail);
    throw Error(fmt::format("create_subprocess_exec: cannot start '{}': could not {}: {}", request.program,
                            step, detail));
  }
#ifdef SYS_pidfd_open
  child.pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // close-on-exec by the kernel
#endif
  child.stdin_ = std::exchange(in.write, -1);
  child.stdout_ = std::exchange(out.read, -1);
  child.stderr_ = std::exchange(err.read, -1);
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      reaped_(std::exchange(other.reaped_, true)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      stdin_(std::exchange(other.stdin_, -1)),
      stdout_(std::exchange(other.stdout_, -1)),
      stderr_(std::exchange(other.stderr_, -1)) {}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    signal_group(SIGKILL);
    reap();
  }
  close_fd(pidfd_);
  close_fd(stdin_);
  close_fd(stdout_);
  close_fd(stderr_);
}

bool ChildProcess::exited() const noexcept {
  if (reaped_) return true;
  siginfo_t info{};
  // WNOWAIT: look without reaping, so the group id stays ours.
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return true;
  return info.si_pid == pid_;
}

void ChildProcess::signal_group(int signal) noexcept {
  if (!reaped_) ::kill(-pid_, signal);
}

int ChildProcess::reap() noexcept {
  if (reaped_) return -1;
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &status, 0);
  } while (got < 0 && errno == EINTR);
  reaped_ = true;
  if (got != pid_) return -1;  // reaped by someone else (a SIGCHLD handler set to SIG_IGN)
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

std::string find_in_path(const std::string& program, std::string_view path) {
  if (program.find('/') != std::string::npos) return program;
  while (true) {
    const auto colon = path.find(':');
    const std::string_view part = path.substr(0, colon);
    const std::string dir = part.empty() ? std::string(".") : std::string(part);
    std::string candidate = dir + "/" + program;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return {};
}

std::string search_path(const std::string& program, const std::optional<std::vector<std::string>>& env,
                        const char* who) {
  std::string_view path;
  if (env) {
    for (const auto& entry : *env) {
      if (entry.starts_with("PATH=")) path = std::string_view(entry).substr(5);
    }
  } else if (const char* p = std::getenv("PATH")) {
    path = p;
  }
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  auto found = detail::find_in_path(program, path);
  if (found.empty()) throw Error(fmt::format("{}: '{}' was not found in PATH", who, program));
  return found;
}

}  // namespace loopvisor::detail
