#include "pty_session.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace testing {

PtySession::PtySession(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  PtyOptions options;
  options.env = env;
  start(argv, options);
}

PtySession::PtySession(const std::vector<std::string>& argv, const PtyOptions& options) {
  start(argv, options);
}

void PtySession::start(const std::vector<std::string>& argv, const PtyOptions& options) {
  struct winsize ws = {};
  ws.ws_row = options.rows;
  ws.ws_col = options.cols;
  int slave = -1;
  if (::openpty(&master_, &slave, nullptr, nullptr, &ws) != 0)
    throw std::runtime_error("openpty failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // As login_tty(3): a session of its own, whose controlling terminal is the slave.
    ::setsid();
    ::ioctl(slave, TIOCSCTTY, 0);
    for (int fd = 0; fd < 3; ++fd) ::dup2(slave, fd);
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    for (const auto& e : options.env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::fcntl(master_, F_SETFD, FD_CLOEXEC);
  if (options.keep_slave) {
    slave_ = slave;
    ::fcntl(slave_, F_SETFD, FD_CLOEXEC);
  } else {
    ::close(slave);
  }
}

PtySession::~PtySession() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
  }
  if (master_ >= 0) ::close(master_);
  if (slave_ >= 0) ::close(slave_);
}

bool PtySession::resize(unsigned short rows, unsigned short columns) {
  struct winsize ws = {};
  ws.ws_row = rows;
  ws.ws_col = columns;
  return ::ioctl(master_, TIOCSWINSZ, &ws) == 0;
}

void PtySession::send(std::string_view keys) {
  while (!keys.empty()) {
    ssize_t n = ::write(master_, keys.data(), keys.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    keys.remove_prefix(n);
  }
}

void PtySession::pump(std::chrono::milliseconds timeout) {
  pollfd p = {master_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return;
  char buf[4096];
  ssize_t n = ::read(master_, buf, sizeof buf);
  if (n > 0) output_.append(buf, n);
}

bool PtySession::expect(std::string_view text, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto at = output_.find(text, matched_);
    if (at != std::string::npos) {
      matched_ = at + text.size();
      return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pump(std::min(left, std::chrono::milliseconds(50)));
  }
}

int PtySession::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    pump(std::chrono::milliseconds(20));  // keep draining so the program never blocks on output
  }
  // What the program wrote just before it ended, still in the terminal.
  char buf[4096];
  for (pollfd p = {master_, POLLIN, 0}; ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);) {
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n <= 0) break;
    output_.append(buf, static_cast<size_t>(n));
  }
  return status_;
}

std::string PtySession::terminal_name() const {
  char name[64] = {};
  return ::ptsname_r(master_, name, sizeof name) == 0 ? name : "";
}

termios PtySession::modes() const {
  termios t{};
  ::tcgetattr(slave_ >= 0 ? slave_ : master_, &t);
  return t;
}

std::string PtySession::pending_input() {
  std::string text;
  if (slave_ < 0) return text;
  char buf[4096];
  for (pollfd p = {slave_, POLLIN, 0}; ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);) {
    ssize_t n = ::read(slave_, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

bool same_modes(const termios& a, const termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
         a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

}  // namespace testing
