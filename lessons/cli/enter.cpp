#include "enter.h"

#include <string.h>

#include <string_view>

#include <fmt/format.h>

#include "box_flags.h"
#include "boxes.h"
#include "launch.h"
#include "ps.h"
// libsandbox's enter.h shares this file's name; the path says which.
#include "../../sandbox/enter.h"

namespace nslab::cli {

int split_enter_program(int argc, char** argv, EnterOptions& options) {
  if (argc < 2 || std::string_view(argv[1]) != "enter") return argc;
  for (int i = 2; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      options.program.assign(argv + i + 1, argv + argc);
      return i;
    }
  }
  return argc;
}

CLI::App* setup_enter(CLI::App& app, EnterOptions& options) {
  CLI::App* enter = app.add_subcommand("enter", "a second shell in a running box, as nsenter -a");
  enter->add_option("box", options.box, "an id or PID from nslab ps (default: the only box)")
      ->type_name("BOX");
  enter->add_option("-c", options.commands, "run these tinysh commands in the box, then exit")
      ->type_name("'COMMANDS'");
  enter->footer(
      "After --: PROGRAM ARGS, looked up inside the box, instead of tinysh.\n"
      "  nslab enter                       tinysh in the only running box\n"
      "  nslab enter box-4242 -c 'ps'      commands in box-4242\n"
      "  nslab enter 4243 -- /bin/sh       a program in the box whose PID is 4243\n"
      "The new shell joins the box's namespaces with setns(2), user first, then forks\n"
      "to get a PID inside; it joins the box's cgroups and takes its root. nslab exits\n"
      "with the shell's status.");
  return enter;
}

std::optional<std::string> enter_usage_error(const EnterOptions& options) {
  // An empty value is refused, never read as "not given": `nslab enter "$BOX"` with BOX unset
  // would otherwise enter whichever box happens to be the only one.
  if (options.box && options.box->empty())
    return empty_value("BOX", "give an id or PID from nslab ps, or leave BOX out for the only box")
        .message();
  if (options.commands && options.commands->empty())
    return empty_value("-c", "give the commands to run, or leave out -c for an interactive tinysh")
        .message();
  if (!options.program.empty() && options.program.front().empty())
    return empty_value("-- PROGRAM", "name the program to run after --").message();
  if (options.commands && !options.program.empty())
    return "-c and -- PROGRAM both say what to run; give one of them";
  return std::nullopt;
}

int run_enter(const EnterOptions& options) {
  if (auto usage = enter_usage_error(options)) {
    fmt::print(stderr, "nslab: enter: {}\n", *usage);
    return 2;
  }
  auto rows = running_box_rows();
  std::vector<sandbox::BoxInfo> boxes;
  for (const auto& row : rows) boxes.push_back(row.box);
  const auto& which = options.box;
  auto chosen = sandbox::choose_box(boxes, which);
  if (!chosen) {
    fmt::print(stderr, "nslab: enter: {}\n", chosen.error().message());
    if (boxes.size() > 1 || (which && !boxes.empty()))
      fmt::print(stderr, "\n{}", format_box_table(rows));
    return 2;
  }

  sandbox::EnterRequest request;
  request.box_pid = chosen->pid;
  request.runner_pid = chosen->runner;
  request.box_start_ticks = chosen->start_ticks;
  request.tinysh_path = find_tinysh();
  if (options.commands) {
    request.command.kind = sandbox::CommandKind::ShellCommands;
    request.command.shell_commands = *options.commands;
  } else if (!options.program.empty()) {
    request.command.kind = sandbox::CommandKind::Program;
    request.command.argv = options.program;
  }
  auto exit = sandbox::enter_box(request);
  if (!exit) {
    fmt::print(stderr, "nslab: enter {}: {}\n", chosen->id, exit.error().message());
    return sandbox::launch_failure_status(exit.error());
  }
  if (exit->signal) {
    const char* name = sigabbrev_np(exit->signal);
    fmt::print(stderr, "nslab: the entered process was killed by SIG{}\n",
               name ? name : std::to_string(exit->signal).c_str());
  }
  return exit->status();
}

}  // namespace nslab::cli
