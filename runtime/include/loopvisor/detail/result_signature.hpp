// result_signature<T>: the Asio completion signature of an operation that yields a T or an error.
#pragma once

#include <exception>

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

}  // namespace loopvisor::detail
