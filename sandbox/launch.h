// launch(): execute a Plan. Clones the box's first process, does the runner's part while the box
// waits on the sync pipe, releases it, and returns once the box has exec'd its command (or with
// the error of the step that failed, reported by the box over a pipe).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "bridge.h"
#include "cgroup.h"
#include "child.h"
#include "fd.h"
#include "keeper.h"
#include "net.h"
#include "plan.h"
#include "result.h"

namespace sandbox {

// The box's first process, as the host sees it. Owns it: unless it has been waited for or
// released, the destructor kills it with SIGKILL and reaps it, so no error path leaves a box
// running. It also owns what the runner made for the box: its cgroup, removed after the process
// is gone (killing whatever the box left inside), the address of its veth, which the kernel
// deletes with the box's network namespace, its seat on a bridge, left after the process is gone,
// and the master of its pty.
class Box {
 public:
  explicit Box(pid_t pid) : child_(pid) {}
  ~Box();
  Box(Box&& other) noexcept;
  Box& operator=(Box&&) = delete;
  Box(const Box&) = delete;

  pid_t pid() const { return child_.pid(); }
  // waitpid() without blocking: the wait status once the process has ended, else -1.
  int poll_exit();
  // Blocks until the process ends; returns its wait status.
  int wait_exit();
  // Gives up ownership: the destructor will leave the process alone.
  pid_t release();

  // The box's cgroup, with --pids/--memory/--cpus (its OOM count is read before the Box goes).
  const cgroup::BoxCgroup* cgroup() const { return cgroup_ ? &*cgroup_ : nullptr; }
  // With --veth or --bridge: the host's link, the box's address and the host's.
  const std::optional<BoxLink>& link() const { return link_; }
  // Things the runner met on the way that are not errors (a stale cgroup it had to leave).
  const std::vector<std::string>& notes() const { return notes_; }
  // On a terminal: the master of the box's pty (-1 otherwise), and taking it over for the relay.
  int terminal() const { return terminal_.get(); }
  Fd take_terminal() { return std::move(terminal_); }
  // Without --pid: the box's session and cgroup are swept once its first process has ended
  // (keeper.h); poll_exit and wait_exit do it before they return.

 private:
  friend Result<Box> launch(const Plan& plan, const sigset_t& box_signal_mask);
  Child child_;
  std::optional<cgroup::BoxCgroup> cgroup_;
  std::optional<BoxLink> link_;
  std::optional<BridgeSeat> seat_;  // after child_: the port goes once the box is reaped
  std::vector<std::string> notes_;
  Fd terminal_;
  std::optional<Keeper> keeper_;
  std::vector<std::string> cgroup_procs_;
  void sweep();
};

// `box_signal_mask` is the mask the box's command starts with (the runner's mask before it
// blocked the signals it supervises).
Result<Box> launch(const Plan& plan, const sigset_t& box_signal_mask);

// The host's tinysh, opened for reading (a box, or a shell entering one, runs a copy of it),
// with the hint that says how to get it when it is missing.
Result<Fd> open_host_tinysh(const std::string& path);

// How a process between fork and exec (a box's first process, or the one `nslab enter` starts)
// tells its parent why it could not exec: the Error written to a close-on-exec pipe as four
// NUL-terminated fields, which the parent reads back whole; end of file with nothing read means
// the exec succeeded. report_error() never returns: it exits with launch_failure_status().
[[noreturn]] void report_error(int report_fd, const Error& error);
// The Error in what the parent read from the report pipe.
Error read_reported_error(const std::string& text);

// What a failed launch means as an exit status, like a shell's: 127 when the command was not
// found in the box, 126 when it could not be executed, 125 for any other setup failure.
int launch_failure_status(const Error& error);

}  // namespace sandbox
