// The student's keyboard, and the signals that stop a lesson.
//
// A lesson on a screen reads single keys (Enter, s, q, 1-9) with the terminal's echo off, and
// hands the terminal over raw for the live shell; whatever mode it leaves the terminal in, the
// student's shell gets the modes back as they were (termios(3)). SIGINT, SIGTERM and SIGHUP
// (signal(7)) do not kill nslab while a box runs: they are caught, cut a wait for a key short,
// and end the lesson by throwing LessonStopped, so the box goes with the unwinding.
#pragma once

#include <signal.h>
#include <termios.h>

namespace nslab::lessons {

// Thrown to end a lesson early; the command turns it into its exit status.
struct LessonStopped {
  int status = 0;  // 0 for q; 128+N for signal N (130 for Ctrl-C)
};

// SIGINT, SIGTERM and SIGHUP end a lesson cleanly: while a StopSignals lives, they only set a
// flag (and cut waits short); the observer sees it and stops. The old handlers come back after.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // Throws LessonStopped{128+N} when signal N was caught.
  static void throw_if_caught();
  // Readable once a stop signal was caught (-1 without a StopSignals): a wait for a key polls
  // it too, so a signal that comes just before the wait begins is not lost.
  static int wake_fd();

 private:
  struct ::sigaction old_[3];
};

// The student's keyboard: stdin, a terminal. Restores the terminal's modes when it ends.
class Keyboard {
 public:
  explicit Keyboard(int fd);
  ~Keyboard();
  Keyboard(const Keyboard&) = delete;
  Keyboard& operator=(const Keyboard&) = delete;

  // Keys one at a time, not echoed, signals on (Ctrl-C ends the lesson): the mode key() reads
  // in. Discard drops what was typed before.
  enum class Typeahead { Keep, Discard };
  void single_keys(Typeahead typeahead);
  // The next key (in single_keys mode): '\n' for Enter, 'q' when the input ends or for Ctrl-D.
  // Throws LessonStopped when a stop signal came (Ctrl-C).
  char key();
  // Every key as it is typed, nothing interpreted (Ctrl-C included): for the live shell.
  void raw();
  // The terminal's modes as they were.
  void restore();
  int fd() const { return fd_; }

 private:
  int fd_;
  termios saved_{};
  bool have_saved_ = false;
};

}  // namespace nslab::lessons
