// SystemdNotify: one datagram per notification to the manager's socket.
#include "systemd_notify.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace loopvisor::service {

SystemdNotify::SystemdNotify() {
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  if (socket_path == nullptr || socket_path[0] == '\0') return;
  std::string address = socket_path;
  if (address[0] == '@') address[0] = '\0';  // abstract namespace
  if (address[0] != '/' && address[0] != '\0') {
    spdlog::warn("NOTIFY_SOCKET={} is neither a path nor @abstract; not notifying systemd", socket_path);
    return;
  }
  if (address.size() >= sizeof(sockaddr_un{}.sun_path)) {
    spdlog::warn("NOTIFY_SOCKET is too long for a unix socket address; not notifying systemd");
    return;
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    spdlog::warn("cannot create the systemd notification socket: {}", std::strerror(errno));
    return;
  }
  address_ = std::move(address);

  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  if (usec != nullptr && (pid == nullptr || std::strtol(pid, nullptr, 10) == ::getpid())) {
    const long long value = std::strtoll(usec, nullptr, 10);
    if (value > 0) watchdog_interval_ = std::chrono::microseconds(value / 2);
  }
}

SystemdNotify::~SystemdNotify() {
  if (fd_ >= 0) ::close(fd_);
}

bool SystemdNotify::notify(std::string_view state) const noexcept {
  if (fd_ < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, address_.data(), address_.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  const auto sent = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&addr), length);
  return sent == static_cast<ssize_t>(state.size());
}

}  // namespace loopvisor::service
