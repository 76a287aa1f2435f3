// Drives a program through a pseudo-terminal, as a person at a keyboard would: type keys, wait
// for text to appear on the screen, read what was shown; and look at the terminal itself (its
// modes, its size, what waits in its input queue).
#pragma once

#include <sys/types.h>
#include <termios.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace testing {

struct PtyOptions {
  std::vector<std::string> env;  // extra NAME=value entries
  unsigned short rows = 40, cols = 120;
  // The test keeps the slave open as well: the terminal then outlives the program, and
  // pending_input() can read what is left in its input queue after the program ended.
  bool keep_slave = false;
};

class PtySession {
 public:
  // Starts argv on a new pty (the pty becomes its controlling terminal, as in a login: setsid(),
  // ioctl(TIOCSCTTY), stdin, stdout and stderr), with the kernel's default modes.
  explicit PtySession(const std::vector<std::string>& argv,
                      const std::vector<std::string>& env = {});
  PtySession(const std::vector<std::string>& argv, const PtyOptions& options);
  ~PtySession();  // kills what is left of the program and reaps it
  PtySession(const PtySession&) = delete;
  PtySession& operator=(const PtySession&) = delete;

  void send(std::string_view keys);

  // Sets the terminal's size, as a terminal window being resized does; the kernel then sends
  // SIGWINCH to the terminal's foreground process group. False when the ioctl failed.
  bool resize(unsigned short rows, unsigned short columns);

  // Waits until `text` appears in the output after the last match; false on timeout.
  bool expect(std::string_view text,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

  // Everything the program printed so far, and what came since the last successful expect().
  const std::string& output() const { return output_; }
  std::string since_last_match() const { return output_.substr(matched_); }

  // Waits for the program to end; returns its status as a shell's $? (128+N for signal N), or -1
  // on timeout.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

  pid_t pid() const { return pid_; }

  // The terminal's name (ptsname(3)): "/dev/pts/3".
  std::string terminal_name() const;
  // The terminal's modes now (tcgetattr(3)).
  termios modes() const;
  // With keep_slave: what waits in the terminal's input queue for the next reader (with the
  // default, canonical modes: the complete lines), read without blocking.
  std::string pending_input();

 private:
  void start(const std::vector<std::string>& argv, const PtyOptions& options);
  void pump(std::chrono::milliseconds timeout);  // reads whatever arrives within timeout

  int master_ = -1;
  int slave_ = -1;  // with keep_slave
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
  std::string output_;
  size_t matched_ = 0;
};

// Whether two sets of terminal modes are the same: flags and control characters.
bool same_modes(const termios& a, const termios& b);

}  // namespace testing
