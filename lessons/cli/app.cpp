#include "app.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <optional>
#include <string_view>

#include "check.h"
#include "cli_errors.h"
#include "doctor.h"
#include "enter.h"
#include "explain.h"
#include "lesson_cmd.h"
#include "lessons_cmd.h"
#include "ps.h"
#include "rootfs_cmd.h"
#include "run.h"

namespace nslab::cli {

namespace {

// The subcommand being parsed when the error came, its flags, and every subcommand's name.
ParseContext context_of(CLI::App& app) {
  ParseContext context;
  context.command = "nslab";
  CLI::App* parsed = &app;
  for (CLI::App* sub : app.get_subcommands({})) {
    context.commands.push_back(sub->get_name());
    if (sub->parsed()) {
      parsed = sub;
      context.command = "nslab " + sub->get_name();
    }
  }
  for (const CLI::Option* opt : parsed->get_options({})) {
    for (const std::string& name : opt->get_lnames()) context.flags.push_back("--" + name);
    for (const std::string& name : opt->get_snames()) context.flags.push_back("-" + name);
  }
  return context;
}

// The subcommands whose options parse_and_run() can build alone (a subcommand missing here still
// works: it is built with all the others).
constexpr std::string_view kCommands[] = {"run",     "explain", "ps",     "enter", "doctor",
                                          "check",   "lessons", "lesson", "rootfs"};

// Builds the command line and runs the subcommand it names. With `only`, the options of that
// subcommand alone are built: a CLI::Option costs a few microseconds and a few hundred bytes of
// heap to make, and `nslab run` would otherwise build about 120 of them (run's, explain's, ...)
// to use 40. Returns nullopt when that narrow parse fails: the caller parses again with every
// subcommand, so the error names the closest command or flag as usual.
std::optional<int> parse_and_run(int argc, char** argv, std::string_view only) {
  CLI::App app{
      "nslab shows what a container really is: a tiny shell runs as PID 1 in a box, and each "
      "flag turns on one kernel isolation feature.",
      "nslab"};
  // `nslab` alone is the landing: the lessons and how to start.
  app.require_subcommand(0, 1);
  auto wanted = [&](std::string_view name) { return only.empty() || only == name; };
  RunOptions run;
  ExplainOptions explain;
  PsOptions ps;
  EnterOptions enter;
  DoctorOptions doctor;
  CheckOptions check;
  LessonsOptions lessons;
  LessonOptions lesson;
  RootfsOptions rootfs;
  CLI::App* run_cmd = wanted("run") ? setup_run(app, run) : nullptr;
  CLI::App* explain_cmd = wanted("explain") ? setup_explain(app, explain) : nullptr;
  CLI::App* ps_cmd = wanted("ps") ? setup_ps(app, ps) : nullptr;
  CLI::App* enter_cmd = wanted("enter") ? setup_enter(app, enter) : nullptr;
  CLI::App* doctor_cmd = wanted("doctor") ? setup_doctor(app, doctor) : nullptr;
  CLI::App* check_cmd = wanted("check") ? setup_check(app, check) : nullptr;
  CLI::App* lessons_cmd = wanted("lessons") ? setup_lessons(app, lessons) : nullptr;
  CLI::App* lesson_cmd = wanted("lesson") ? setup_lesson(app, lesson) : nullptr;
  CLI::App* rootfs_cmd = wanted("rootfs") ? setup_rootfs(app, rootfs) : nullptr;
  app.set_version_flag("--version", std::string("nslab ") + NSLAB_VERSION);
  std::string help_topic;
  CLI::App* help_cmd = app.add_subcommand("help", "what each command does: nslab help COMMAND");
  help_cmd->add_option("command", help_topic, "a command: run, lesson, doctor, ...");
  try {
    app.parse(split_enter_program(argc, argv, enter), argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    if (!only.empty()) return std::nullopt;
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", explain_parse_error(e.what(), context_of(app)));
    return 2;
  }
  if (help_cmd->parsed()) {
    if (help_topic.empty()) {
      // app.help() shows the help of the subcommand that was parsed: `help` itself.
      fmt::print("{}", app.get_formatter()->make_help(&app, app.get_name(),
                                                      CLI::AppFormatMode::Normal));
      return 0;
    }
    for (CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == help_topic && sub != help_cmd) {
        fmt::print("{}", sub->help());
        return 0;
      }
    ParseContext context = context_of(app);
    std::string guess = closest(help_topic, context.commands);
    fmt::print(stderr, "nslab help: there is no command '{}'{}. `nslab help` lists them.\n",
               help_topic, guess.empty() ? "" : fmt::format(" (did you mean {}?)", guess));
    return 2;
  }
  auto parsed = [](const CLI::App* cmd) { return cmd && cmd->parsed(); };
  if (parsed(run_cmd)) return run_run(run);
  if (parsed(explain_cmd)) return run_explain(explain);
  if (parsed(ps_cmd)) return run_ps(ps);
  if (parsed(enter_cmd)) return run_enter(enter);
  if (parsed(doctor_cmd)) return run_doctor(doctor);
  if (parsed(check_cmd)) return run_check(check);
  if (parsed(lessons_cmd)) return run_lessons(lessons);
  if (parsed(lesson_cmd)) return run_lesson_command(lesson);
  if (parsed(rootfs_cmd)) return run_rootfs(rootfs);
  return run_landing();
}

}  // namespace

int nslab_main(int argc, char** argv) {
  // `nslab COMMAND ...`: COMMAND's options alone; anything else (help, --version, a typo, a
  // parse error) with every subcommand.
  if (argc > 1)
    for (std::string_view command : kCommands)
      if (command == argv[1])
        if (auto status = parse_and_run(argc, argv, command)) return *status;
  return *parse_and_run(argc, argv, {});
}

}  // namespace nslab::cli
