#include "app.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

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

}  // namespace

int nslab_main(int argc, char** argv) {
  CLI::App app{
      "nslab shows what a container really is: a tiny shell runs as PID 1 in a box, and each "
      "flag turns on one kernel isolation feature.",
      "nslab"};
  // `nslab` alone is the landing: the lessons and how to start.
  app.require_subcommand(0, 1);
  RunOptions run;
  ExplainOptions explain;
  CLI::App* run_cmd = setup_run(app, run);
  CLI::App* explain_cmd = setup_explain(app, explain);
  PsOptions ps;
  EnterOptions enter;
  CLI::App* ps_cmd = setup_ps(app, ps);
  CLI::App* enter_cmd = setup_enter(app, enter);
  DoctorOptions doctor;
  CLI::App* doctor_cmd = setup_doctor(app, doctor);
  CheckOptions check;
  LessonsOptions lessons;
  CLI::App* check_cmd = setup_check(app, check);
  CLI::App* lessons_cmd = setup_lessons(app, lessons);
  LessonOptions lesson;
  CLI::App* lesson_cmd = setup_lesson(app, lesson);
  RootfsOptions rootfs;
  CLI::App* rootfs_cmd = setup_rootfs(app, rootfs);
  app.set_version_flag("--version", std::string("nslab ") + NSLAB_VERSION);
  std::string help_topic;
  CLI::App* help_cmd = app.add_subcommand("help", "what each command does: nslab help COMMAND");
  help_cmd->add_option("command", help_topic, "a command: run, lesson, doctor, ...");
  try {
    app.parse(split_enter_program(argc, argv, enter), argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", explain_parse_error(e.what(), context_of(app)));
    return 2;
  }
  if (help_cmd->parsed()) {
    if (help_topic.empty()) {
      fmt::print("{}", app.help());
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
  if (run_cmd->parsed()) return run_run(run);
  if (explain_cmd->parsed()) return run_explain(explain);
  if (ps_cmd->parsed()) return run_ps(ps);
  if (enter_cmd->parsed()) return run_enter(enter);
  if (doctor_cmd->parsed()) return run_doctor(doctor);
  if (check_cmd->parsed()) return run_check(check);
  if (lessons_cmd->parsed()) return run_lessons(lessons);
  if (lesson_cmd->parsed()) return run_lesson_command(lesson);
  if (rootfs_cmd->parsed()) return run_rootfs(rootfs);
  return run_landing();
}

}  // namespace nslab::cli
