// Guided and auto modes (guided.h): the lesson's screen as the steps run, the keys between
// them, the screens seen again, the live shell handed over, and the end of the lesson. The
// challenge's attempt and check are in guided_challenge.cpp.
#include "guided.h"

#include <algorithm>
#include <csignal>
#include <exception>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "keyboard.h"
#include "live_shell.h"
#include "observe.h"
#include "probes.h"
#include "screen.h"
#include "shown_commands.h"
#include "side_by_side.h"
#include "text.h"

namespace nslab::lessons {

namespace {

using text::split_lines;
using text::trim;

// A heading: "── label " and a line to the width (at most 78 columns).
std::string rule(std::string_view label, int width) {
  std::string line = "── " + std::string(label) + " ";
  int used = text_columns(line);
  for (int i = used; i < std::min(width, 78); ++i) line += "─";
  return line;
}

std::string indent_lines(std::string_view text, std::string_view by) {
  std::string out;
  for (auto line : split_lines(text)) {
    out += by;
    out += line;
    out += '\n';
  }
  return out;
}

std::string first_lines(std::string_view text, size_t most) {
  auto lines = split_lines(text);
  std::string out;
  for (size_t i = 0; i < lines.size() && i < most; ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  if (lines.size() > most) out += fmt::format("\n… ({} more lines)", lines.size() - most);
  return out;
}

bool ends_with_newline(std::string_view s) {
  return !s.empty() && s.back() == '\n';
}

}  // namespace

LessonObserver::LessonObserver(const Lesson& lesson, ScreenSettings settings,
                               const DriverConfig& config, TerminalOut& out, Keyboard* keys)
    : lesson_(lesson), settings_(std::move(settings)), config_(config), out_(out), keys_(keys) {
  for (const auto& s : lesson.steps) steps_total_ += s.kind == LessonStep::Kind::Step;
  if (keys_ && settings_.mode == Mode::Guided) out_.on_page_full([this] { more(); });
}

LessonObserver::~LessonObserver() {
  out_.on_page_full(nullptr);
  out_.keep_transcript(nullptr);
}

void LessonObserver::check_stop() {
  StopSignals::throw_if_caught();
  if (out_.stdout_broken()) throw LessonStopped{128 + SIGPIPE};
}

void LessonObserver::write(std::string_view text) {
  out_.write(text);
  check_stop();
}

std::string LessonObserver::styled(std::string_view style, std::string_view text) const {
  return std::string(style) + std::string(text) + std::string(sgr::reset);
}

void LessonObserver::show_prose(std::string_view markdown) {
  // The author's <!-- pause Ns --> lines hold a demo where they stand (prose.h).
  for (const auto& piece : prose_pieces(markdown)) {
    if (!trim(piece.text).empty()) {
      std::string text = wrap_prose(piece.text, prose_width(), out_.color());
      write("\n" + text + (ends_with_newline(text) ? "" : "\n"));
      if (settings_.mode == Mode::Auto) out_.pause(Pacing::reading(piece.text));
    }
    if (settings_.mode == Mode::Auto) out_.pause(piece.pause);
    check_stop();
  }
}

// Shows the step's prose written above action `index` (all of it past the last action).
void LessonObserver::prose_up_to(size_t index) {
  if (!step_) return;
  size_t until =
      index < step_->blocks.size() ? step_->blocks[index].prose_before : step_->prose.size();
  until = std::min(until, step_->prose.size());
  if (until > prose_shown_)
    show_prose(std::string_view(step_->prose).substr(prose_shown_, until - prose_shown_));
  prose_shown_ = std::max(prose_shown_, until);
}

void LessonObserver::sync_to(const Block* a) {
  if (!step_ || step_->blocks.empty()) return;
  const Block* first = &step_->blocks.front();
  if (a < first || a > &step_->blocks.back()) return;
  size_t index = static_cast<size_t>(a - first);
  if (a->kind != Block::Kind::RunOnHost) show_held_output();
  if (index != action_) typed_in_action_ = 0;
  action_ = index;
  prose_up_to(index);
}

char LessonObserver::choose(std::string_view hint, std::string_view keys) {
  // Before the hint shows: keys pressed while the step ran (a second Enter) are dropped, so
  // none of them skips a step the student has not seen.
  keys_->single_keys(Keyboard::Typeahead::Discard);
  out_.prompt("\n" + styled(sgr::dim, fit_keys_line(hint, out_.width())));
  for (;;) {
    char k = keys_->key();
    check_stop();
    if (keys.find(k) != std::string_view::npos) {
      // The hint has done its work: on a terminal it is erased and the cursor goes back to the
      // blank line above it, so the screen reads as if it had never been there.
      out_.prompt(settings_.screen_is_terminal ? "\r\x1b[K\x1b[A" : "\n");
      out_.page_starts();
      return k;
    }
  }
}

void LessonObserver::more() {
  // While a stop unwinds (q, Ctrl-C), what the box's end still writes does not wait for a key.
  if (std::uncaught_exceptions() > 0) return;
  keys_->single_keys(Keyboard::Typeahead::Discard);
  out_.prompt(styled(std::string(sgr::dim) + "\x1b[7m", fit_keys_line(kMoreLine, out_.width())));
  for (;;) {
    char k = keys_->key();
    check_stop();
    if (k != ' ' && k != '\n' && k != 'q' && k != 'Q') continue;
    out_.prompt(settings_.screen_is_terminal ? "\r\x1b[K" : "\n");
    if (k == 'q' || k == 'Q') {
      out_.on_page_full(nullptr);
      throw LessonStopped{0};
    }
    if (k == ' ')
      out_.page_starts();
    else
      out_.one_more_line();
    return;
  }
}

void LessonObserver::new_screen(std::string label) {
  screens_.push_back({std::move(label), {}});
  out_.keep_transcript(&screens_.back().text);
  viewing_ = 0;
}

void LessonObserver::show_screen_again(size_t index) {
  if (index >= screens_.size()) return;
  const Screen& screen = screens_[index];
  out_.prompt("\n" + styled(std::string(sgr::bold) + std::string(sgr::yellow),
                            rule("Again: " + screen.label, out_.width())) +
              "\n");
  out_.replay(screen.text);
  out_.prompt("\n" + styled(std::string(sgr::bold) + std::string(sgr::yellow),
                            rule("End of " + screen.label, out_.width())) +
              "\n");
}

void LessonObserver::between_steps(std::string_view next, bool a_step) {
  if (settings_.mode == Mode::Auto) {
    out_.pause(Pacing::before_step);
    check_stop();
    return;
  }
  if (skip_to_ > 0) {
    // Running the steps before the one the student asked for: they have to run (each builds
    // on the box of the one before), unseen; b and 1-9 show them afterwards.
    if (a_step && steps_shown_ < skip_to_) return;
    out_.set_muted(false);
    int last = steps_shown_ - (a_step ? 1 : 0);
    std::string ran = last == skipped_from_
                          ? fmt::format("Step {} ran without being shown", last)
                          : fmt::format("Steps {} to {} ran without being shown", skipped_from_,
                                        last);
    write("\n" + styled(sgr::dim, wrap_prose("(" + ran + ": b or a step's number shows it.)",
                                              prose_width(), false)));
    skip_to_ = 0;
    return;
  }
  for (;;) {
    bool shell = box_ != nullptr;
    std::string hint = fmt::format("Enter: {}{} · ?: more keys · q: quit", next,
                                   shell ? " · s: shell in the box" : "");
    char k = choose(hint, "\nsSqQ?rRbBpP123456789");
    if (k == 'q' || k == 'Q') throw LessonStopped{0};
    if (k == '\n') return;
    if (k == '?') {
      out_.prompt(
          "\n" +
          wrap_prose("Enter: go on · s: a shell in the box, to look around (Ctrl-] comes back) · "
                     "r: this step again · b: the step before (again: the one before that) · "
                     "1 to 9: that step (a later one runs the steps before it unseen) · q: quit "
                     "(the box goes with the lesson) · Space at a \"more\" line: the next page",
                     prose_width(), false));
      continue;
    }
    size_t current = screens_.empty() ? 0 : screens_.size() - 1;
    if (k == 'r' || k == 'R') {
      show_screen_again(current);
    } else if (k == 'b' || k == 'B' || k == 'p' || k == 'P') {
      viewing_ = viewing_ == 0 ? current : viewing_;
      if (viewing_ > 0) --viewing_;
      show_screen_again(viewing_);
    } else if (k >= '1' && k <= '9') {
      int wanted = k - '0';
      if (wanted < static_cast<int>(screens_.size())) {
        show_screen_again(static_cast<size_t>(wanted));
      } else if (a_step && wanted == steps_shown_) {
        return;
      } else if (a_step && wanted <= steps_total_) {
        skip_to_ = wanted;
        skipped_from_ = steps_shown_;
        out_.set_muted(true);
        return;
      } else {
        out_.prompt("\n" +
                    styled(sgr::dim, fmt::format("(No step {} to go to from here.)", wanted)) +
                    "\n");
      }
    } else if (shell) {
      // The box belongs to run_lesson(), which shows it to observers as const so they do not
      // end it; the live shell only types into its terminal and reads what it draws.
      enter_live_shell(const_cast<BoxSession&>(*box_), "explore");
    }
  }
}

void LessonObserver::introduce() {
  // For the whole lesson keys are read one by one and not echoed, so a key pressed while a
  // step runs does not land in the middle of its output. Keyboard's destructor restores.
  if (keys_) keys_->single_keys(Keyboard::Typeahead::Keep);
  new_screen("the introduction");
  write(styled(std::string(sgr::bold) + std::string(sgr::underline), lesson_.title) + "\n");
  show_prose(lesson_.intro);
  if (settings_.mode == Mode::Guided) {
    write("\n" + styled(sgr::dim, wrap_prose("This lesson starts boxes and types into them for "
                                             "you. After each step you can open a shell in the "
                                             "box and look around.",
                                             prose_width(), false)));
  }
}

void LessonObserver::step_started(const LessonStep& step) {
  check_stop();
  show_held_output();
  prose_up_to(step_ ? step_->blocks.size() : 0);  // what the previous step wrote below its blocks
  if (step.kind == LessonStep::Kind::Recap) {
    recap_ = &step;  // shown at the end, after the challenge
    return;
  }
  std::string label;
  if (step.kind == LessonStep::Kind::Challenge) {
    challenge_seen_ = true;
    between_steps("the challenge");
    label = "Challenge";
    new_screen("the challenge");
  } else {
    ++steps_shown_;
    between_steps(steps_shown_ == 1 ? "start" : "next step", true);
    label = fmt::format("Step {} of {} · {}", steps_shown_, steps_total_, step.title);
    new_screen(fmt::format("step {}", steps_shown_));
  }
  write("\n" + styled(std::string(sgr::bold) + std::string(sgr::cyan), rule(label, out_.width())) +
        "\n");
  step_ = &step;
  prose_shown_ = 0;
  action_ = 0;
  typed_in_action_ = 0;
  prose_up_to(0);
}

void LessonObserver::box_started(const Block& a, const BoxSession& box) {
  check_stop();
  box_ = &box;
  sync_to(&a);
  std::string flags = a.flags.empty() ? "" : " " + fmt::format("{}", fmt::join(a.flags, " "));
  write("\n" + styled(sgr::dim, wrap_prose("A new box: nslab run" + flags, out_.width(), false)));
  if (box.veth()) {
    // The driver typed `export BOX_ADDR=... HOST_ADDR=...` as the box started; the lesson says
    // so, and the student sees it as it was typed.
    std::string screen = screen_text(box.raw());
    size_t at = screen.rfind("export BOX_ADDR=");
    if (at != std::string::npos) {
      size_t begin = screen.rfind('\n', at);
      begin = begin == std::string::npos ? 0 : begin + 1;
      size_t end = screen.find('\n', at);
      write("\n" + styled(std::string(sgr::bold) + std::string(sgr::green),
                          screen.substr(begin, at - begin)));
      out_.type(screen.substr(at, end == std::string::npos ? std::string::npos : end - at));
      write("\n");
    }
  }
  if (!probes_shown_ && settings_.probes) {
    probes_shown_ = true;
    // The box belongs to run_lesson(), which lends it as const so observers do not end it; the
    // probes only type commands into it, as the lesson's own blocks do.
    show_probes(const_cast<BoxSession&>(box));
  }
}

void LessonObserver::show_probes(BoxSession& box) {
  auto now = collect_probes(box, config_);
  if (!now) {
    write(
        styled(sgr::dim, "(the standard probes could not be run: " + now.error().message() + ")") +
        "\n");
    return;
  }
  std::optional<ProbeTable> before;
  if (settings_.previous_flags) {
    auto previous = probes_for_flags(*settings_.previous_flags, config_);
    if (previous) before = std::move(*previous);
  }
  mark_changes(*now, before ? &*before : nullptr);
  std::string heading = std::string("The standard probes, in this box and on the host") +
                        (before ? " (» what changed since the previous lesson):" : ":");
  write("\n" + wrap_prose(heading, out_.width(), false) +
        render_probe_table(*now, {out_.width(), out_.color()}));
  out_.pause(Pacing::reading(heading) + Pacing::after_output);
  check_stop();
}

void LessonObserver::show_typed(const std::string& command, const Typed& t, const BoxSession& box,
                                Output output) {
  PromptLine line = last_prompt_line(box.raw(), command);
  write(styled(std::string(sgr::bold) + std::string(sgr::green), line.prompt));
  if (out_.paced()) out_.pause(Pacing::after_prompt);
  out_.type(command);
  write("\n");
  check_stop();
  if (output == Output::HoldForHost) {
    // Several commands held for one comparison are one column, as the check sees them.
    std::string& held = held_box_output_ ? *held_box_output_ : held_box_output_.emplace();
    if (!held.empty() && !t.output.empty() && !ends_with_newline(held)) held += '\n';
    held += t.output;
    return;
  }
  if (!t.output.empty()) write(t.output + (ends_with_newline(t.output) ? "" : "\n"));
  out_.pause(Pacing::after_output);
  check_stop();
}

void LessonObserver::show_held_output() {
  if (!held_box_output_) return;
  std::string output = std::move(*held_box_output_);
  held_box_output_.reset();
  if (!output.empty()) write(output + (ends_with_newline(output) ? "" : "\n"));
}

LessonObserver::HostCompare LessonObserver::host_compares(const LessonStep& step, size_t index) {
  if (index + 1 >= step.blocks.size()) return HostCompare::None;
  const Block& box = step.blocks[index];
  const Block& host = step.blocks[index + 1];
  if (box.kind != Block::Kind::TypeInBox || host.kind != Block::Kind::RunOnHost)
    return HostCompare::None;
  // The expectations below compare the two outputs: the whole box block, as the check does.
  for (size_t k = index + 2; k < step.blocks.size(); ++k) {
    const Block& a = step.blocks[k];
    if (a.kind != Block::Kind::Expect) break;
    for (const auto& e : a.expectations)
      if (e.kind == CheckKind::DiffersFromHost || e.kind == CheckKind::SameAsHost)
        return HostCompare::WholeBlock;
  }
  // Or the host runs the block's last command.
  if (!box.commands.empty() && runs_same_command(box.commands.back(), host.script))
    return HostCompare::LastCommand;
  return HostCompare::None;
}

bool LessonObserver::holds_for_host(const LessonStep& step, size_t index, size_t command) {
  switch (host_compares(step, index)) {
    case HostCompare::None:
      return false;
    case HostCompare::LastCommand:
      return command + 1 == step.blocks[index].commands.size();
    case HostCompare::WholeBlock:
      return true;
  }
  return false;
}

void LessonObserver::typed(const std::string& command, const Typed& t) {
  check_stop();
  if (!step_ || !box_) return;
  // The command belongs to the action being typed, or to the next box or solution block.
  size_t k = action_;
  auto is_typing = [&](size_t i) {
    auto kind = step_->blocks[i].kind;
    return kind == Block::Kind::TypeInBox || kind == Block::Kind::Solution;
  };
  if (!(k < step_->blocks.size() && is_typing(k) &&
        typed_in_action_ < step_->blocks[k].commands.size())) {
    size_t next = k + 1;
    while (next < step_->blocks.size() && !is_typing(next)) ++next;
    if (next < step_->blocks.size()) sync_to(&step_->blocks[next]);
  }
  ++typed_in_action_;
  if (typed_in_action_ == 1) write("\n");
  // A box block right above a host block it is compared with: its output waits, to be shown
  // beside the host's.
  bool hold = action_ < step_->blocks.size() &&
              holds_for_host(*step_, action_, typed_in_action_ - 1);
  show_typed(command, t, *box_, hold ? Output::HoldForHost : Output::Show);
}

int LessonObserver::prose_width() const {
  // Long lines are hard to follow on a wide terminal; the lessons are written at 100 columns.
  return std::min(out_.width(), 88);
}

void LessonObserver::show_host(const Block& a, const HostRun& run) {
  write("\n");
  auto lines = split_lines(a.script);
  auto continued = continuation_lines(a.script);
  for (size_t i = 0; i < lines.size(); ++i) {
    bool more = i < continued.size() && continued[i];
    write(styled(std::string(sgr::bold) + std::string(sgr::magenta), more ? "> " : "host$ "));
    if (!more && out_.paced()) out_.pause(Pacing::after_prompt);
    out_.type(lines[i]);
    write("\n");
  }
  if (held_box_output_) {
    std::string box = std::move(*held_box_output_);
    held_box_output_.reset();
    write(side_by_side(box, run.output, {out_.width(), out_.color()}));
  } else if (!run.output.empty()) {
    write(run.output + (ends_with_newline(run.output) ? "" : "\n"));
  }
  out_.pause(Pacing::after_output);
  check_stop();
}

void LessonObserver::host_ran(const Block& a, const HostRun& run) {
  check_stop();
  sync_to(&a);
  show_host(a, run);
}

void LessonObserver::show_verdict(const Judgement& v) {
  if (v.passed) {
    write(styled(sgr::green, "✓ ") + v.expected + "\n");
    return;
  }
  write(styled(std::string(sgr::bold) + std::string(sgr::red), "✗ ") + v.expected + "\n");
  if (!v.seen.empty())
    write(styled(sgr::dim, indent_lines(first_lines("seen: " + v.seen, 8), "    ")));
}

void LessonObserver::judged(const LessonStep& step, const Expectation& e, const Judgement& v) {
  check_stop();
  if (!v.passed) missed_lines_.push_back(e.line);
  if (&step != step_) return;
  for (const auto& a : step.blocks) {
    if (a.kind != Block::Kind::Expect || a.expectations.empty()) continue;
    if (&e >= &a.expectations.front() && &e <= &a.expectations.back()) {
      bool first = &e == &a.expectations.front();
      sync_to(&a);
      if (first) write("\n");
      show_verdict(v);
      // A demo holds on the verdicts long enough to read them, more for more of them.
      if (&e == &a.expectations.back())
        out_.pause(Pacing::verdicts(static_cast<int>(a.expectations.size())));
      check_stop();
      return;
    }
  }
  show_verdict(v);
}

bool LessonObserver::enter_live_shell(BoxSession& box, std::string_view purpose) {
  write("\n" +
        styled(std::string(sgr::bold) + std::string(sgr::yellow),
               wrap_prose("The box's shell is yours: " + std::string(purpose) + ".",
                          prose_width(), false)) +
        styled(sgr::dim, wrap_prose("Ctrl-] or exit brings you back to the lesson; Ctrl-C goes "
                                    "to the box's shell.",
                                    prose_width(), false)));
  ShellEnd end = live_shell(box, *keys_);
  out_.page_starts();
  write("\r\n");
  if (end == ShellEnd::KeyboardGone) throw LessonStopped{128 + SIGHUP};
  if (end == ShellEnd::BoxEnded) {
    write(styled(std::string(sgr::bold) + std::string(sgr::red),
                 "The box's shell has ended, and the box with it.") +
          fmt::format(" Start the lesson again with: {}{} lesson {}\n", settings_.sudo,
                      settings_.nslab, settings_.lesson_number));
    throw LessonStopped{1};
  }
  // Whatever the student left running or half-typed is dropped, and the driver's next command
  // starts at a fresh prompt.
  auto ready = box.resync();
  if (!ready) {
    write(styled(sgr::red, "The box's shell does not answer any more: ") + ready.error().message() +
          "\n");
    throw LessonStopped{1};
  }
  write(styled(sgr::dim, "Back in the lesson.") + "\n");
  return true;
}

void LessonObserver::finish(const LessonOutcome& outcome) {
  // A jump ahead that the lesson never reached (it stopped on the way): the end is seen.
  if (skip_to_ > 0) {
    out_.set_muted(false);
    skip_to_ = 0;
  }
  check_stop();
  show_held_output();
  prose_up_to(step_ ? step_->blocks.size() : 0);
  // Expectations were shown with their ✗ as they were judged; what else went wrong (a box that
  // did not start or stopped answering, a host block that hung) is said here.
  std::vector<const Miss*> problems;
  for (const auto& m : outcome.misses)
    if (std::find(missed_lines_.begin(), missed_lines_.end(), m.line) == missed_lines_.end())
      problems.push_back(&m);
  if (!problems.empty()) {
    write("\n" +
          styled(std::string(sgr::bold) + std::string(sgr::red), "The lesson could not go on:") +
          "\n");
    for (const Miss* m : problems) {
      write(fmt::format("  step \"{}\", line {}: {}\n", m->step, m->line, m->what));
      if (!m->seen.empty()) write(indent_lines(first_lines(m->seen, 8), "    "));
    }
    write(
        fmt::format("  `{0}{1} check {2} -v` shows every command it types; `{0}{1} doctor` "
                    "what this machine supports.\n",
                    settings_.sudo, settings_.nslab, settings_.lesson_number));
  }
  if (recap_) {
    if (settings_.mode == Mode::Guided && !challenge_seen_ && problems.empty()) {
      between_steps("the recap");
    } else if (settings_.mode == Mode::Auto) {
      out_.pause(Pacing::before_step);
    }
    new_screen("the recap");
    write("\n" +
          styled(std::string(sgr::bold) + std::string(sgr::cyan), rule("Recap", out_.width())) +
          "\n");
    show_prose(recap_->prose);
  }
  write("\n");
  if (challenge_seen_ && !challenge_passed_)
    write(fmt::format("The challenge is still open: {}{} lesson {} to try it again.\n",
                      settings_.sudo, settings_.nslab, settings_.lesson_number));
  if (!problems.empty())
    // The lesson stopped half-way (its box was killed, a host block hung): the next lesson
    // would build on what this one did not show.
    write(fmt::format("Start it again with: {}\n",
                      styled(sgr::bold, fmt::format("{}{} lesson {}", settings_.sudo,
                                                    settings_.nslab, settings_.lesson_number))));
  else if (settings_.next_lesson)
    write(
        fmt::format("Next: {}\n", styled(sgr::bold, fmt::format("{}{} lesson {}",
                                                                settings_.next_sudo,
                                                                settings_.nslab,
                                                                *settings_.next_lesson))));
  else
    write("That was the last lesson.\n");
}

}  // namespace nslab::lessons