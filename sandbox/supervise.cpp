// Supervising a running box from the runner.
//
// Signals: the runner blocks the signals it cares about and reads them one by one from a
// signalfd(2), polled together with the box's terminal when it relays one, so none is lost
// between the clone and the wait. Those of kForwarded (SIGTERM, SIGINT, SIGUSR1, ...) and the
// real-time ones are forwarded to the box's first process whoever sent them — `kill`, a service
// manager, or nslab's own terminal
// (Ctrl-C when nslab's stdin is not that terminal, a hangup). None reaches the box another way:
// the box runs in a session of its own (terminal.cpp), outside the process group a terminal
// signals. On a terminal, the relay puts nslab's terminal in raw mode, so Ctrl-C there is a byte
// for the box's own terminal, which signals the box's foreground job itself.
//
// Terminal: nslab keeps its terminal's foreground all along; the box never touches it. The box's
// own terminal is relayed (TerminalRelay), and its modes come back when run_box returns.
#include "supervise.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "launch.h"

namespace sandbox {

Result<int> wait_forwarding(const SignalState& signals, pid_t pid,
                            const std::function<int()>& poll_exit, TerminalRelay* relay) {
  int fd = ::signalfd(-1, &signals.waited(), SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return make_error("signalfd()", errno);
  Fd signal_fd(fd);
  for (;;) {
    pollfd fds[3] = {{signal_fd.get(), POLLIN, 0}, {}, {}};
    size_t count = 1 + (relay ? relay->want(fds + 1) : 0);
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      return make_error("poll()", errno);
    }
    if (relay) relay->move(fds + 1, count - 1);
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo info{};
    while (::read(signal_fd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      int sig = static_cast<int>(info.ssi_signo);
      if (sig == SIGCHLD) {
        int status = poll_exit();
        if (status < 0) continue;
        if (relay) relay->drain();
        return status;
      }
      // nslab's own terminal: a new size for the box's pty, or nslab back from a stop. Without a
      // relay a SIGWINCH someone sent is passed on like the rest.
      if (sig == SIGWINCH && relay) {
        relay->window_changed();
        continue;
      }
      if (sig == SIGCONT) {
        if (relay) relay->continued();
        continue;
      }
      ::kill(pid, sig);
    }
  }
}

Result<BoxExit> run_box(const Plan& plan, const std::function<void(const Box&)>& on_start) {
  SignalState signals;
  auto launched = launch(plan, signals.original_mask());
  if (!launched) return launched.error();
  Box& box = *launched;
  // The notes are printed while nslab's terminal still turns "\n" into "\r\n".
  if (on_start) on_start(box);
  std::optional<TerminalRelay> relay;
  if (box.terminal() >= 0) relay.emplace(box.take_terminal(), plan.caller.stdio_terminals);

  auto waited = wait_forwarding(
      signals, box.pid(), [&box] { return box.poll_exit(); }, relay ? &*relay : nullptr);
  if (!waited) return waited.error();
  int status = *waited;

  BoxExit exit;
  if (WIFEXITED(status)) exit.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
  // Read while the cgroup still exists: ~Box removes it when this function returns.
  if (box.cgroup()) exit.oom_report = box.cgroup()->oom_report();
  return exit;
}

}  // namespace sandbox
