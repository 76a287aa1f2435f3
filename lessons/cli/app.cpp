#include "app.h"

#include <CLI/CLI.hpp>

#include "check.h"
#include "doctor.h"
#include "enter.h"
#include "explain.h"
#include "lesson_cmd.h"
#include "lessons_cmd.h"
#include "ps.h"
#include "run.h"

namespace nslab::cli {

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
  try {
    app.parse(split_enter_program(argc, argv, enter), argv);
  } catch (const CLI::ParseError& e) {
    int status = app.exit(e);
    return status == 0 ? 0 : 2;
  }
  if (run_cmd->parsed()) return run_run(run);
  if (explain_cmd->parsed()) return run_explain(explain);
  if (ps_cmd->parsed()) return run_ps(ps);
  if (enter_cmd->parsed()) return run_enter(enter);
  if (doctor_cmd->parsed()) return run_doctor(doctor);
  if (check_cmd->parsed()) return run_check(check);
  if (lessons_cmd->parsed()) return run_lessons(lessons);
  if (lesson_cmd->parsed()) return run_lesson_command(lesson);
  return run_landing();
}

}  // namespace nslab::cli
