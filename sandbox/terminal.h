// The box's terminal: a session of its own, and, when nslab runs on a terminal, a
// pseudo-terminal of its own that the runner relays. terminal.cpp says why (TIOCSTI).
#pragma once

#include <poll.h>
#include <termios.h>

#include <array>
#include <string>

#include "fd.h"
#include "result.h"

namespace sandbox {

// A pseudo-terminal (pty(7)): the master stays with nslab, the slave goes to the box.
struct Pty {
  Fd master;
  Fd slave;
  std::string slave_path;  // "/dev/pts/7": its name in the devpts instance it comes from
};

// A new pty on the host's /dev/ptmx, with the modes and window size of the terminal open at
// `like` (nslab's stdin).
Result<Pty> open_host_pty(int like);
// A new pty of the devpts instance mounted at /dev/pts under `root` (a box's root, opened from
// the host), likewise. `nslab enter` gives it to the shell it starts, whose `tty` then names
// a device the box has.
Result<Pty> open_pty_under(int root, int like);

// The calling process starts a session (setsid(2)); with `terminal` >= 0, that terminal becomes
// its controlling terminal and replaces each standard stream that `replace` marks. Run by a
// box's first process and by the shell `nslab enter` starts, just before they exec.
Status start_session(int terminal, const std::array<bool, 3>& replace);

// The runner's side while a box runs on a pty: nslab's own terminal in raw mode, every key to the
// master, everything the box shows to nslab's screen. The owner polls (want/move) beside its
// signals and calls window_changed on SIGWINCH, continued on SIGCONT, drain once the box ended.
// The destructor gives nslab's terminal its modes back, however the box ended.
class TerminalRelay {
 public:
  // `stdio_terminals`: which of nslab's fds 0-2 are terminals. Keys come from stdin; the screen
  // is stdout if it is a terminal, else stderr if it is one, else stdin if open for writing.
  TerminalRelay(Fd master, const std::array<bool, 3>& stdio_terminals);
  ~TerminalRelay();
  TerminalRelay(const TerminalRelay&) = delete;
  TerminalRelay& operator=(const TerminalRelay&) = delete;

  // The fds to poll this round, written to `fds` (room for 2); returns how many.
  size_t want(pollfd* fds) const;
  // Moves the bytes that poll(2) found ready on the fds want() gave.
  void move(const pollfd* fds, size_t count);
  // SIGWINCH: nslab's terminal changed size; the box's follows (and the kernel sends SIGWINCH to
  // the box's foreground process group).
  void window_changed();
  // SIGCONT: nslab was stopped and continued; raw mode again if it is in the foreground.
  void continued();
  // After the box's end: what it wrote and the runner has not shown yet.
  void drain();

 private:
  void take_keys();
  void read_keys();
  void write_keys();
  bool read_screen();
  void show(const char* data, size_t size);

  Fd master_;
  int keys_ = 0;     // nslab's stdin
  int screen_ = -1;  // where the box's output is shown; -1: nowhere
  bool reading_keys_ = false;
  bool master_open_ = true;
  bool raw_ = false;
  bool have_modes_ = false;
  struct termios saved_ {};
  std::string pending_keys_;  // read from stdin, not yet taken by the master
};

}  // namespace sandbox
