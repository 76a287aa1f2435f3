// What tinysh does so that it can be PID 1: signals are never left to their default action.
//
// In a PID namespace the first process is its "init". The kernel protects it: a signal sent from
// inside the namespace whose action is the default (SIGTERM, SIGINT, even SIGKILL) is simply
// dropped, and when init exits the kernel kills every other process of the namespace. Orphans —
// processes whose parent died — are re-parented to init, which must wait() for them or they stay
// zombies forever. See pid_namespaces(7) and signal(7).
//
// tinysh blocks the signals it cares about and reads them from a signalfd (signalfd(2)), so it
// handles each one at a moment of its choosing, with no race between "check a flag" and "sleep":
//   SIGCHLD                a child changed state: reap it (jobs and orphans alike)
//   SIGINT SIGQUIT         from the terminal or kill: passed on to the foreground job
//   SIGTERM SIGHUP         passed on to the foreground job; with no job, a normal shell exits,
//                          while PID 1 ignores one sent from inside its own namespace
//   SIGTSTP SIGTTIN SIGTTOU  job-control stops: never applied to the shell itself
// Every child gets back an empty signal mask and default actions before it runs anything.
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

namespace tinysh {

struct Shell;

struct ReceivedSignal {
  int signo = 0;
  pid_t sender = 0;  // as seen from this PID namespace; 0 when it came from the kernel or from
                     // a process outside the namespace (the host), which has no PID here
};

// Blocks the handled signals, opens the signalfd, marks every inherited fd above 2 close-on-exec
// so programs started by the shell never receive the launcher's open files.
void init_process(Shell& sh);

// The signalfd, for poll(2) alongside the terminal or stdin.
int signal_fd();

// Reads every pending signal without blocking (or, with `block`, waits for at least one).
std::vector<ReceivedSignal> read_signals(bool block);

// In a freshly forked child: default actions and an empty mask, as a program expects to start.
void reset_signals_for_child();

// Interactive mode: become a process group of our own and the terminal's foreground group.
void take_terminal(Shell& sh);

}  // namespace tinysh
