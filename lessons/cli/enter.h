// `nslab enter [BOX] [-c 'commands' | -- PROGRAM ARGS]`: a second shell (or a program) inside a
// running box, in all of its namespaces, its root and its cgroups (sandbox/enter.h). BOX is an
// id or a PID from `nslab ps`; without it, the only running box. nslab's exit status is the
// shell's.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace nslab::cli {

struct EnterOptions {
  std::optional<std::string> box;       // not given: the only running box
  std::optional<std::string> commands;  // -c
  std::vector<std::string> program;     // after --
};

CLI::App* setup_enter(CLI::App& app, EnterOptions& options);
int run_enter(const EnterOptions& options);

// The usage error in the options (an empty BOX, -c '' or program name, -c with a program), or
// nothing. run_enter prints it and exits with 2.
std::optional<std::string> enter_usage_error(const EnterOptions& options);

// CLI11 fills positionals in order, so after `--` a PROGRAM would land in BOX when BOX is left
// out. `nslab enter` therefore takes what follows the first `--` itself: it returns how many of
// argv's entries CLI11 should parse and puts the rest in options.program. Other subcommands are
// left alone (the whole argc).
int split_enter_program(int argc, char** argv, EnterOptions& options);

}  // namespace nslab::cli
