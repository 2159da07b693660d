// result_signature<T>: the Asio completion signature of an operation that yields a T or an error.
#pragma once

#include <exception>

#include <optional>
#include <type_traits>
#include <utility>
#include "loopvisor/detail/asio_await_fix.hpp"

namespace loopvisor::detail {

/// Completion signature of an operation that yields a T or an exception.
template <class T>
struct result_signature {
  using type = void(std::exception_ptr, T);
};
template <>
struct result_signature<void> {
  using type = void(std::exception_ptr);
};

/// Completes an Asio handler of signature result_signature<T>: with `error` if set, else with
/// the value `read()` returns (a throw from `read` completes the handler with that error).
template <class T, class Handler, class Read>
void complete_with_result(Handler& handler, std::exception_ptr error, Read&& read) {
  if constexpr (std::is_void_v<T>) {
    std::move(handler)(error);
  } else if (error) {
    std::move(handler)(error, T{});
  } else {
    std::optional<T> value;
    try {
      value.emplace(std::forward<Read>(read)());
    } catch (...) {
      std::move(handler)(std::current_exception(), T{});
      return;
    }
    std::move(handler)(nullptr, std::move(*value));
  }
}

}  // namespace loopvisor::detail
