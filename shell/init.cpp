#include "init.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "builtin.h"
#include "shell.h"

namespace tinysh {

namespace {

constexpr int kHandled[] = {SIGCHLD, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU};

int g_signal_fd = -1;

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kHandled) sigaddset(&set, s);
  return set;
}

// close_range(2) with CLOSE_RANGE_CLOEXEC (Linux 5.11); a loop over /proc/self/fd would need
// /proc, which a fresh box may not have yet.
void mark_inherited_fds_cloexec() {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == 0) return;
#endif
  for (int fd = 3; fd < 1024; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

}  // namespace

void init_process(Shell& sh) {
  sh.pid = ::getpid();
  mark_inherited_fds_cloexec();
  // Actions inherited as "ignore" survive execve(2); put the handled ones back to default so
  // nothing the launcher ignored leaks into the programs we start (blocking overrides them here).
  for (int s : kHandled) ::signal(s, SIG_DFL);
  sigset_t set = handled_set();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  // Called again after a failed `exec`: reuse the fd we have.
  g_signal_fd = ::signalfd(g_signal_fd, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (g_signal_fd < 0)
    write_all(2, fmt::format("tinysh: signalfd: {}\n", errno_text(errno)));
  // A closed pipe must give a write error, not kill a builtin running inside the shell.
  ::signal(SIGPIPE, SIG_IGN);
}

int signal_fd() { return g_signal_fd; }

std::vector<ReceivedSignal> read_signals(bool block) {
  std::vector<ReceivedSignal> got;
  if (g_signal_fd < 0) return got;
  for (;;) {
    signalfd_siginfo info;
    ssize_t n = ::read(g_signal_fd, &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) {
      got.push_back({static_cast<int>(info.ssi_signo), static_cast<pid_t>(info.ssi_pid)});
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (!got.empty() || !block) break;
    // Nothing pending and asked to wait: sleep until a signal arrives.
    pollfd p = {g_signal_fd, POLLIN, 0};
    ::poll(&p, 1, -1);
  }
  return got;
}

void reset_signals_for_child() {
  for (int s : kHandled) ::signal(s, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
}

void take_terminal(Shell& sh) {
  // A process group of our own (fails harmlessly when we already lead a session), then the
  // terminal's foreground. SIGTTOU is blocked, so tcsetpgrp works even from the background.
  ::setpgid(0, 0);
  sh.shell_pgid = ::getpgrp();
  sh.terminal_fd = 0;
  if (::tcsetpgrp(0, sh.shell_pgid) != 0)
    write_all(2, fmt::format("tinysh: cannot take the terminal (tcsetpgrp: {}); job control is off\n",
                             errno_text(errno)));
}

}  // namespace tinysh
