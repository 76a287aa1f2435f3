// What a box without --pid leaves behind, and who ends it.
//
// With --pid the kernel ends a box whole: its PID 1 dies with the runner (PR_SET_PDEATHSIG) and
// the end of a namespace's init kills every process in it. Without one, the box's first process
// dies the same way, but what it started in the background is re-parented to the host's init and
// would live on. Every box runs in a session of its own (setsid(2), terminal.cpp), and what the
// box starts stays in that session unless it calls setsid() itself; so nslab ends a box by its
// session, and by its cgroup when it has one (--pids, --memory, --cpus), which no process of
// the box can leave:
//   - when the box's first process has ended, the runner kills what is left (SweepBox);
//   - when the runner itself is killed (SIGKILL, which it cannot catch), a keeper does: a small
//     process forked by the runner before the clone, in a session of its own, that blocks on a
//     socket from the runner. The kernel closes the runner's end when the runner dies, however it
//     dies; end of file without the runner's "done" means: end the box now.
// Why not a subreaper (PR_SET_CHILD_SUBREAPER) alone: the box's orphans would come to the
// runner while it lives, but once the runner is gone they go on to its parent, and the lesson
// driver runs boxes next to processes of its own that it must not kill. A process of a box
// without --pid and without a cgroup that calls setsid() itself leaves the session and escapes
// both: `nslab explain` says so, and --pid or a limit closes that too.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "fd.h"
#include "result.h"

namespace sandbox {

// The keeper's name (comm), set before Keeper::start() returns: it is the runner's child too.
inline constexpr const char* kKeeperName = "nslab-keeper";

// The processes (not zombies) whose session is `session`, and those listed in the given
// cgroup.procs files, without the caller.
std::vector<pid_t> box_processes(pid_t session, const std::vector<std::string>& cgroup_procs);

// SIGKILL to each of box_processes() (through a pidfd, so a pid reused meanwhile is not hit),
// then waits for them to end; again until none is left, a bounded number of rounds.
void sweep_box(pid_t session, const std::vector<std::string>& cgroup_procs);

class Keeper {
 public:
  // Forks the keeper. `cgroup_procs`: the box's cgroup.procs files, if it has a cgroup.
  static Result<Keeper> start(std::vector<std::string> cgroup_procs);
  Keeper(Keeper&& other) noexcept;
  Keeper& operator=(Keeper&&) = delete;
  Keeper(const Keeper&) = delete;
  // done(), if it was not called.
  ~Keeper();

  // After the clone: which session is the box's (its first process's pid).
  Status watch(pid_t box);
  // The runner has ended the box itself: the keeper exits without a sweep, and is reaped.
  void done();

 private:
  Keeper(pid_t pid, Fd to_keeper) : pid_(pid), to_keeper_(std::move(to_keeper)) {}
  pid_t pid_ = -1;
  Fd to_keeper_;
};

}  // namespace sandbox
