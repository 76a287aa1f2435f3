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

int run_enter(const EnterOptions& options) {
  if (!options.commands.empty() && !options.program.empty()) {
    fmt::print(stderr, "nslab: enter: -c and -- PROGRAM both say what to run; give one of them\n");
    return 2;
  }
  auto rows = running_box_rows();
  std::vector<sandbox::BoxInfo> boxes;
  for (const auto& row : rows) boxes.push_back(row.box);
  auto which = options.box.empty() ? std::nullopt : std::optional<std::string>(options.box);
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
  if (!options.commands.empty()) {
    request.command.kind = sandbox::CommandKind::ShellCommands;
    request.command.shell_commands = options.commands;
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
