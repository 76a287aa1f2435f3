// What tinysh does so that it can be PID 1: signals are never left to their default action.
//
// In a PID namespace the first process is its "init". The kernel protects it: a signal whose
// action is the default (SIGTERM, SIGUSR1, even SIGKILL when sent from inside) is simply dropped,
// and when init exits the kernel kills every other process of the namespace. A signal from an
// ancestor namespace (the host) is dropped the same way unless init handles it — or blocks it:
// the kernel then queues it, since init may still take it. Orphans — processes whose parent died
// — are re-parented to init, which must wait() for them or they stay zombies forever. See
// pid_namespaces(7) and signal(7).
//
// tinysh blocks every signal it can handle and reads them from a signalfd (signalfd(2)), so it
// handles each one at a moment of its choosing, with no race between "check a flag" and "sleep".
// "From outside" below means a sender with no PID in tinysh's namespace (the host, or the kernel:
// sender 0) or tinysh's parent (nslab's runner, a test); anyone else is inside.
//   SIGCHLD                  a child changed state: reap it (jobs and orphans alike)
//   SIGTSTP SIGTTIN SIGTTOU  job-control stops: never applied to the shell itself, nor passed on
//   SIGINT SIGQUIT           from the terminal or kill: passed on to the foreground job; with no
//                            job, PID 1 and a shell at a prompt ignore them (Ctrl-C at the prompt
//                            is a key the line editor reads), a script's shell exits 128+N
//   SIGWINCH SIGURG SIGCONT  by default they end nothing: passed on to the foreground job, except
//                            a terminal's own SIGWINCH (a resize), which the terminal already
//                            sent to the job's group; with no job, nothing happens
//   SIGPIPE SIGXFSZ          made by the shell's own write (to a closed pipe, past RLIMIT_FSIZE):
//                            dropped, the failed write is reported instead; otherwise as below
//   every other one          SIGTERM SIGHUP SIGUSR1 SIGUSR2 SIGALRM SIGABRT SIGPWR SIGRTMIN+N ...
//                            (their default ends a process): passed on to the foreground job;
//                            with no job the shell exits 128+N (SIGUSR1: 138), as if it had
//                            died of it — but PID 1 and a shell at a prompt ignore one sent from
//                            inside, so a `kill` typed in the box never ends the box. A SIGHUP
//                            that ends the shell is passed on to its background jobs too.
//   never blocked            SIGKILL and SIGSTOP (they cannot be); SIGSEGV SIGBUS SIGILL SIGFPE
//                            SIGTRAP SIGSYS, which a faulting instruction raises and which must be
//                            delivered at once: a fault in tinysh is an ordinary crash. Sent with
//                            kill to PID 1, the kernel drops them.
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
  int code = 0;      // si_code: SI_USER for kill(2), SI_KERNEL for one the kernel made (a
                     // terminal's Ctrl-C or resize), ... (sigaction(2))
};

// Blocks every signal tinysh handles (all but the six fault signals and the two that cannot be
// caught), opens the signalfd, marks every inherited fd above 2 close-on-exec so programs
// started by the shell never receive the launcher's open files.
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
