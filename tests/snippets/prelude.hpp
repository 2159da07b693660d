// The user-side names the README's and docs' snippets take for granted.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "loopvisor/loopvisor.hpp"

namespace snippet {
using namespace loopvisor;
struct User {
  int id = 0;
};
struct Database {};
inline boost::asio::awaitable<User> fetch_user(Database, int id) { co_return User{id}; }
}  // namespace snippet

/// Locals at the top of each snippet's body: what a real program has in scope there.
#define LOOPVISOR_SNIPPET_LOCALS [[maybe_unused]] Database db;
