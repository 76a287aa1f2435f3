// Where the lesson's screen goes: the student's terminal (stdout) and, with --record, a cast file.
//
// The driver writes its text once, with colors; a destination that takes no colors (a pipe,
// NO_COLOR) gets the same text without them, and the cast gets "\r\n" line ends as a terminal
// would have drawn them. In auto mode a pacing model decides when each piece appears: keys at a
// typing pace, a pause after each output and before each step. Its clock is virtual: the
// recording's timestamps come from it, so recording never waits in real time and two recordings
// of a lesson have the same timing. Only the screen of `--auto` really waits. Pacing is
// presentation; nothing here synchronises with the box.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <signal.h>

#include "pager.h"

namespace nslab::lessons {

using namespace std::chrono_literals;

// The few SGR sequences the lesson screen uses.
namespace sgr {
inline constexpr std::string_view reset = "\x1b[0m";
inline constexpr std::string_view bold = "\x1b[1m";
inline constexpr std::string_view dim = "\x1b[2m";
inline constexpr std::string_view underline = "\x1b[4m";
inline constexpr std::string_view red = "\x1b[31m";
inline constexpr std::string_view green = "\x1b[32m";
inline constexpr std::string_view yellow = "\x1b[33m";
inline constexpr std::string_view magenta = "\x1b[35m";
inline constexpr std::string_view cyan = "\x1b[36m";
}  // namespace sgr

// `text` without its SGR sequences (ESC [ ... m); every other byte is kept.
std::string without_sgr(std::string_view text);

// `text` with each "\n" that has no "\r" before it written "\r\n", as a terminal's ONLCR does.
std::string with_crlf(std::string_view text);

// Whether colors are wanted: a terminal, and NO_COLOR unset or empty (https://no-color.org).
bool color_wanted(bool is_terminal, const char* no_color_env);

// The pacing model at speed 1. Deterministic: the same text always gets the same delays.
struct Pacing {
  static constexpr std::chrono::milliseconds key = 60ms;  // about, per key typed
  static constexpr std::chrono::milliseconds after_output = 800ms;
  static constexpr std::chrono::milliseconds before_step = 1500ms;
  static constexpr std::chrono::milliseconds after_prompt = 300ms;  // before the first key
  // The delay before key number `index` of a command (a little more before a space).
  static std::chrono::milliseconds key_delay(size_t index, std::string_view key_text);
  // Time to read `prose`: a base plus a little per word, capped.
  static std::chrono::milliseconds reading(std::string_view prose);
  // Time to read `count` verdicts (✓ and ✗ lines) before the demo goes on.
  static std::chrono::milliseconds verdicts(int count) {
    return std::chrono::milliseconds(1500 + 700 * std::min(count, 6));
  }
};

class CastWriter;

class TerminalOut {
 public:
  struct Options {
    bool to_stdout = true;
    bool stdout_color = false;
    bool cast_color = true;
    int width = 80;              // for wrapping prose
    bool paced = false;          // auto mode: keys one by one, pauses
    bool wait_for_real = false;  // the screen waits as the virtual clock advances
    double speed = 1.0;          // 2: everything twice as fast
    // Guided mode on a terminal: the screen's rows (0: no paging), and whether the size follows
    // the terminal when it is resized (SIGWINCH), as at a projector whose resolution changes.
    int height = 0;
    bool follow_size = false;
  };

  TerminalOut(Options options, CastWriter* cast);
  ~TerminalOut();
  TerminalOut(const TerminalOut&) = delete;
  TerminalOut& operator=(const TerminalOut&) = delete;

  // Writes `text` (with colors, "\n" line ends) now.
  void write(std::string_view text);
  // Types `keys` one character at a time when paced; otherwise writes them at once. A signal
  // stops the typing half-way.
  void type(std::string_view keys);
  // Advances the clock by `at_speed_one` / speed when paced (and waits, on a --auto screen).
  // False when a signal cut the wait short; the caller checks which.
  bool pause(std::chrono::milliseconds at_speed_one);

  double seconds() const { return clock_s_; }  // the virtual clock
  // The screen's width now (it follows a resize when Options::follow_size).
  int width() const;

  // Paging (Options::height): when a write would fill the screen since the last page_starts(),
  // the text stops there and `more` runs (it shows kMoreLine, waits for a key, and calls
  // page_starts() or one_more_line()); then the rest is written.
  void on_page_full(std::function<void()> more) { more_ = std::move(more); }
  // The student pressed a key: what they see now is read, a new page starts.
  void page_starts() { rows_.reset(); }
  void one_more_line() { rows_.reset(page_rows() - 1); }
  // Everything written from now on is also appended to *sink (nullptr: nowhere).
  void keep_transcript(std::string* sink) { transcript_ = sink; }
  // Writes an earlier transcript again, paged, without keeping it a second time.
  void replay(std::string_view transcript);
  // A line for the student that is neither kept, counted nor recorded: a hint waiting for a key.
  void prompt(std::string_view text) {
    if (!muted_) to_stdout(text);
  }
  // While muted nothing reaches the screen (a transcript is still kept).
  void set_muted(bool muted) { muted_ = muted; }
  // Colors for layouts that differ with and without them (side by side): those of the cast when
  // recording, else those of the screen.
  bool color() const;
  bool paced() const { return options_.paced; }
  // stdout went away (a closed pipe); the lesson should stop.
  bool stdout_broken() const { return stdout_broken_; }

 private:
  void to_stdout(std::string_view text);
  void paged_to_stdout(std::string_view text);
  int page_rows() const;

  mutable Options options_;  // width and height change with the terminal
  CastWriter* cast_;
  double clock_s_ = 0;
  bool stdout_broken_ = false;
  mutable RowCounter rows_{80};
  std::function<void()> more_;
  std::string* transcript_ = nullptr;
  bool muted_ = false;
  struct ::sigaction old_winch_ {};
};

// How many times the terminal was resized since the program started (SIGWINCH, while a
// TerminalOut follows the size): the live shell passes a new size on to the box's terminal.
int terminal_resizes();

}  // namespace nslab::lessons
