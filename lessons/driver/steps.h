// The step runner: walks a lesson's steps in order, starts and ends its boxes, types the box
// blocks, runs the host blocks, judges the expect blocks. Every mode shares it; what differs
// (printing a report, pausing for a teacher, pacing keys for a recording, handing the student
// the live shell for the challenge) lives in a StepObserver.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "box_pty.h"
#include "lesson.h"
#include "observe.h"

namespace nslab::lessons {

struct DriverConfig {
  std::string nslab;   // the nslab binary that starts boxes (`nslab run FLAGS`)
  std::string tinysh;  // the same tinysh the box runs, for host blocks as $TINYSH
  std::chrono::milliseconds command_timeout = 10s;
  // Check mode proves each challenge's check: it must fail before the solution is typed.
  bool prove_challenge_check = true;
  // The width of each box's terminal: a lesson on a screen gives its own, so what tinysh cuts
  // to the terminal (ps) fits the side-by-side columns.
  int box_columns = 120;
};

// One miss (or a problem that stopped a step), with where it is in the lesson file.
struct Miss {
  std::string step;  // the step's title
  int line = 0;      // of the expectation, or of the block that failed
  std::string what;  // the expectation as written, or what went wrong
  std::string expected;
  std::string seen;
};

struct LessonOutcome {
  int checks_passed = 0;
  std::vector<Miss> misses;
  bool passed() const { return misses.empty() && checks_passed > 0; }
};

class StepObserver {
 public:
  virtual ~StepObserver() = default;
  virtual void step_started(const LessonStep&) {}
  virtual void box_started(const Block&, const BoxSession&) {}
  virtual void typed(const std::string& /*command*/, const Typed&) {}
  virtual void host_ran(const Block&, const HostRun&) {}
  virtual void judged(const LessonStep&, const Expectation&, const Judgement&) {}
  // The challenge: check mode types the solution; guided mode gives the student the shell.
  // Returns false when the challenge could not be attempted (the shell was left, ...).
  virtual bool attempt_challenge(const LessonStep& challenge, const Block& solution, BoxSession& box,
                                 const DriverConfig& config) = 0;
  // An observer that ran the challenge's check itself during attempt_challenge() (guided mode,
  // where the student may try again) gives its result here, and run_lesson() does not run the
  // check a second time: a check may use up what it looks at (a server that answers once, a
  // directory it removes). nullopt: run_lesson() runs the check.
  struct ChallengeChecked {
    int checks_passed = 0;
    std::vector<Miss> misses;
  };
  virtual std::optional<ChallengeChecked> challenge_checked() { return std::nullopt; }
};

// The environment of a host block: BOX_PID, RUNNER_PID, TINYSH, NSLAB, and with --veth
// BOX_ADDR, HOST_ADDR and HOST_VETH, with --bridge BRIDGE too (lessons/README.md).
std::vector<std::string> host_env(const BoxSession* box, const DriverConfig& config);

// Runs the whole lesson; every miss is collected, and a step whose box cannot be started or
// whose shell stops answering ends the lesson there.
LessonOutcome run_lesson(const Lesson& lesson, const DriverConfig& config, StepObserver& observer);

// Types `solution` line by line (check mode's stand-in for a student).
bool type_solution(const Block& solution, BoxSession& box, const DriverConfig& config,
                   StepObserver& observer);

}  // namespace nslab::lessons
