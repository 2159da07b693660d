// report_misuse: API misuse found where throwing is not allowed goes to the exception handler.
#include "loopvisor/detail/misuse.hpp"

#include "log.hpp"

#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/exception_context.hpp"

namespace loopvisor::detail {

void report_misuse(const std::string& message) noexcept {
  try {
    if (LoopShared* loop = LoopShared::current()) {
      ExceptionContext context;
      context.message = message;
      loop->report(std::move(context));
      return;
    }
    detail::log(LogLevel::error, "{}", message);
  } catch (...) {
    // Out of memory while reporting: nothing better to do.
  }
}

}  // namespace loopvisor::detail
