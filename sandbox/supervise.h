// The runner's life while a box runs: start it, forward signals to it, hand the terminal back
// when it ends, and turn its end into an exit status.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "launch.h"
#include "plan.h"
#include "result.h"

namespace sandbox {

struct BoxExit {
  int exit_code = 0;  // when the box's first process exited
  int signal = 0;     // when it was killed by a signal
  // From the kernel's OOM counter of the box's cgroup (never guessed from a SIGKILL): "the box's
  // processes were killed by the OOM killer once (memory limit 32 MiB)", or "".
  std::string oom_report;
  // As a shell's $?: the exit code, or 128+N for death by signal N.
  int status() const { return signal ? 128 + signal : exit_code; }
};

// Launches the plan and waits for the box's first process to end. While it runs, SIGTERM,
// SIGINT, SIGHUP and SIGQUIT that a process sends to the runner are forwarded to the box's first
// process; the same signals from the terminal (Ctrl-C) are not, because the terminal already sent
// them to the box's process group. `on_start`, if given, is called with the box (its host pid,
// cgroup, veth subnet, notes) once it runs its command. The box's cgroup is removed before this
// returns.
Result<BoxExit> run_box(const Plan& plan, const std::function<void(const Box&)>& on_start = {});

}  // namespace sandbox
