#pragma once
// The completion token of the stream, pipe and TLS coroutines: the error code comes back as a
// value beside the result instead of as an exception, so each call site decides what it means.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace loopvisor::detail {

inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace loopvisor::detail
