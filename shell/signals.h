// Signal names and numbers, both ways: "TERM", "SIGTERM", "term" and "15" all mean 15.
// Pure code, unit-tested and fuzzed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tinysh {

std::optional<int> parse_signal(std::string_view text);
std::string signal_name(int signo);  // "SIGTERM", or "SIGRTMIN+3", or "signal 99"

// Whether the signal's default action ends a process (with or without a core dump): true for
// SIGTERM, SIGUSR1, SIGRTMIN+N and most others; false for those whose default is to do nothing
// (SIGCHLD, SIGURG, SIGWINCH), to continue (SIGCONT) or to stop (SIGSTOP, SIGTSTP, SIGTTIN,
// SIGTTOU). See signal(7).
bool ends_process_by_default(int signo);

// The signals a faulting instruction raises in the thread that ran it: SIGSEGV, SIGBUS, SIGILL,
// SIGFPE, and SIGTRAP (a breakpoint) and SIGSYS (a system call seccomp traps). They must be
// delivered on the spot, so tinysh never blocks them.
bool raised_by_a_fault(int signo);

}  // namespace tinysh
