// ExceptionContext rendering and the handler's protection against throwing handlers.
#include "loopvisor/exception_context.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "loopvisor/detail/loop_shared.hpp"

namespace loopvisor {
namespace {

TEST(ExceptionContext, DescribeNamesLoopTaskMessageAndWhat) {
  ExceptionContext c;
  c.loop_name = "lv-loop-2";
  c.message = "Task exception was never retrieved";
  c.task_id = 7;
  c.task_name = "fetch";
  c.exception = std::make_exception_ptr(std::runtime_error("timeout"));
  EXPECT_EQ(describe(c), "lv-loop-2: Task exception was never retrieved (task 'fetch' #7): timeout");
}

TEST(ExceptionContext, ReportCountsAndSurvivesAThrowingHandler) {
  detail::LoopShared shared(3, "loop-3");
  int calls = 0;
  shared.set_exception_handler([&](const ExceptionContext& c) {
    ++calls;
    EXPECT_EQ(c.loop_index, 3u);
    throw std::runtime_error("handler bug");
  });
  ExceptionContext context;
  context.message = "callback raised an exception";
  shared.report(context);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(shared.unhandled_exceptions(), 1u);
}

}  // namespace
}  // namespace loopvisor
