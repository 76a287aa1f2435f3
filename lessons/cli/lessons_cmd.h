// `nslab lessons`: the lessons in order, what each turns on, and whether it can run here (for
// now: does it need root, and is this root).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace nslab::cli {

struct LessonsOptions {
  std::string dir;  // empty: the default lessons folder
};

CLI::App* setup_lessons(CLI::App& app, LessonsOptions& options);
int run_lessons(const LessonsOptions& options);

}  // namespace nslab::cli
