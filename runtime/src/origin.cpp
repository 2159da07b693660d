// origin_text and report_callback_exception (detail/origin.hpp).
#include "loopvisor/detail/origin.hpp"

#include <exception>

#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/exception_context.hpp"

namespace loopvisor::detail {

std::string origin_text(const loopvisor::source_location& where) {
  std::string file = where.file_name();
  if (auto slash = file.rfind('/'); slash != std::string::npos) file.erase(0, slash + 1);
  return file + ":" + std::to_string(where.line());
}

void report_callback_exception(const loopvisor::source_location& where) noexcept {
  try {
    ExceptionContext context;
    context.message = "callback from " + origin_text(where) + " raised an exception";
    context.exception = std::current_exception();
    if (auto* loop = LoopShared::current()) {
      loop->report(std::move(context));
    } else {
      log_exception(context);
    }
  } catch (...) {
    // Out of memory while building the report: nothing better to do.
  }
}

}  // namespace loopvisor::detail
