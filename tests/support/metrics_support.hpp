// Metrics text helpers for tests: find lines, and ask promtool.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace loopvisor::test {

/// True when `line` is a whole line of `text`.
inline bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

/// promtool's findings on `text` ("" when it approves), or its failure.
inline std::string promtool_findings(const std::string& text) {
  // One file per test: ctest runs the tests of this binary in parallel processes.
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string path = ::testing::TempDir() + "/loopvisor_metrics_" + test->name() + ".txt";
  std::ofstream(path) << text;
  const std::string command = "promtool check metrics < " + path + " > " + path + ".out 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream report(path + ".out");
  std::string complaints((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  if (rc != 0) complaints += "\n(promtool exit status " + std::to_string(rc) + ")";
  return complaints;
}

/// The line of `text` that starts with `prefix`, or "".
inline std::string line_starting(const std::string& text, const std::string& prefix) {
  const auto at = text.find("\n" + prefix);
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

}  // namespace loopvisor::test
