// Guided and auto modes: a lesson on a screen, for a person.
//
// Guided mode is for a teacher at a projector or a student alone: the lesson's prose, then each
// box command with the prompt and its output as a terminal shows them, each host script and its
// output, and a ✓ or ✗ for each expectation; between steps it waits for a key, and `s` hands the
// student the box's own shell (its pseudo-terminal, key by key) until they come back. At the
// challenge the student gets the shell to do the task; the challenge's check then says whether
// it is done. Auto mode shows the same screen without waiting: commands are typed at a human
// pace and the solution stands in for the student (for demos and recordings, terminal_out.h).
//
// The observer ends a lesson early (q, Ctrl-C, a closed terminal) by throwing LessonStopped
// (keyboard.h) out of run_lesson(): the unwinding ends the box (BoxSession's destructor), and the
// command turns it into an exit status.
//
// Beside it: the keys and the stop signals (keyboard.h), the live shell and its way back
// (live_shell.h), how commands are shown (shown_commands.h); the challenge's part of the
// observer is in guided_challenge.cpp.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyboard.h"
#include "lesson.h"
#include "prose.h"
#include "steps.h"
#include "terminal_out.h"

namespace nslab::lessons {

enum class Mode { Guided, Auto };

struct ScreenSettings {
  Mode mode = Mode::Guided;
  int lesson_number = 0;
  std::optional<int> next_lesson;   // the number of the lesson after this one
  bool screen_is_terminal = false;  // stdout: may erase a line it wrote
  std::string nslab = "nslab";      // how the student calls nslab: its path when not on PATH
  std::string sudo;                 // "sudo " when this lesson's commands need it, else ""
  std::string next_sudo;            // the same for the next lesson
  bool probes = true;               // the standard probes' table when the first box starts
  // The previous lesson's flags, to mark what this lesson changed in that table.
  std::optional<std::vector<std::string>> previous_flags;
};

class LessonObserver : public StepObserver {
 public:
  // `keys` is needed in guided mode only.
  LessonObserver(const Lesson& lesson, ScreenSettings settings, const DriverConfig& config,
                 TerminalOut& out, Keyboard* keys);
  ~LessonObserver();
  LessonObserver(const LessonObserver&) = delete;
  LessonObserver& operator=(const LessonObserver&) = delete;

  // The title and the introduction (and, guided, a key to start).
  void introduce();
  // After run_lesson(): the challenge's verdict, the recap, what comes next.
  void finish(const LessonOutcome& outcome);

  void step_started(const LessonStep& step) override;
  void box_started(const Block& a, const BoxSession& box) override;
  void typed(const std::string& command, const Typed& t) override;
  void host_ran(const Block& a, const HostRun& run) override;
  void judged(const LessonStep& step, const Expectation& e, const Judgement& v) override;
  bool attempt_challenge(const LessonStep& challenge, const Block& solution, BoxSession& box,
                         const DriverConfig& config) override;
  std::optional<ChallengeChecked> challenge_checked() override;

 private:
  void check_stop();
  void write(std::string_view text);
  std::string styled(std::string_view style, std::string_view text) const;
  int prose_width() const;
  void show_prose(std::string_view markdown);
  void prose_up_to(size_t action_index);
  void sync_to(const Block* a);
  // Waits for the student's key before what comes `next` (a_step: the next step, which 1-9 may
  // skip to).
  void between_steps(std::string_view next, bool a_step = false);
  char choose(std::string_view hint, std::string_view keys);
  // The screen is full: a "more" line until the student wants the next page or line.
  void more();
  // Keeps what the screen shows from now on as the screen called `label` (for b, r and 1-9).
  void new_screen(std::string label);
  // Shows screen number `index` again, paged, under a line that says which it is.
  void show_screen_again(size_t index);
  // Hands the student the box's shell until they come back; ends the lesson when the box ended.
  bool enter_live_shell(BoxSession& box, std::string_view purpose);
  // A typed command as the terminal showed it: prompt, command, output. The last command of a
  // box block right above a host block holds its output back, to show it beside the host's.
  enum class Output { Show, HoldForHost };
  void show_typed(const std::string& command, const Typed& t, const BoxSession& box, Output output);
  void show_held_output();
  // How a box block at `index` is compared with the host block right after it: not at all, by
  // its last command (the host runs the same one), or as a whole (an expectation below
  // compares the two outputs). Whether command number `command` of it waits for the host's.
  enum class HostCompare { None, LastCommand, WholeBlock };
  static HostCompare host_compares(const LessonStep& step, size_t index);
  static bool holds_for_host(const LessonStep& step, size_t index, size_t command);
  void show_probes(BoxSession& box);
  void show_host(const Block& a, const HostRun& run);
  void show_verdict(const Judgement& v);
  struct CheckResult {
    std::vector<Judgement> missed;
    bool ran = true;  // false: the box or the host script failed before every check ran
    std::string problem;
    ChallengeChecked checked;  // for run_lesson()'s outcome
  };
  CheckResult run_challenge_check(const LessonStep& challenge, size_t after, BoxSession& box,
                                  const DriverConfig& config);

  const Lesson& lesson_;
  ScreenSettings settings_;
  const DriverConfig& config_;
  TerminalOut& out_;
  Keyboard* keys_;

  int steps_total_ = 0;
  int steps_shown_ = 0;
  const LessonStep* step_ = nullptr;
  const LessonStep* recap_ = nullptr;
  size_t prose_shown_ = 0;      // of step_->prose
  size_t action_ = 0;           // the action of step_ the callbacks are about
  size_t typed_in_action_ = 0;  // commands of that action shown so far
  const BoxSession* box_ = nullptr;
  std::optional<std::string> held_box_output_;
  bool probes_shown_ = false;
  std::optional<ChallengeChecked> checked_;  // the challenge's last check
  bool challenge_seen_ = false;
  bool challenge_passed_ = false;
  std::vector<int> missed_lines_;  // of the expectations shown with a ✗
  // Every screen so far, as written: [0] the introduction, [n] step n, then the challenge. A
  // deque, so that the one being written stays where TerminalOut keeps appending to it.
  struct Screen {
    std::string label;
    std::string text;
  };
  std::deque<Screen> screens_;
  size_t viewing_ = 0;  // the screen `b` showed last (0: none yet since the last step began)
  int skip_to_ = 0;     // 1-9 pressed for a later step: the steps before it run unseen
  int skipped_from_ = 0;
};

}  // namespace nslab::lessons
