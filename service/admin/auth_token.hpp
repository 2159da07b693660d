// AuthToken: the admin server's bearer token, replaceable while it serves (a configuration reload).
#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace loopvisor::service {

/// Readers take a snapshot, so a request is judged by one token from start to end even if a
/// reload replaces it meanwhile. Empty: no token is required.
///
/// Thread safety: any thread.
class AuthToken {
 public:
  explicit AuthToken(std::string token = {})
      : token_(std::make_shared<const std::string>(std::move(token))) {}

  std::shared_ptr<const std::string> get() const {
    std::lock_guard lock(mu_);
    return token_;
  }
  void set(std::string token) {
    auto next = std::make_shared<const std::string>(std::move(token));
    std::lock_guard lock(mu_);
    token_.swap(next);  // the old token is freed outside the lock, as `next` leaves scope
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const std::string> token_;  // never null
};

}  // namespace loopvisor::service
