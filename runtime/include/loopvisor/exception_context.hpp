// ExceptionContext and ExceptionHandler: what a loop reports when user code fails unseen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>

namespace loopvisor {

/// What went wrong, where (asyncio's exception-handler context dict, typed).
struct ExceptionContext {
  std::string message;           ///< what happened, e.g. "callback raised an exception"
  std::exception_ptr exception;  ///< the exception, if any
  std::size_t loop_index = 0;    ///< index of the loop it happened on
  std::string loop_name;         ///< name of that loop (its thread name)
  std::uint64_t task_id = 0;     ///< the task involved, 0 if none
  std::string task_name;         ///< its name, empty if none
  std::string task_origin;       ///< "file:line" where the task was created, empty if none
};

/// Called with each unhandled failure: a throwing callback, a task exception that was never
/// retrieved, a task destroyed while pending. Must not throw (a throw is logged and dropped).
using ExceptionHandler = std::function<void(const ExceptionContext&)>;

/// The default handler: logs the context at error level through the runtime's log sink (log.hpp).
void log_exception(const ExceptionContext& context);

/// Renders the context as one line: "loop-0: message (task 'name' #id): what()".
std::string describe(const ExceptionContext& context);

}  // namespace loopvisor
