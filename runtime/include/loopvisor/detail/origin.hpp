// Where a call into the runtime came from: "file:line" for diagnostics, and callbacks that
// name their submitter when they fail.
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "loopvisor/source_location.hpp"

namespace loopvisor::detail {

/// "file.cpp:42": the file's base name and the line.
std::string origin_text(const loopvisor::source_location& where);

/// Reports the exception being handled, thrown by a callback submitted at `where`, to the
/// current loop's exception handler ("callback from file.cpp:42 raised an exception").
void report_callback_exception(const loopvisor::source_location& where) noexcept;

/// `fn` wrapped so that an exception it throws is reported naming `where`, the line that
/// submitted it, rather than the runtime file that ran it.
template <class F>
auto reporting_origin(F&& fn, const loopvisor::source_location& where) {
  return [f = std::decay_t<F>(std::forward<F>(fn)), where]() mutable {
    try {
      f();
    } catch (...) {
      report_callback_exception(where);
    }
  };
}

}  // namespace loopvisor::detail
