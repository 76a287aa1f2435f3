// The runner's life while a box runs: start it, forward signals to it, hand the terminal back
// when it ends, and turn its end into an exit status.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <string>

#include "launch.h"
#include "plan.h"
#include "result.h"

namespace sandbox {

// The signals a process may send nslab that it passes on to the box.
inline constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

// While nslab waits for a box (run) or an entered shell (enter): the signals it takes one by one
// with sigwaitinfo(2) are blocked, and the terminal-stop signals ignored while the box has the
// terminal. Restores the signal mask and the SIGTTOU/SIGTTIN dispositions when nslab is done.
class SignalState {
 public:
  SignalState() {
    sigemptyset(&waited_);
    sigaddset(&waited_, SIGCHLD);
    for (int sig : kForwarded) sigaddset(&waited_, sig);
    ::sigprocmask(SIG_BLOCK, &waited_, &original_mask_);
  }
  ~SignalState() {
    if (ignoring_tty_) {
      ::sigaction(SIGTTOU, &old_ttou_, nullptr);
      ::sigaction(SIGTTIN, &old_ttin_, nullptr);
    }
    ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
  }
  SignalState(const SignalState&) = delete;
  SignalState& operator=(const SignalState&) = delete;

  void ignore_terminal_stops() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGTTOU, &ignore, &old_ttou_);
    ::sigaction(SIGTTIN, &ignore, &old_ttin_);
    ignoring_tty_ = true;
  }
  const sigset_t& original_mask() const { return original_mask_; }
  const sigset_t& waited() const { return waited_; }

 private:
  sigset_t waited_{}, original_mask_{};
  struct sigaction old_ttou_ {
  }, old_ttin_{};
  bool ignoring_tty_ = false;
};

struct BoxExit {
  int exit_code = 0;  // when the box's first process exited
  int signal = 0;     // when it was killed by a signal
  // From the kernel's OOM counter of the box's cgroup (never guessed from a SIGKILL): "the box's
  // processes were killed by the OOM killer once (memory limit 32 MiB)", or "".
  std::string oom_report;
  // As a shell's $?: the exit code, or 128+N for death by signal N.
  int status() const { return signal ? 128 + signal : exit_code; }
};

// Takes the signals nslab blocked one by one until `poll_exit` (called on each SIGCHLD) gives a
// wait status (>= 0). Meanwhile SIGTERM, SIGINT, SIGHUP and SIGQUIT that a process sends nslab
// are passed on to `pid`; the same signals from the terminal are not, because the terminal
// already sent them to the foreground process group. Shared by `run` and `enter`.
Result<int> wait_forwarding(const SignalState& signals, pid_t pid,
                            const std::function<int()>& poll_exit);

// Launches the plan and waits for the box's first process to end. While it runs, SIGTERM,
// SIGINT, SIGHUP and SIGQUIT that a process sends to the runner are forwarded to the box's first
// process; the same signals from the terminal (Ctrl-C) are not, because the terminal already sent
// them to the box's process group. `on_start`, if given, is called with the box (its host pid,
// cgroup, veth subnet, notes) once it runs its command. The box's cgroup is removed before this
// returns.
Result<BoxExit> run_box(const Plan& plan, const std::function<void(const Box&)>& on_start = {});

}  // namespace sandbox
