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
#include "signals.h"

namespace tinysh {

namespace {

int g_signal_fd = -1;

// Every signal tinysh takes through its signalfd: all that can be blocked but the fault signals.
// Signals 32 and 33 are not in it: glibc keeps them for its threads, and SIGRTMIN starts after.
sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int s = 1; s <= SIGRTMAX; ++s) {
    if (s == SIGKILL || s == SIGSTOP || raised_by_a_fault(s)) continue;
    if (s > 31 && s < SIGRTMIN) continue;
    sigaddset(&set, s);
  }
  return set;
}

// Puts every catchable signal back to its default action. Ignored signals stay ignored across
// execve(2), so one the launcher ignored would otherwise leak into the programs we start.
void default_actions() {
  for (int s = 1; s <= SIGRTMAX; ++s) {
    if (s == SIGKILL || s == SIGSTOP || (s > 31 && s < SIGRTMIN)) continue;
    ::signal(s, SIG_DFL);
  }
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
  // Blocked first: a signal that comes before we read our signalfd waits there, instead of
  // killing a shell that is not PID 1 or being dropped by the kernel for one that is.
  sigset_t set = handled_set();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  // Default actions: for the blocked signals they matter only in the children; for the fault
  // signals they make a fault in the shell an ordinary crash.
  default_actions();
  // Called again after a failed `exec`: reuse the fd we have.
  g_signal_fd = ::signalfd(g_signal_fd, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (g_signal_fd < 0)
    write_all(2, fmt::format("tinysh: signalfd: {}\n", errno_text(errno)));
  // SIGPIPE is blocked too: a write to a closed pipe by a builtin running inside the shell then
  // fails with EPIPE and is reported, instead of killing the shell.
}

int signal_fd() { return g_signal_fd; }

std::vector<ReceivedSignal> read_signals(bool block) {
  std::vector<ReceivedSignal> got;
  if (g_signal_fd < 0) return got;
  for (;;) {
    signalfd_siginfo info;
    ssize_t n = ::read(g_signal_fd, &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) {
      got.push_back({static_cast<int>(info.ssi_signo), static_cast<pid_t>(info.ssi_pid),
                     info.ssi_code});
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
  // The actions are the defaults already: init_process set them and the shell never changes
  // them, so a child inherits them. Only SIGPIPE and SIGXFSZ are touched: one that a failed write
  // of the shell left pending would kill the program `exec` starts (pending signals survive
  // execve(2)), and setting "ignore" discards a pending signal (sigaction(2)). A forked child
  // starts with none pending anyway.
  for (int sig : {SIGPIPE, SIGXFSZ}) {
    ::signal(sig, SIG_IGN);
    ::signal(sig, SIG_DFL);
  }
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
