// The default exception handler and the one-line rendering of an ExceptionContext.
#include "loopvisor/exception_context.hpp"

#include "log.hpp"

namespace loopvisor {

std::string describe(const ExceptionContext& context) {
  std::string out =
      context.loop_name.empty() ? "loop-" + std::to_string(context.loop_index) : context.loop_name;
  out += ": ";
  out += context.message;
  if (context.task_id != 0) {
    out += " (task '" + context.task_name + "' #" + std::to_string(context.task_id);
    if (!context.task_origin.empty()) out += ", created at " + context.task_origin;
    out += ")";
  }
  if (context.exception) {
    try {
      std::rethrow_exception(context.exception);
    } catch (const std::exception& e) {
      out += ": ";
      out += e.what();
    } catch (...) {
      out += ": unknown exception type";
    }
  }
  return out;
}

void log_exception(const ExceptionContext& context) { detail::log(LogLevel::error, "{}", describe(context)); }

}  // namespace loopvisor
