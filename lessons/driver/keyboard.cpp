// The student's keyboard and the stop signals (keyboard.h): the terminal's modes for single
// keys and for the live shell, and the handler that turns SIGINT, SIGTERM and SIGHUP into a flag.
#include "keyboard.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace nslab::lessons {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
// The self-pipe: the handler writes a byte after setting the flag (write(2) is safe in a
// handler), so a poll() that starts after the signal still wakes at once.
int g_wake[2] = {-1, -1};

void on_stop_signal(int sig) {
  if (g_stop_signal == 0) g_stop_signal = sig;
  int saved = errno;
  if (g_wake[1] >= 0) {
    [[maybe_unused]] ssize_t n = ::write(g_wake[1], "s", 1);
  }
  errno = saved;
}

constexpr int kStopSignals[3] = {SIGINT, SIGTERM, SIGHUP};

}  // namespace

StopSignals::StopSignals() {
  g_stop_signal = 0;
  if (::pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) < 0) g_wake[0] = g_wake[1] = -1;
  struct ::sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a wait for a key or a pause returns at once with EINTR
  for (int i = 0; i < 3; ++i) ::sigaction(kStopSignals[i], &sa, &old_[i]);
}

StopSignals::~StopSignals() {
  for (int i = 0; i < 3; ++i) ::sigaction(kStopSignals[i], &old_[i], nullptr);
  for (int& fd : g_wake) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

int StopSignals::wake_fd() {
  return g_wake[0];
}

void StopSignals::throw_if_caught() {
  if (int sig = g_stop_signal) throw LessonStopped{128 + sig};
}

Keyboard::Keyboard(int fd) : fd_(fd) {
  have_saved_ = ::tcgetattr(fd_, &saved_) == 0;
}

Keyboard::~Keyboard() {
  restore();
}

void Keyboard::restore() {
  if (have_saved_) ::tcsetattr(fd_, TCSANOW, &saved_);
}

void Keyboard::raw() {
  if (!have_saved_) return;
  termios t = saved_;
  cfmakeraw(&t);
  // Output as before: the box's shell writes "\r\n" itself, the lesson's text relies on ONLCR.
  t.c_oflag = saved_.c_oflag;
  ::tcsetattr(fd_, TCSANOW, &t);
}

void Keyboard::single_keys(Typeahead typeahead) {
  if (!have_saved_) return;
  termios t = saved_;
  t.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  t.c_lflag |= ISIG;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  ::tcsetattr(fd_, typeahead == Typeahead::Discard ? TCSAFLUSH : TCSANOW, &t);
}

char Keyboard::key() {
  char c = 0;
  for (;;) {
    // A read alone would miss a Ctrl-C that came between the hint and the read: it would set
    // the flag, then the read would wait for a key that never comes.
    StopSignals::throw_if_caught();
    pollfd fds[2] = {{fd_, POLLIN, 0}, {StopSignals::wake_fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return 'q';
    StopSignals::throw_if_caught();
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t n = ::read(fd_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\x04') return 'q';  // end of input, Ctrl-D
    if (c == '\r' || c == '\n') return '\n';
    return c;
  }
}

}  // namespace nslab::lessons
