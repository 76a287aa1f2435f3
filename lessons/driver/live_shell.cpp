// The live shell (live_shell.h): WayBack following the student's line, and the loop that
// passes keys to the box's terminal and what it draws to the screen.
#include "live_shell.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "box_pty.h"
#include "keyboard.h"
#include "terminal_out.h"
#include "text.h"

namespace nslab::lessons {

namespace {

using text::starts_with;
using text::trim;

}  // namespace

size_t WayBack::feed(std::string_view keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    char c = keys[i];
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\x1d') return i;  // Ctrl-]
    if (escape_ == 1) {
      escape_ = (c == '[' || c == 'O') ? 2 : 0;
      continue;
    }
    if (escape_ == 2) {
      if (u >= 0x40 && u <= 0x7e) escape_ = 0;
      continue;
    }
    if (c == '\x1b') {  // arrows, Home, history: the line is no longer what we followed
      escape_ = 1;
      known_ = false;
      continue;
    }
    if (c == '\r' || c == '\n') {
      std::string_view t = trim(line_);
      bool leave = known_ && (t == "exit" || starts_with(t, "exit "));
      line_.clear();
      known_ = true;
      if (leave) return i;
      continue;
    }
    if (c == '\x04') {  // Ctrl-D: the shell would end on an empty line
      if (known_ && line_.empty()) return i;
      continue;
    }
    if (c == '\x03' || c == '\x15') {  // Ctrl-C drops the line; Ctrl-U cuts it (cursor at end)
      if (c == '\x03' || known_) {
        line_.clear();
        known_ = true;
      }
      continue;
    }
    if (c == '\x7f' || c == '\b') {
      while (!line_.empty() && (static_cast<unsigned char>(line_.back()) & 0xC0) == 0x80)
        line_.pop_back();
      if (!line_.empty()) line_.pop_back();
      continue;
    }
    if (u < 0x20) {  // another editing key (Ctrl-A, Ctrl-W, ...)
      known_ = false;
      continue;
    }
    line_ += c;
  }
  return std::string_view::npos;
}

namespace {

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// The box's terminal gets the student's size, so its line editor wraps where they see it.
void copy_terminal_size(int from, int to) {
  winsize size{};
  if (::ioctl(from, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) ::ioctl(to, TIOCSWINSZ, &size);
}

}  // namespace

ShellEnd live_shell(BoxSession& box, Keyboard& keys) {
  int term = box.terminal();
  copy_terminal_size(keys.fd(), term);
  keys.raw();
  struct BackToSingleKeys {
    Keyboard& keys;
    ~BackToSingleKeys() { keys.single_keys(Keyboard::Typeahead::Keep); }
  } back{keys};
  // Ctrl-U (cut to the start of an empty line) makes the line editor draw its prompt again.
  write_all(term, "\x15");
  WayBack way_back;
  int resizes = terminal_resizes();
  char buf[4096];
  for (;;) {
    pollfd fds[2] = {{keys.fd(), POLLIN, 0}, {term, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno != EINTR) return ShellEnd::BoxEnded;
      StopSignals::throw_if_caught();
      // The student's terminal changed size: so does the box's.
      if (terminal_resizes() != resizes) {
        resizes = terminal_resizes();
        copy_terminal_size(keys.fd(), term);
      }
      continue;
    }
    if (fds[1].revents) {
      ssize_t n = ::read(term, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return ShellEnd::BoxEnded;  // EIO: nothing holds the box's terminal any more
      write_all(1, std::string_view(buf, static_cast<size_t>(n)));
    }
    if (fds[0].revents) {
      ssize_t n = ::read(keys.fd(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return ShellEnd::KeyboardGone;
      std::string_view typed(buf, static_cast<size_t>(n));
      size_t back = way_back.feed(typed);
      write_all(term, typed.substr(0, back));
      if (back != std::string_view::npos) return ShellEnd::Back;
    }
  }
}

}  // namespace nslab::lessons
