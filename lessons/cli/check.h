// `nslab check [N...]`: runs lessons without a person, as CI does. Every box is started over a
// pseudo-terminal, every command typed, every expectation verified; each challenge's check is
// proven to fail before its solution and to pass after. A miss prints the lesson, the step, the
// line, what was expected and what was seen. The last line is "N passed, N failed"; exit 1 on
// any failure.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace nslab::cli {

struct CheckOptions {
  std::vector<int> numbers;  // empty: every lesson
  std::string dir;           // empty: the default lessons folder
  int timeout_s = 10;        // per typed command
  bool verbose = false;      // also print every command and its output
};

CLI::App* setup_check(CLI::App& app, CheckOptions& options);
int run_check(const CheckOptions& options);

}  // namespace nslab::cli
