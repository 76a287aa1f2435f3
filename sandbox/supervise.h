// The runner's life while a box runs: start it, forward signals to it, relay its terminal, and
// turn its end into an exit status.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <string>

#include "launch.h"
#include "plan.h"
#include "result.h"
#include "terminal.h"

namespace sandbox {

// The signals a process may send nslab that it passes on to the box's first process, and why.
//
// Forwarded: what a process sends to tell the program in the box something.
//   SIGTERM SIGINT SIGHUP SIGQUIT  stop (from `kill`, a service manager, `timeout`)
//   SIGUSR1 SIGUSR2                the program's own meaning (reopen logs, dump state, ...)
//   SIGALRM                        `timeout -s ALRM`; the runner sets no alarm of its own
//   SIGPWR                         a power daemon's notice, meant for an init
//   SIGWINCH                       a resize a program announces; the terminal's own resize goes
//                                  to its foreground process group, which is the box's
//   SIGSTKFLT                      unused by Linux: better the box decides than the runner dies
//   SIGRTMIN..SIGRTMAX             the real-time signals, e.g. SIGRTMIN+3, which asks a systemd
//                                  running as init to halt (not in this list: glibc computes
//                                  their numbers at run time; forwarded_signals() adds them)
// Not forwarded, on purpose:
//   SIGCHLD                        the runner's own news: its box ended
//   SIGTSTP SIGTTIN SIGTTOU        job control belongs to the terminal: Ctrl-Z reaches the box's
//                                  foreground group directly, and `kill -TSTP nslab` stops the
//                                  runner alone, as it would any program
//   SIGCONT                        continues the runner after a stop that was the runner's alone;
//                                  passed on, it could wake a job the box's shell keeps stopped
//   SIGPIPE SIGXFSZ SIGXCPU        about the runner's own writes, limits, timers and sockets
//   SIGVTALRM SIGPROF SIGIO SIGURG
//   SIGABRT                        asks for the runner's own core dump
//   SIGSEGV SIGBUS SIGILL SIGFPE   faults of the runner itself: never blocked, they must be
//   SIGTRAP SIGSYS                 delivered on the spot
//   SIGKILL SIGSTOP                cannot be caught; SIGKILL ends the box too (parent-death signal)
// Each is forwarded whoever sent it: the box has a session of its own, so no terminal signals it
// along with nslab (see supervise.cpp); SIGWINCH only when nslab relays no terminal of the box's.
inline constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP,  SIGQUIT,  SIGUSR1,
                                     SIGUSR2, SIGALRM, SIGPWR, SIGWINCH, SIGSTKFLT};

// kForwarded and every real-time signal, as a set.
inline sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) sigaddset(&set, sig);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
  return set;
}

// While nslab waits for a box (run) or an entered shell (enter), the signals it takes one by one
// from a signalfd(2) are blocked: SIGCHLD, kForwarded, and kTerminalSignals. Restores the signal
// mask when nslab is done.
//
// kTerminalSignals are those of nslab's own terminal while it relays the box's: SIGWINCH (the
// window changed size) and SIGCONT (nslab was stopped and continued, maybe in the foreground).
inline constexpr int kTerminalSignals[] = {SIGWINCH, SIGCONT};
class SignalState {
 public:
  SignalState() {
    waited_ = forwarded_signals();
    sigaddset(&waited_, SIGCHLD);
    for (int sig : kTerminalSignals) sigaddset(&waited_, sig);
    ::sigprocmask(SIG_BLOCK, &waited_, &original_mask_);
  }
  ~SignalState() { ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr); }
  SignalState(const SignalState&) = delete;
  SignalState& operator=(const SignalState&) = delete;

  const sigset_t& original_mask() const { return original_mask_; }
  const sigset_t& waited() const { return waited_; }

 private:
  sigset_t waited_{}, original_mask_{};
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
// wait status (>= 0). Meanwhile the signals in kForwarded and the real-time ones are passed on to `pid`, whoever sent
// them: the box has a session of its own, so no terminal signals it along with nslab. With a
// `relay`, the box's pty is relayed at the same time, and drained at the end. Shared by `run`
// and `enter`.
Result<int> wait_forwarding(const SignalState& signals, pid_t pid,
                            const std::function<int()>& poll_exit, TerminalRelay* relay = nullptr);

// Launches the plan and waits for the box's first process to end, relaying its pty when nslab
// is on a terminal. While it runs, the signals in kForwarded and the real-time ones sent to the runner are forwarded to
// the box's first process. `on_start`, if given, is called with the box (its host pid, cgroup,
// veth subnet, notes) once it runs its command, before nslab's terminal turns raw. The box's
// cgroup is removed, and nslab's terminal has its modes back, before this returns.
Result<BoxExit> run_box(const Plan& plan, const std::function<void(const Box&)>& on_start = {});

}  // namespace sandbox
