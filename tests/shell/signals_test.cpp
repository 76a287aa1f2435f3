// Signal names and numbers, and the two facts about each signal that tinysh's PID 1 decides by:
// whether its default action ends a process, and whether a faulting instruction raises it.
#include <doctest/doctest.h>
#include <signal.h>

#include "signals.h"

using namespace tinysh;

TEST_CASE("signal names parse in every spelling, and numbers up to SIGRTMAX") {
  CHECK(parse_signal("USR1") == SIGUSR1);
  CHECK(parse_signal("sigusr2") == SIGUSR2);
  CHECK(parse_signal("SIGWINCH") == SIGWINCH);
  CHECK(parse_signal("15") == SIGTERM);
  CHECK(parse_signal(std::to_string(SIGRTMIN + 3)) == SIGRTMIN + 3);
  CHECK_FALSE(parse_signal("NOPE"));
  CHECK_FALSE(parse_signal(std::to_string(SIGRTMAX + 1)));
  CHECK(signal_name(SIGUSR1) == "SIGUSR1");
  CHECK(signal_name(SIGRTMIN + 3) == "SIGRTMIN+3");
}

TEST_CASE("the signals whose default action ends a process, and those whose default does not") {
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM,
                  SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSEGV, SIGKILL,
                  SIGRTMIN, SIGRTMIN + 3, SIGRTMAX}) {
    CAPTURE(sig);
    CHECK(ends_process_by_default(sig));
  }
  // Ignored, continued or stopped by default: an idle PID 1 must not end for these.
  for (int sig : {SIGCHLD, SIGURG, SIGWINCH, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU}) {
    CAPTURE(sig);
    CHECK_FALSE(ends_process_by_default(sig));
  }
  CHECK_FALSE(ends_process_by_default(0));
  CHECK_FALSE(ends_process_by_default(SIGRTMAX + 1));
}

TEST_CASE("the fault signals are told apart from the ones a process sends") {
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS}) {
    CAPTURE(sig);
    CHECK(raised_by_a_fault(sig));
  }
  for (int sig : {SIGUSR1, SIGUSR2, SIGTERM, SIGABRT, SIGPIPE, SIGWINCH, SIGKILL, SIGRTMIN}) {
    CAPTURE(sig);
    CHECK_FALSE(raised_by_a_fault(sig));
  }
}
